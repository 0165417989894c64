#pragma once
// Pinholes a SIP engine opens (ARCHITECTURE.md "pinhole hit: child session"): an inside endpoint and the
// public endpoint it is seen as, for media (an RTP or RTCP port the SDP announced) or a registration (the
// Contact of a REGISTER, activated by its 2xx). A packet without a session that comes from the inside
// endpoint, or goes to the public one from anywhere, creates its session from the pinhole instead of a
// policy. Pinholes of one call are chained so a BYE, CANCEL or failure closes them all; each has an
// expiry. One table per worker, fixed capacity, allocation-free after construction: open-addressing
// indexes (nat/open_index.hpp) by inside endpoint, public endpoint and call.
#include "nat/flow.hpp"
#include "nat/ipv4.hpp"
#include "nat/open_index.hpp"
#include "nat/voip.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace sipalg::nat {

enum class pinhole_kind : std::uint8_t { media, registration, contact };

struct pinhole {
    ipv4_address inside_address = 0; // host order
    ipv4_address public_address = 0;
    std::uint16_t inside_port = 0;
    std::uint16_t public_port = 0;
    std::uint8_t proto = 0;
    pinhole_kind kind = pinhole_kind::media;
    sip_engine engine = sip_engine::none; // for the sessions it creates (a registration's: the SIP engine)
    std::uint8_t voip_flags = 0;
    std::uint64_t call = 0;               // the call's key (sip::nat_summary::call_key), 0: none
    std::uint32_t expires = 0;            // table time
    std::uint32_t policy_id = 0;          // the SIP session's policy, shown on the child sessions
    std::int16_t voip_profile = -1;
    std::uint16_t generation = 0;         // changes whenever the slot is freed: child sessions check it
    std::uint32_t next_in_call = 0xffffffffu;
    std::uint32_t stamp = 0;              // the SDP that last asked for it (a re-INVITE drops the others)
    std::uint32_t parent = 0xffffffffu;   // the SIP session that opened it: it goes when that session goes
    ipv4_address peer = 0;                // the only source it admits inbound (strict-register), 0: any
    std::uint16_t parent_generation = 0;
    bool in_use = false;
    std::uint8_t stream = 0xff;           // a media pinhole's m= line in its SDP (0xff: later than the 255th)
    // A media pinhole: where the other party's media of the stream is (its SDP's c= and m=), so that
    // the inside endpoint's own media to it leaves through this call's public port when the endpoint
    // is in several calls; 0: not known yet.
    ipv4_address remote_address = 0;
    std::uint16_t remote_port = 0;
    // Sessions made through it that are still alive (a media pinhole's: its call's media flows while one
    // does; diagnose sys sip-proxy calls idle lists answered calls with none).
    std::uint16_t sessions = 0;
};

class pinhole_table {
public:
    static constexpr std::uint32_t none = 0xffffffffu;

    explicit pinhole_table(std::uint32_t capacity);

    // Why insert() refused.
    enum class refusal : std::uint8_t { none, full, public_taken, inside_taken, address_limit };

    // Adds a pinhole (chained to its call's others when p.call is set); none when the table is full, the
    // public endpoint is a pinhole's, the inside endpoint is a pinhole's (several media pinholes of
    // different calls may share one: a phone with one media port in several calls), or a media or
    // Contact pinhole would give its inside address more than `per_address` of them (0: no limit).
    std::uint32_t insert(const pinhole& p, std::uint32_t per_address = 0) noexcept;
    refusal last_refusal() const noexcept
    {
        return refusal_;
    }
    void remove(std::uint32_t index) noexcept;
    // Removes every pinhole of a call; returns how many.
    unsigned remove_call(std::uint64_t call) noexcept;
    // Moves the expiry of every pinhole of a call to at least `expires`.
    void refresh_call(std::uint64_t call, std::uint32_t expires) noexcept;
    // Removes what has expired at `now`, up to `budget` slots examined from where the last call stopped.
    unsigned expire(std::uint32_t now, std::uint32_t budget) noexcept;

