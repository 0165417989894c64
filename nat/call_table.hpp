#pragma once
// The calls a worker's SIP engines follow (ARCHITECTURE.md "dialog table"): one entry per Call-ID (as the
// inside party knows it), from the INVITE to its end, with the state the messages so far put it in, for
// the show commands (FortiOS `diagnose sys sip-proxy calls list`, `diagnose sys sip dialog list`). An
// ended call stays listed briefly, then goes (sooner when a new call needs its place in a full table);
// so does one nothing was heard of for its timeout. Fixed capacity, allocation-free after construction.
#include "nat/open_index.hpp"
#include "nat/policy_calls.hpp"
#include "nat/voip.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace sipalg::nat {

enum class call_state : std::uint8_t {
    calling,  // INVITE sent, no answer yet (RFC 3261 §17.1.1 "Calling"/"Proceeding")
    ringing,  // a provisional response beyond 100 (early dialog, §12.1)
    answered, // 2xx to the INVITE: the dialog is confirmed
    ended,    // BYE, CANCEL or a failure response
};

constexpr const char* call_state_name(call_state s) noexcept
{
    switch (s) {
    case call_state::calling:
        return "calling";
    case call_state::ringing:
        return "ringing";
    case call_state::answered:
        return "answered";
    case call_state::ended:
        return "ended";
    }
    return "?";
}

struct call_entry {
    std::uint64_t key = 0;       // sip::nat_summary::call_key
    std::uint32_t created = 0;   // table time
    std::uint32_t answered = 0;  // table time of the 2xx, 0 before
    std::uint32_t updated = 0;   // the last message
    std::uint32_t ended = 0;     // table time of the end, 0 while the call lasts
    std::uint32_t policy_id = 0;
    std::uint64_t tag = 0;       // the caller's From tag, hashed (0: none)
    std::uint32_t deadline = 0;  // table time by which the INVITE must be answered (provisional-invite-expiry-time)
    std::uint32_t idle_since = 0; // answered, no media session alive since this table time (0: media flows)
    call_state state = call_state::calling;
    sip_engine engine = sip_engine::none;
    std::uint8_t call_id_length = 0;
    bool in_use = false;
    bool media = false;             // (in a copy for the show commands: a media session of it is alive)
    std::int16_t voip_profile = -1; // the VoIP profile of its signalling session (-1: none)
    // Where the INVITE came from and went, as it arrived (diagnose sys sip-proxy filter).
    std::uint32_t src = 0;
    std::uint32_t dst = 0;
    std::uint16_t sport = 0;
    std::uint16_t dport = 0;
    std::array<char, 64> call_id{}; // the Call-ID as carried by the INVITE (cut at 64 bytes)

    std::string_view call_id_text() const noexcept
    {
        return {call_id.data(), call_id_length};
    }
};

class call_table {
public:
    static constexpr std::uint32_t none = open_index::none;

    // `counts`: where the calls of each policy are counted, shared with the other workers' tables (null:
    // a table of its own).
    explicit call_table(std::uint32_t capacity, policy_calls* counts = nullptr)
        : slots_(capacity), own_counts_(counts == nullptr ? std::make_unique<policy_calls>() : nullptr),
          counts_(counts == nullptr ? own_counts_.get() : counts), index_(capacity), ended_(capacity)
    {
        free_.reserve(capacity);
        for (std::uint32_t i = capacity; i > 0; --i) {
            free_.push_back(i - 1);
        }
    }

