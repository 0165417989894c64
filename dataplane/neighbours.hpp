#pragma once
// A worker's private neighbour (ARP) table, RFC 826 with the timers of RFC 1122 §2.3.2.1: resolve next
// hops on demand while holding a few packets, retry a bounded number of times, re-probe entries still in
// use when they age, drop idle ones. Open addressing with linear probing and backward-shift deletion; the
// hot part of an entry is 16 bytes, four to a cache line. It never frees packets itself: held packets
// come back to the caller, which sends or drops (and counts) them. No DPDK calls, so it is unit-tested.
#include "nat/ipv4.hpp"

#include <cstdint>
#include <span>
#include <vector>

struct rte_mbuf;

namespace sipalg::dp {

class neighbour_table {
public:
    enum class state : std::uint8_t {
        free = 0,
        incomplete, // request sent, no answer yet: packets are held
        reachable,  // answered within the reachable time
        probing,    // aged while in use: still used, being re-confirmed
        fixed,      // static entry from config system arp-table; never ages
    };

    struct entry {
        ipv4_address ip;
        std::uint16_t port;
        state st;
        std::uint8_t used; // set by lookups since the last aging pass
        mac_address mac;
        std::uint16_t reserved;
    };
    static_assert(sizeof(entry) == 16);

    struct timing {
        std::uint64_t reachable = 0; // ticks an answer stays good
        std::uint64_t retry = 0;     // ticks between requests while resolving or probing
        unsigned max_requests = 3;   // requests before giving up
    };

    // Allocates room for max_entries at most half full; hold packets per unresolved entry.
    neighbour_table(std::uint32_t max_entries, std::uint32_t hold, timing t);

    // The fast path: the MAC of a usable neighbour, or null (then hold the packet). Marks the entry used.
    const mac_address* resolve(std::uint16_t port, ipv4_address ip) noexcept
    {
        std::uint32_t i = home(port, ip);
        for (;;) {
            entry& e = slots_[i];
            if (e.st == state::free) {
                return nullptr;
            }
            if (e.ip == ip && e.port == port) {
                if (e.st < state::reachable) {
                    return nullptr;
                }
                if (e.used == 0) {
                    e.used = 1;
                }
                return &e.mac;
            }
            i = (i + 1) & mask_;
        }
    }

    const entry* find(std::uint16_t port, ipv4_address ip) const noexcept;

    enum class hold_result {
        held_first, // a new entry: the caller sends the first request now
        held,       // queued behind a request already sent
        hold_full,  // the entry's queue is full: caller drops the packet
        table_full, // no entry could be created: caller drops the packet
    };
    hold_result hold(std::uint16_t port, ipv4_address ip, rte_mbuf* m, std::uint64_t now);

    struct learn_result {
        bool learned = false;              // an entry now holds this MAC
        std::span<rte_mbuf* const> release; // packets that waited for it; valid until the next call
    };
    // An ARP packet showed ip at mac on port. Existing entries are updated (RFC 826 merge); a new one is
    // created only when `create` (the packet was addressed to us).
    learn_result learn(std::uint16_t port, ipv4_address ip, const mac_address& mac, bool create, std::uint64_t now);

    // A static entry; returns packets that were waiting for it.
    learn_result set_fixed(std::uint16_t port, ipv4_address ip, const mac_address& mac);

    enum class aging_action {
        request, // send a request for the entry (retry, or probe an aged entry in use)
        expired, // removed after aging (idle, or a probe went unanswered)
        failed,  // resolution gave up: `dropped` are the packets that waited
    };
    // Visits up to `budget` slots from a rotating cursor and reports what each needs. The callback gets
    // (action, port, ip, mac, dropped packets).
    template <class F>
    void age(std::uint64_t now, std::uint32_t budget, F&& on_action);

    // Removes everything, handing every held packet to drop.
    template <class F>
    void clear(F&& drop);