    std::uint32_t find_inside(std::uint8_t proto, ipv4_address address, std::uint16_t port) const noexcept
    {
        return find_inside_if(proto, address, port, [](const pinhole&) { return true; });
    }
    // The first pinhole of the inside endpoint for which pred(pinhole) holds.
    template <class Pred>
    std::uint32_t find_inside_if(std::uint8_t proto, ipv4_address address, std::uint16_t port, Pred&& pred) const noexcept
    {
        const std::uint64_t key = key_of(proto, address, port);
        return inside_index_.find(hash(key), [&](std::uint32_t s) { return key_in(s, true) == key && pred(slots_[s]); });
    }
    // Media and Contact pinholes of an inside address.
    std::uint32_t count_of(ipv4_address address) const noexcept
    {
        const std::uint32_t c = counts_index_.find(index_hash(address), [&](std::uint32_t x) { return counts_[x].address == address; });
        return c == none ? 0 : counts_[c].n;
    }
    std::uint32_t find_public(std::uint8_t proto, ipv4_address address, std::uint16_t port) const noexcept
    {
        const std::uint64_t key = key_of(proto, address, port);
        return public_index_.find(hash(key), [&](std::uint32_t s) { return key_in(s, false) == key; });
    }
    // Asks for where find_public would look first to be brought into the cache.
    [[gnu::always_inline]] void prefetch_public(std::uint8_t proto, ipv4_address address, std::uint16_t port) const noexcept
    {
        public_index_.prefetch_position(hash(key_of(proto, address, port)));
    }
    const pinhole& at(std::uint32_t index) const noexcept
    {
        return slots_[index];
    }
    pinhole& at(std::uint32_t index) noexcept
    {
        return slots_[index];
    }
    std::uint32_t index_of(const pinhole& p) const noexcept
    {
        return static_cast<std::uint32_t>(&p - slots_.data());
    }
    bool alive(std::uint32_t index, std::uint16_t generation) const noexcept
    {
        return index < slots_.size() && slots_[index].in_use && slots_[index].generation == generation;
    }
    std::uint32_t size() const noexcept
    {
        return used_;
    }
    std::uint32_t capacity() const noexcept
    {
        return static_cast<std::uint32_t>(slots_.size());
    }
    // The table's memory: the slots and its three indexes.
    std::size_t bytes_allocated() const noexcept
    {
        return slots_.size() * sizeof(pinhole) + free_.capacity() * sizeof(std::uint32_t) + inside_index_.bytes() +
               public_index_.bytes() + call_index_.bytes() + counts_.size() * sizeof(address_count) +
               free_counts_.capacity() * sizeof(std::uint32_t) + counts_index_.bytes();
    }
    // Asks for where the call index keeps a call to be brought into the cache (for prefetch_call).
    [[gnu::always_inline]] void prefetch_call_index(std::uint64_t call) const noexcept
    {
        call_index_.prefetch_position(call_hash(call));
    }
    // Asks for the first pinhole of a call to be brought into the cache.
    [[gnu::always_inline]] void prefetch_call(std::uint64_t call) const noexcept
    {
        call_index_.prefetch(call_hash(call), [&](std::uint32_t s) { return &slots_[s]; });
    }
    // Calls f(index, pinhole) for every pinhole of a call (f must not remove).
    template <class F>
    void for_each_in_call(std::uint64_t call, F&& f)
    {
        for (std::uint32_t p = call == 0 ? none : call_head(call); p != none; p = slots_[p].next_in_call) {
            f(p, slots_[p]);
        }
    }
    template <class F>
    void for_each(F&& f) const
    {
        for (std::uint32_t i = 0; i < slots_.size(); ++i) {
            if (slots_[i].in_use) {
                f(i, slots_[i]);
            }
        }
    }

private:
    static std::uint64_t key_of(std::uint8_t proto, ipv4_address address, std::uint16_t port) noexcept
    {
        return (std::uint64_t{proto} << 48) | (std::uint64_t{address} << 16) | port;
    }
    static std::uint32_t hash(std::uint64_t key) noexcept
    {
        return index_hash(key);
    }
    std::uint64_t key_in(std::uint32_t index, bool inside) const noexcept
    {
        const pinhole& p = slots_[index];
        return inside ? key_of(p.proto, p.inside_address, p.inside_port) : key_of(p.proto, p.public_address, p.public_port);
    }
    static std::uint32_t call_hash(std::uint64_t call) noexcept
    {
        return hash(call);
    }
    std::uint32_t call_head(std::uint64_t call) const noexcept
    {
        return call_index_.find(call_hash(call), [&](std::uint32_t s) { return slots_[s].call == call; });
    }

    void count(const pinhole& p, int by) noexcept;

    std::vector<pinhole> slots_;
    // Media and Contact pinholes per inside address (an entry per address that has any).
    struct address_count {
        ipv4_address address = 0;
        std::uint32_t n = 0;
    };
    std::vector<address_count> counts_;
    std::vector<std::uint32_t> free_counts_;
    open_index counts_index_;
    refusal refusal_ = refusal::none;
    open_index inside_index_;
    open_index public_index_;
    open_index call_index_; // the first pinhole of each call, by call key
    std::vector<std::uint32_t> free_;
    std::uint32_t used_ = 0;
    std::uint32_t expire_cursor_ = 0;
};

} // namespace sipalg::nat
