#pragma once
// The SIP requests a worker's sessions carried, so that a response is believed only when it answers one
// (RFC 3261 §17.1.3: the top Via branch and the CSeq method match a client transaction; the CSeq number
// and the Call-ID too): a 200 to a REGISTER nobody sent opens no registration, a failure to an INVITE of
// another session ends no call. An entry is the request's session (slot and generation), the way it
// travelled, and what a response must repeat; it is forgotten after its transaction's lifetime, or when
// the table is full and it is the oldest. Fixed capacity, allocation-free after construction.
#include "nat/open_index.hpp"

#include <cstdint>
#include <vector>

namespace sipalg::nat {

struct transaction_entry {
    std::uint64_t key = 0;  // the branch and CSeq method, hashed
    std::uint64_t call = 0; // the call key (Call-ID, session)
    std::uint32_t session = 0;
    std::uint16_t generation = 0;
    std::uint8_t dir = 0;   // the direction the request travelled in its session
    bool in_use = false;
    std::uint32_t cseq = 0;
    std::uint32_t requested = 0; // REGISTER: the lifetime it asked for, in seconds
    std::uint32_t until = 0;     // table time after which it is forgotten
};

class transaction_table {
public:
    static constexpr std::uint32_t none = open_index::none;

    explicit transaction_table(std::uint32_t capacity) : slots_(capacity), index_(capacity) {}

    // Records a request (again, for a retransmission). Returns whether an older entry had to go.
    bool record(const transaction_entry& t) noexcept
    {
        const std::uint32_t found = find_slot(t.session, t.generation, t.dir, t.key);
        if (found != none) {
            slots_[found] = t;
            slots_[found].in_use = true;
            return false;
        }
        const std::uint32_t slot = next_;
        next_ = next_ + 1 == slots_.size() ? 0 : next_ + 1;
        const bool evicted = slots_[slot].in_use;
        if (evicted) {
            index_.erase(hash_of(slots_[slot]), slot, [this](std::uint32_t x) { return hash_of(slots_[x]); });
        }
        slots_[slot] = t;
        slots_[slot].in_use = true;
        index_.insert(hash_of(t), slot);
        return evicted;
    }
    // The request a response of session (slot, generation) travelling in direction `response_dir`
    // answers, if it is still known at `now`.
    const transaction_entry* match(std::uint32_t session, std::uint16_t generation, unsigned response_dir,
                                   std::uint64_t key, std::uint32_t now) const noexcept
    {
        const std::uint32_t s = find_slot(session, generation, static_cast<std::uint8_t>(response_dir ^ 1u), key);
        if (s == none || static_cast<std::int32_t>(now - slots_[s].until) >= 0) {
            return nullptr;
        }
        return &slots_[s];
    }
    std::size_t bytes_allocated() const noexcept
    {
        return slots_.size() * sizeof(transaction_entry) + index_.bytes();
    }

private:
    static std::uint32_t hash(std::uint32_t session, std::uint8_t dir, std::uint64_t key) noexcept
    {
        return index_hash(key ^ (std::uint64_t{session} << 1 | dir) * 0x9e3779b97f4a7c15ull);
    }
    static std::uint32_t hash_of(const transaction_entry& t) noexcept
    {
        return hash(t.session, t.dir, t.key);
    }
    std::uint32_t find_slot(std::uint32_t session, std::uint16_t generation, std::uint8_t dir, std::uint64_t key) const noexcept
    {
        return index_.find(hash(session, dir, key), [&](std::uint32_t x) {
            const transaction_entry& e = slots_[x];
            return e.key == key && e.session == session && e.generation == generation && e.dir == dir;
        });
    }

    std::vector<transaction_entry> slots_;
    open_index index_;
    std::uint32_t next_ = 0;
};

} // namespace sipalg::nat