    std::uint32_t size() const noexcept
    {
        return count_;
    }
    std::uint32_t held_packets() const noexcept
    {
        return held_total_;
    }
    std::uint32_t capacity() const noexcept
    {
        return mask_ + 1;
    }

private:
    struct cold {
        std::uint64_t updated = 0;   // last answer
        std::uint64_t next = 0;      // next request or give-up time (incomplete, probing)
        std::uint8_t requests = 0;   // requests sent in this round
        std::uint8_t held = 0;       // packets in the hold queue
    };

    std::uint32_t home(std::uint16_t port, ipv4_address ip) const noexcept
    {
        const std::uint32_t h = ip * 0x9e3779b1u ^ (std::uint32_t{port} * 0x85ebca77u);
        return (h >> shift_) & mask_;
    }
    std::uint32_t slot_of(std::uint16_t port, ipv4_address ip) const noexcept; // index or npos
    std::uint32_t insert(std::uint16_t port, ipv4_address ip);                 // index or npos when full
    void erase(std::uint32_t i);
    std::span<rte_mbuf* const> take_held(std::uint32_t i);
    rte_mbuf** held_of(std::uint32_t i) noexcept
    {
        return &held_[static_cast<std::size_t>(i) * hold_];
    }

    static constexpr std::uint32_t npos = ~std::uint32_t{0};

    std::vector<entry> slots_;
    std::vector<cold> cold_;
    std::vector<rte_mbuf*> held_;
    std::vector<rte_mbuf*> released_; // the span handed out by learn()/age()
    std::uint32_t mask_ = 0;
    unsigned shift_ = 0;
    std::uint32_t max_entries_ = 0;
    std::uint32_t hold_ = 0;
    std::uint32_t count_ = 0;
    std::uint32_t held_total_ = 0;
    std::uint32_t cursor_ = 0;
    timing timing_;
};

template <class F>
void neighbour_table::age(std::uint64_t now, std::uint32_t budget, F&& on_action)
{
    const auto give_up = [&](std::uint32_t i, aging_action why) {
        const entry e = slots_[i];
        const auto dropped = take_held(i);
        erase(i);
        // erase() may have shifted a later entry into slot i: visit it next.
        cursor_ = i;
        on_action(why, e.port, e.ip, e.mac, dropped);
    };
    const auto request = [&](entry& e, cold& c, std::uint8_t nth) {
        c.requests = nth;
        c.next = now + timing_.retry;
        on_action(aging_action::request, e.port, e.ip, e.mac, std::span<rte_mbuf* const>{});
    };
    budget = std::min(budget, capacity());
    while (budget-- > 0) {
        const std::uint32_t i = cursor_;
        cursor_ = (cursor_ + 1) & mask_;
        entry& e = slots_[i];
        cold& c = cold_[i];
        switch (e.st) {
        case state::free:
        case state::fixed:
            break;
        case state::incomplete:
        case state::probing:
            if (now < c.next) {
                break;
            }
            if (c.requests < timing_.max_requests) {
                request(e, c, static_cast<std::uint8_t>(c.requests + 1));
            } else {
                give_up(i, e.st == state::incomplete ? aging_action::failed : aging_action::expired);
            }
            break;
        case state::reachable:
            if (now - c.updated < timing_.reachable) {
                break;
            }
            if (e.used != 0) {
                e.used = 0;
                e.st = state::probing;
                request(e, c, 1);
            } else {
                give_up(i, aging_action::expired);
            }
            break;
        }
    }
}

template <class F>
void neighbour_table::clear(F&& drop)
{
    for (std::uint32_t i = 0; i <= mask_; ++i) {
        for (std::uint32_t k = 0; k < cold_[i].held; ++k) {
            drop(held_of(i)[k]);
        }
        slots_[i] = entry{};
        cold_[i] = cold{};
    }
    count_ = 0;
    held_total_ = 0;
}

} // namespace sipalg::dp
