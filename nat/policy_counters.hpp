#pragma once
// One worker's traffic counters per firewall policy (FortiOS's policy statistics: hit count, first and
// last hit, packets and bytes, established sessions). A session keeps the slot of its policy's entry
// (session::policy_slot), so that each packet adds to it without a search; a slot is made when a
// session of a policy is first created on the worker. Only the worker writes (relaxed atomic stores of
// words only it writes); the control core reads at any time and sums over the workers. Fixed capacity:
// policies beyond it share the last slot (policy id 0, "other").
#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

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

class policy_counters {
public:
    static constexpr std::uint16_t capacity = 1024;

    // The slot of `policy_id` (made when new; the overflow slot when the table is full).
    std::uint16_t slot_of(std::uint32_t policy_id) noexcept
    {
        const std::uint32_t mask = capacity - 2;
        for (std::uint32_t k = 0, i = (policy_id * 0x9e3779b9u >> 22) & mask; k < 32; ++k, i = (i + 1) & mask) {
            policy_counts& e = entries_[i];
            if (e.used && e.policy_id == policy_id) {
                return static_cast<std::uint16_t>(i);
            }
            if (!e.used) {
                e.policy_id = policy_id;
                std::atomic_ref<bool>(e.used).store(true, std::memory_order_release);
                return static_cast<std::uint16_t>(i);
            }
        }
        policy_counts& other = entries_[capacity - 1];
        if (!other.used) {
            std::atomic_ref<bool>(other.used).store(true, std::memory_order_release);
        }
        return capacity - 1;
    }
    // A session of the slot's policy begins (at TSC `now`) or ends.
    void opened(std::uint16_t slot, std::uint64_t now) noexcept
    {
        policy_counts& e = entries_[slot];
        put(e.hits, e.hits + 1);
        put(e.sessions, e.sessions + 1);
        if (e.first_hit == 0) {
            put(e.first_hit, now);
        }
        put(e.last_hit, now);
    }
    void closed(std::uint16_t slot) noexcept
    {
        policy_counts& e = entries_[slot];
        put(e.sessions, e.sessions - 1);
    }
    // A packet of `bytes` in direction `dir`.
    [[gnu::always_inline]] void count(std::uint16_t slot, unsigned dir, std::uint32_t bytes) noexcept
    {
        policy_counts& e = entries_[slot];
        put(e.packets[dir], e.packets[dir] + 1);
        put(e.bytes[dir], e.bytes[dir] + bytes);
    }

    template <class T>
    static T get(const T& v) noexcept
    {
        return std::atomic_ref<T>(const_cast<T&>(v)).load(std::memory_order_relaxed);
    }
    // f(const policy_counts&) for each entry in use (values read with get()).
    template <class F>
    void for_each(F&& f) const
    {
        for (const auto& e : entries_) {
            if (std::atomic_ref<bool>(const_cast<bool&>(e.used)).load(std::memory_order_acquire)) {
                f(e);
            }
        }
    }

private:
    template <class T>
    static void put(T& v, T value) noexcept
    {
        std::atomic_ref<T>(v).store(value, std::memory_order_relaxed);
    }

    std::vector<policy_counts> entries_ = std::vector<policy_counts>(capacity);
};

} // namespace sipalg::nat
