#pragma once
// The SIP requests a worker's sessions carried, so that a response is believed only when it answers one
// (RFC 3261 §17.1.3: the top Via branch and the CSeq method match a client transaction; the CSeq number
// and the Call-ID too): a 200 to a REGISTER nobody sent opens no registration, a failure to an INVITE of
// another session ends no call. A request is remembered by a 64-bit tag of everything a response must
// repeat (the branch and method, the Call-ID, the session's slot and generation, the direction it
// travelled), its CSeq number and its lifetime.
//
// Every request and every response looks here, so the table is a cache of four-entry sets, one cache
// line each: one memory access per look-up, a megabyte for 64K requests. A final response ends its
// transaction (the caller erases it), so the table holds the transactions in progress, not every one
// of the last minutes. A request whose set is full replaces the entry that expires first (counted by the
// caller: a response to it is then not believed, which only ever opens less). A REGISTER's requested
// lifetime lives beside the sets and is written and read only for REGISTER. Fixed capacity,
// allocation-free after construction.
#include "nat/open_index.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <optional>
#include <vector>

namespace sipalg::nat {

struct transaction_entry {
    std::uint64_t tag = 0;   // 0: free
    std::uint32_t cseq = 0;
    std::uint32_t until = 0; // table time after which it is forgotten
};
static_assert(sizeof(transaction_entry) == 16);

// What identifies a request, and what a response must repeat.
struct transaction_id {
    std::uint64_t key = 0;       // the branch and CSeq method, hashed
    std::uint64_t call = 0;      // the call key (Call-ID, session)
    std::uint32_t session = 0;
    std::uint16_t generation = 0;
    std::uint8_t dir = 0;        // the direction the request travelled in its session

    std::uint64_t tag() const noexcept
    {
        std::uint64_t h = (key ^ std::uint64_t{session} << 17 ^ std::uint64_t{generation} << 49 ^ dir) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
        h = (h ^ call) * 0x94d049bb133111ebull;
        h ^= h >> 29;
        return h | 1; // never 0: 0 is a free entry
    }
};

class transaction_table {
public:
    explicit transaction_table(std::uint32_t capacity)
        : sets_(std::bit_ceil(std::max<std::uint32_t>(capacity, 16) / 4)), requested_(sets_.size() * 4),
          mask_(static_cast<std::uint32_t>(sets_.size() - 1))
    {
    }

    // Records a request (again, for a retransmission) until `until`; `requested`: a REGISTER's lifetime
    // (nothing for other requests). Returns whether an entry still in its lifetime had to go.
    bool record(const transaction_id& id, std::uint32_t cseq, std::optional<std::uint32_t> requested, std::uint32_t until,
                std::uint32_t now) noexcept
    {
        const std::uint64_t tag = id.tag();
        set& s = sets_[static_cast<std::uint32_t>(tag >> 32) & mask_];
        unsigned way = 0;
        for (unsigned w = 0; w < 4; ++w) {
            if (s.ways[w].tag == tag || s.ways[w].tag == 0 || static_cast<std::int32_t>(now - s.ways[w].until) >= 0) {
                way = w;
                break;
            }
            if (static_cast<std::int32_t>(s.ways[w].until - s.ways[way].until) < 0) {
                way = w;
            }
        }
        transaction_entry& e = s.ways[way];
        const bool evicted = e.tag != 0 && e.tag != tag && static_cast<std::int32_t>(now - e.until) < 0;
        e = {tag, cseq, until};
        if (requested) {
            requested_[index_of(s, way)] = *requested;
        }
        return evicted;
    }
    // The request a response answers (its id as the request's, dir the way the request went), if it is
    // still known at `now` with that CSeq number; with `registration`, the lifetime its REGISTER asked for.
    struct match_result {
        bool found = false;
        std::uint32_t requested = 0;
    };
    match_result match(const transaction_id& request, std::uint32_t cseq, std::uint32_t now, bool registration = false) const noexcept
    {
        const std::uint64_t tag = request.tag();
        const set& s = sets_[static_cast<std::uint32_t>(tag >> 32) & mask_];
        for (unsigned w = 0; w < 4; ++w) {
            const transaction_entry& e = s.ways[w];
            if (e.tag == tag && e.cseq == cseq && static_cast<std::int32_t>(now - e.until) < 0) {
                return {true, registration ? requested_[index_of(s, w)] : 0u};
            }
        }
        return {};
    }
    // Asks for the set of `id` to be brought into the cache: a record or match soon after finds it there.
    // Always inlined, as every prefetch helper here: GCC finds a function that only prefetches "pure"
    // and deletes the calls to it when it is not inlined (seen: this one never ran).
    [[gnu::always_inline]] void prefetch(const transaction_id& id) const noexcept
    {
        __builtin_prefetch(&sets_[static_cast<std::uint32_t>(id.tag() >> 32) & mask_]);
    }
    // Forgets a request: its final response came (RFC 3261 §17.1.1.2, §17.1.2.2: the client transaction
    // is completed). A retransmission of that response then answers nothing, and changes nothing: its
    // first copy did what it does.
    void erase(const transaction_id& request, std::uint32_t cseq) noexcept
    {
        const std::uint64_t tag = request.tag();
        set& s = sets_[static_cast<std::uint32_t>(tag >> 32) & mask_];
        for (transaction_entry& e : s.ways) {
            if (e.tag == tag && e.cseq == cseq) {
                e = {};
            }
        }
    }
    std::size_t bytes_allocated() const noexcept
    {
        return sets_.size() * sizeof(set) + requested_.size() * sizeof(std::uint32_t);
    }

private:
    struct alignas(64) set {
        transaction_entry ways[4];
    };
    std::size_t index_of(const set& s, unsigned way) const noexcept
    {
        return static_cast<std::size_t>(&s - sets_.data()) * 4 + way;
    }

    std::vector<set> sets_;
    std::vector<std::uint32_t> requested_; // by entry: what a REGISTER asked for (read only for REGISTER)
    std::uint32_t mask_;
};

} // namespace sipalg::nat