    std::uint32_t find(std::uint64_t key) const noexcept
    {
        return index_.find(hash(key), [&](std::uint32_t s) { return slots_[s].key == key; });
    }
    // Asks for where the index keeps `key` to be brought into the cache; prefetch(key) soon after then
    // finds it there.
    [[gnu::always_inline]] void prefetch_index(std::uint64_t key) const noexcept
    {
        index_.prefetch_position(hash(key));
    }
    // Asks for the entry of `key` to be brought into the cache (both its lines): a find or upsert
    // soon after finds it there.
    [[gnu::always_inline]] void prefetch(std::uint64_t key) const noexcept
    {
        index_.prefetch(hash(key), [&](std::uint32_t s) {
            __builtin_prefetch(reinterpret_cast<const char*>(&slots_[s]) + sizeof(call_entry) - 1);
            return &slots_[s];
        });
    }
    // The entry of `key`, made when absent for a call of policy `policy_id` (none when the table is full).
    std::uint32_t upsert(std::uint64_t key, std::uint32_t now, std::uint32_t policy_id = 0) noexcept
    {
        if (const std::uint32_t found = find(key); found != none) {
            return found;
        }
        if (free_.empty()) {
            reclaim_ended();
        }
        if (free_.empty()) {
            return none;
        }
        const std::uint32_t slot = free_.back();
        free_.pop_back();
        slots_[slot] = call_entry{};
        slots_[slot].key = key;
        slots_[slot].created = now;
        slots_[slot].updated = now;
        slots_[slot].policy_id = policy_id;
        slots_[slot].in_use = true;
        index_.insert(hash(key), slot);
        ++used_;
        count_state(call_state::calling, 1);
        live(policy_id, 1);
        return slot;
    }
    // The call ends (it stays listed a while).
    void end(std::uint32_t slot, std::uint32_t now) noexcept
    {
        call_entry& c = slots_[slot];
        if (c.state != call_state::ended) {
            count_state(c.state, -1);
            count_state(call_state::ended, 1);
            c.state = call_state::ended;
            c.ended = now;
            live(c.policy_id, -1);
            // Remembered in the order calls end: a new call takes the place of the oldest ended one
            // when the table is full (the oldest position is overwritten when this ring is).
            const auto cap = static_cast<std::uint32_t>(ended_.size());
            if (ended_count_ == cap) {
                ended_first_ = (ended_first_ + 1) % cap;
                --ended_count_;
            }
            ended_[(ended_first_ + ended_count_++) % cap] = slot;
        }
    }
    // A call rings or is answered (end() ends it).
    void set_state(call_entry& c, call_state s) noexcept
    {
        if (c.state != s) {
            count_state(c.state, -1);
            count_state(s, 1);
            c.state = s;
        }
    }
    // The calls in this table in state `s` (read by the control core at any time: a value at most a
    // moment old, never torn).
    std::uint32_t in_state(call_state s) const noexcept
    {
        auto& v = const_cast<std::uint32_t&>(states_[static_cast<std::size_t>(s)]);
        return std::atomic_ref<std::uint32_t>(v).load(std::memory_order_relaxed);
    }
    // Calls of a policy not yet ended, in every table that counts with this one (FortiOS max-dialogs
    // counts these).
    std::uint32_t live_calls(std::uint32_t policy_id) const noexcept
    {
        return counts_->live(policy_id);
    }
    void remove(std::uint32_t slot) noexcept
    {
        if (!slots_[slot].in_use) {
            return;
        }
        if (slots_[slot].state != call_state::ended) {
            live(slots_[slot].policy_id, -1);
        }
        count_state(slots_[slot].state, -1);
        index_.erase(hash(slots_[slot].key), slot, [this](std::uint32_t x) { return hash(slots_[x].key); });
        slots_[slot].in_use = false;
        free_.push_back(slot);
        --used_;
    }
    // Within `budget` slots from where the last call stopped: removes calls ended more than `linger` ago
    // and calls silent for `idle`; ends calls whose INVITE was not answered by its deadline, handing
    // each to on_unanswered(entry) (which closes what the call opened).
    template <class F>
    unsigned expire(std::uint32_t now, std::uint32_t linger, std::uint32_t idle, std::uint32_t budget, F&& on_unanswered) noexcept
    {
        unsigned n = 0;
        const auto size = static_cast<std::uint32_t>(slots_.size());
        for (std::uint32_t k = 0; k < budget && k < size; ++k) {
            const std::uint32_t i = cursor_;
            cursor_ = cursor_ + 1 == size ? 0 : cursor_ + 1;
            call_entry& c = slots_[i];
            if (!c.in_use) {
                continue;
            }
            if ((c.state == call_state::calling || c.state == call_state::ringing) && static_cast<std::int32_t>(now - c.deadline) >= 0) {
                end(i, now);
                c.updated = now;
                on_unanswered(c);
            } else if ((now - c.updated) >= (c.state == call_state::ended ? linger : idle)) {
                remove(i);
                ++n;
            }
        }
        return n;
    }
    call_entry& at(std::uint32_t slot) noexcept
    {
        return slots_[slot];
    }
    // Hands f(slot, entry) the calls in use among `budget` slots from where the last visit stopped;
    // whether the visit went past the last slot (a pass over the table ended).
    template <class F>
    bool visit(std::uint32_t budget, F&& f)
    {
        bool wrapped = false;
        const auto size = static_cast<std::uint32_t>(slots_.size());
        for (std::uint32_t k = 0; k < budget && k < size; ++k) {
            const std::uint32_t i = visit_cursor_;
            if (++visit_cursor_ == size) {
                visit_cursor_ = 0;
                wrapped = true;
            }
            if (slots_[i].in_use) {
                f(i, slots_[i]);
            }
        }
        return wrapped;
    }
    std::uint32_t size() const noexcept
    {
        return used_;
    }
    std::size_t bytes_allocated() const noexcept
    {
        return slots_.size() * sizeof(call_entry) + free_.capacity() * sizeof(std::uint32_t) + index_.bytes() +
               (own_counts_ ? sizeof(policy_calls) : 0) + ended_.size() * sizeof(std::uint32_t);
    }
    template <class F>
    void for_each(F&& f) const
    {
        for (const auto& c : slots_) {
            if (c.in_use) {
                f(c);
            }
        }
    }
    // Every call in use by slot, to change (end) it.
    template <class F>
    void for_each_slot(F&& f)
    {
        for (std::uint32_t i = 0; i < slots_.size(); ++i) {
            if (slots_[i].in_use) {
                f(i, slots_[i]);
            }
        }
    }

private:
    static std::uint32_t hash(std::uint64_t key) noexcept
    {
        return index_hash(key);
    }

