#pragma once
// What a worker keeps for its SIP engines (dataplane/sip.cpp), allocated once at start: the message
// index, the edit list, the buffers a payload is read into and written from, and what a few SIP
// sessions need beyond their session slot: the sequence number changes of the TCP connections whose SIP
// it resized, and where a remote phone behind its own NAT says it is (hosted NAT traversal).
#include "nat/open_index.hpp"
#include "nat/tcp_delta.hpp"
#include "sip/edit.hpp"
#include "sip/message.hpp"
#include "sip/nat.hpp"

#include <array>
#include <vector>

namespace sipalg::dp {

struct sip_session_entry {
    std::uint32_t session = nat::open_index::none; // the session's slot, and its slot generation
    std::uint16_t generation = 0;
    bool in_use = false;
    std::array<nat::tcp_direction_delta, 2> dir{}; // TCP: by the session's direction
    sip::endpoint hnt_written{}; // the originator's own address and port, as it writes them (0: none)
};

// SIP sessions that need more than their slot, by session slot. Entries of sessions that are gone are
// dropped a few at a time (sweep); a full table leaves further sessions' SIP unchanged.
class sip_session_table {
public:
    explicit sip_session_table(std::uint32_t capacity) : entries_(capacity), index_(capacity)
    {
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
            entries_[e] = {session, generation, true, {}, {}}; // the slot holds a new session now
        }
        return &entries_[e];
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
        entries_[e] = {session, generation, true, {}, {}};
        index_.insert(nat::index_hash(session), e);
        return &entries_[e];
    }
    // Drops, among `budget` entries from where the last sweep stopped, those `alive` says are gone.
    template <class Alive>
    void sweep(std::uint32_t budget, Alive&& alive) noexcept
    {
        const auto size = static_cast<std::uint32_t>(entries_.size());
        for (std::uint32_t k = 0; k < budget && k < size; ++k) {
            const std::uint32_t i = cursor_;
            cursor_ = cursor_ + 1 == size ? 0 : cursor_ + 1;
            sip_session_entry& e = entries_[i];
            if (e.in_use && !alive(e.session, e.generation)) {
                index_.erase(nat::index_hash(e.session), i, [this](std::uint32_t x) { return nat::index_hash(entries_[x].session); });
                e.in_use = false;
                free_.push_back(i);
            }
        }
    }

private:
    std::vector<sip_session_entry> entries_;
    nat::open_index index_;
    std::vector<std::uint32_t> free_;
    std::uint32_t cursor_ = 0;
};

struct sip_state {
    sip::message message;
    sip::edit_list edits;
    std::array<char, 65536> in;
    std::array<char, 65536 + sip::edit_list::arena_size> out;
    sip_session_table sessions{16384};
};

} // namespace sipalg::dp
