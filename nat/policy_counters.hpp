#pragma once
// One worker's traffic counters per firewall policy (FortiOS's policy statistics: hit count, first and
// last hit, packets and bytes, established sessions). A session keeps the slot of its policy's entry
// (session::policy_slot), so that each packet adds to it without a search; a slot is made when a
// session of a policy is first created on the worker. Only the worker writes (relaxed atomic stores of
// words only it writes); the control core reads at any time and sums over the workers. Fixed capacity:
// policies beyond it share the last slot (policy id 0, "other").
#include "nat/policy_table.hpp"

#include <array>
#include <cstdint>

namespace sipalg::nat {

struct policy_counts {
    std::uint32_t policy_id = 0;
    bool used = false;
    std::uint64_t hits = 0;         // sessions created
    std::int64_t sessions = 0;      // sessions now
    std::uint64_t first_hit = 0;    // TSC of the first session (0: none)
    std::uint64_t last_hit = 0;     // and of the last
    std::array<std::uint64_t, 2> packets{}; // [0] the originators' packets, [1] the replies'
    std::array<std::uint64_t, 2> bytes{};
};

class policy_counters : public policy_table<policy_counts, 1024> {
public:
    // A session of the slot's policy begins (at TSC `now`) or ends.
    void opened(std::uint32_t slot, std::uint64_t now) noexcept
    {
        policy_counts& e = at(slot);
        put(e.hits, e.hits + 1);
        put(e.sessions, e.sessions + 1);
        if (e.first_hit == 0) {
            put(e.first_hit, now);
        }
        put(e.last_hit, now);
    }
    void closed(std::uint32_t slot) noexcept
    {
        policy_counts& e = at(slot);
        put(e.sessions, e.sessions - 1);
    }
    // A packet of `bytes` in direction `dir`.
    [[gnu::always_inline]] void count(std::uint32_t slot, unsigned dir, std::uint32_t bytes) noexcept
    {
        policy_counts& e = at(slot);
        put(e.packets[dir], e.packets[dir] + 1);
        put(e.bytes[dir], e.bytes[dir] + bytes);
    }
    template <class T>
    static T get(const T& v) noexcept
    {
        return nat::get(v);
    }
};

} // namespace sipalg::nat
