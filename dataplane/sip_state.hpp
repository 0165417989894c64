#pragma once
// What a worker keeps for its SIP engines (dataplane/sip.cpp), allocated once at start: the message
// index, the edit list, the buffers a payload is read into and written from, and what some SIP
// sessions need beyond their session slot: a SIP/TCP connection's byte stream (sip/tcp_stream.hpp),
// with the pool its held bytes live in, and where a remote phone behind its own NAT says it is
// (hosted NAT traversal).
#include "dataplane/options.hpp"
#include "nat/open_index.hpp"
#include "sip/edit.hpp"
#include "sip/engine.hpp"
#include "sip/message.hpp"
#include "sip/nat.hpp"
#include "sip/tcp_stream.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <vector>

namespace sipalg::dp {

struct sip_session_entry {
    std::uint32_t session = nat::open_index::none; // the session's slot, and its slot generation
    std::uint16_t generation = 0;
    bool in_use = false;
    sip::endpoint hnt_written{}; // the originator's own address and port, as it writes them (0: none)
    sip::tcp_stream tcp;         // SIP over TCP: both directions' streams
};

// SIP sessions that need more than their slot, by session slot. Entries of sessions that are gone are
// dropped a few at a time (sweep), their held bytes given back; a full table leaves further sessions'
// SIP unparsed (counted by the caller).
class sip_session_table {
public:
    sip_session_table(std::uint32_t capacity, sip::stream_pool& pool)
        : entries_(capacity), index_(capacity), position_(capacity), pool_(pool)
    {
        used_.reserve(capacity);
        free_.reserve(capacity);
        for (std::uint32_t i = capacity; i > 0; --i) {
            free_.push_back(i - 1);
        }
    }
    sip_session_entry* find(std::uint32_t session, std::uint16_t generation) noexcept
    {
        const std::uint32_t e = index_.find(nat::index_hash(session), [&](std::uint32_t x) { return entries_[x].session == session; });
        if (e == nat::open_index::none) {
            return nullptr;
        }
        if (entries_[e].generation != generation) {
            reset(entries_[e], session, generation); // the slot holds a new session now
            used_[position_[e]].generation = generation;
        }
        return &entries_[e];
    }
    // A later find(session) in two steps, each a packet or so ahead of the next: the index position,
    // then (reading it) the entry's first lines. Always inlined: GCC may judge a call of it pure and
    // delete it (see transaction_table::prefetch).
    [[gnu::always_inline]] void prefetch_position(std::uint32_t session) const noexcept
    {
        index_.prefetch_position(nat::index_hash(session));
    }
    [[gnu::always_inline]] void prefetch(std::uint32_t session) const noexcept
    {
        index_.prefetch(nat::index_hash(session), [&](std::uint32_t x) {
            const auto* e = reinterpret_cast<const char*>(&entries_[x]);
            __builtin_prefetch(e + 64);
            return e;
        });
    }
    sip_session_entry* make(std::uint32_t session, std::uint16_t generation) noexcept
    {
        if (sip_session_entry* e = find(session, generation)) {
            return e;
        }
        if (free_.empty()) {
            return nullptr;
        }
        const std::uint32_t e = free_.back();
        free_.pop_back();
        reset(entries_[e], session, generation);
        index_.insert(nat::index_hash(session), e);
        position_[e] = static_cast<std::uint32_t>(used_.size());
        used_.push_back({session, generation, e});
        return &entries_[e];
    }
    // Drops, among `budget` entries in use from where the last sweep stopped, those `alive` says are gone.
    // It walks a dense list of the entries in use (8 bytes each), not the entries themselves: a sweep
    // every millisecond must not drag cold memory through the cache (and costs nothing when none is).
    template <class Alive>
    void sweep(std::uint32_t budget, Alive&& alive) noexcept
    {
        for (std::uint32_t k = 0; k < budget && !used_.empty(); ++k) {
            if (cursor_ >= used_.size()) {
                cursor_ = 0;
            }
            const used u = used_[cursor_];
            if (alive(u.session, u.generation)) {
                ++cursor_;
                continue;
            }
            const std::uint32_t i = u.entry;
            sip_session_entry& e = entries_[i];
            index_.erase(nat::index_hash(e.session), i, [this](std::uint32_t x) { return nat::index_hash(entries_[x].session); });
            e.tcp.release(pool_);
            e.in_use = false;
            free_.push_back(i);
            used_[cursor_] = used_.back(); // the last one takes its place (visited next)
            position_[used_[cursor_].entry] = cursor_;
            used_.pop_back();
        }
    }
    std::uint32_t size() const noexcept
    {
        return static_cast<std::uint32_t>(entries_.size() - free_.size());
    }
    // What one entry costs: itself, its share of the index, its place in the free list.
    static constexpr std::size_t bytes_per_entry_of(std::uint32_t capacity) noexcept
    {
        return sizeof(sip_session_entry) + index_positions(capacity) * sizeof(std::uint32_t) / capacity +
               sizeof(std::uint32_t) + sizeof(used) + sizeof(std::uint32_t);
    }

private:
    static constexpr std::size_t index_positions(std::uint32_t capacity) noexcept
    {
        return std::bit_ceil(std::max<std::uint32_t>(capacity, 8) * 2u);
    }
    void reset(sip_session_entry& e, std::uint32_t session, std::uint16_t generation) noexcept
    {
        e.tcp.release(pool_);
        e.session = session;
        e.generation = generation;
        e.in_use = true;
        e.hnt_written = {};
        e.tcp = {};
    }

    // An entry in use, as the sweep sees it.
    struct used {
        std::uint32_t session;
        std::uint16_t generation;
        std::uint32_t entry;
    };

    std::vector<sip_session_entry> entries_;
    nat::open_index index_;
    std::vector<std::uint32_t> free_;
    std::vector<used> used_;               // dense: the entries in use
    std::vector<std::uint32_t> position_;  // by entry: its place in used_
    sip::stream_pool& pool_;
    std::uint32_t cursor_ = 0;
};

struct sip_state {
    explicit sip_state(const options& o)
        : pool(o.sip_tcp_buffers, o.sip_tcp_pages), sessions(std::max<std::uint32_t>(o.sip_connections, 8), pool)
    {
    }
    sip::message message;
    // The bytes `message` holds the parse of, when the TCP stream had them parsed to frame them
    // (stream_translator::parse): translating those same bytes next uses it. Empty: none.
    std::string_view parsed;
    sip::edit_list edits;
    sip::session_view view;  // the engine's view of the session at hand
    sip::decision decision;  // and what it decided of its message
    sip::dialog_view dialog; // what the tables said of its dialog
    std::array<char, 65536> in;
    std::array<char, 65536 + sip::edit_list::arena_size> out;
    std::array<char, 65536> segment; // a TCP segment's payload, when its mbuf is a chain
    sip::stream_pool pool;
    sip_session_table sessions;
    sip::stream_actions actions; // what the TCP stream says to send for the segment at hand
};

} // namespace sipalg::dp
