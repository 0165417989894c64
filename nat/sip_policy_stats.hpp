#pragma once
// One worker's SIP message statistics per policy (FortiOS diagnose sys sip-proxy stats): per method,
// requests and responses received and blocked, and the messages of unknown form (a method not known),
// with long header lines, and malformed. Only the worker writes (relaxed atomic stores of words only it
// writes); the control core reads at any time and sums over the workers. A fixed table: policies beyond
// it are counted in its last entry (policy id 0, "other").
#include <array>
#include <atomic>
#include <cstdint>

namespace sipalg::nat {

struct sip_message_counts {
    std::array<std::uint64_t, 2> received{}; // [0] requests, [1] responses of the method
    std::array<std::uint64_t, 2> blocked{};
};

struct sip_policy_counts {
    std::uint32_t policy_id = 0;
    bool used = false;
    std::array<sip_message_counts, 16> by_method{}; // by sip::method (0: unknown)
    std::uint64_t unknown_form = 0;
    std::uint64_t long_headers = 0;
    std::uint64_t malformed = 0;
};

class sip_policy_stats {
public:
    static constexpr std::size_t capacity = 256;

    // The entry of `policy_id` (made when new; the overflow entry when the table is full).
    sip_policy_counts& of(std::uint32_t policy_id) noexcept
    {
        const std::size_t mask = capacity - 2; // the last slot is the overflow
        for (std::size_t k = 0, i = (policy_id * 0x9e3779b9u >> 24) & mask; k < 16; ++k, i = (i + 1) & mask) {
            sip_policy_counts& e = entries_[i];
            if (e.used && e.policy_id == policy_id) {
                return e;
            }
            if (!e.used) {
                e.policy_id = policy_id;
                std::atomic_ref<bool>(e.used).store(true, std::memory_order_release);
                return e;
            }
        }
        sip_policy_counts& other = entries_[capacity - 1];
        if (!other.used) {
            std::atomic_ref<bool>(other.used).store(true, std::memory_order_release);
        }
        return other;
    }
    static void add(std::uint64_t& v, std::uint64_t n = 1) noexcept
    {
        std::atomic_ref<std::uint64_t>(v).store(v + n, std::memory_order_relaxed);
    }
    static std::uint64_t get(const std::uint64_t& v) noexcept
    {
        return std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(v)).load(std::memory_order_relaxed);
    }
    // f(const sip_policy_counts&) for each entry in use (a reader's view: values read with get()).
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
    std::array<sip_policy_counts, capacity> entries_{};
};

} // namespace sipalg::nat