    // A full table makes room for a new call: the call that ended first goes (it was only listed, for
    // the show commands). A live call is never put out: at a high call rate ended calls would
    // otherwise fill the table for their whole linger, and new calls, their INVITE deadlines and
    // max-dialogs with them, would go unfollowed. Positions whose call has gone or lives again are
    // passed over.
    void reclaim_ended() noexcept
    {
        const auto cap = static_cast<std::uint32_t>(ended_.size());
        while (ended_count_ != 0) {
            const std::uint32_t s = ended_[ended_first_];
            ended_first_ = (ended_first_ + 1) % cap;
            --ended_count_;
            if (slots_[s].in_use && slots_[s].state == call_state::ended) {
                remove(s);
                return;
            }
        }
    }

    void live(std::uint32_t policy_id, int by) noexcept
    {
        counts_->add(policy_id, by);
    }
    void count_state(call_state s, int by) noexcept
    {
        auto& v = states_[static_cast<std::size_t>(s)];
        std::atomic_ref<std::uint32_t>(v).store(static_cast<std::uint32_t>(static_cast<int>(v) + by), std::memory_order_relaxed);
    }

    std::vector<call_entry> slots_;
    std::unique_ptr<policy_calls> own_counts_;
    std::array<std::uint32_t, 4> states_{}; // by call_state
    policy_calls* counts_;
    open_index index_;
    std::vector<std::uint32_t> free_;
    std::vector<std::uint32_t> ended_; // a ring of slots in the order their calls ended
    std::uint32_t ended_first_ = 0;
    std::uint32_t ended_count_ = 0;
    std::uint32_t used_ = 0;
    std::uint32_t cursor_ = 0;
    std::uint32_t visit_cursor_ = 0;
};

} // namespace sipalg::nat
