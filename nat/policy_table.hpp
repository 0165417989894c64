#pragma once
// A worker's table of per-policy entries that the control core reads while the worker writes
// (nat/policy_counters.hpp, nat/sip_policy_stats.hpp). Open addressing over policy ids; a fixed number of
// policies, the last slot taking those beyond them (policy id 0, "other"). An entry is filled, then
// published by a release store of its `used`; a reader acquires `used` before reading it. The counters
// in an entry are written only by the worker: relaxed stores and loads of whole words (put, get).
#include <atomic>
#include <cstdint>
#include <vector>

namespace sipalg::nat {

template <class T>
void put(T& v, T value) noexcept
{
    std::atomic_ref<T>(v).store(value, std::memory_order_relaxed);
}
template <class T>
T get(const T& v) noexcept
{
    return std::atomic_ref<T>(const_cast<T&>(v)).load(std::memory_order_relaxed);
}

// Entry: has `std::uint32_t policy_id` and `bool used`.
template <class Entry, std::uint32_t Capacity>
class policy_table {
public:
    static constexpr std::uint32_t capacity = Capacity;

    // The slot of `policy_id`: found, made, or the overflow slot when its probes find no room.
    std::uint32_t slot_of(std::uint32_t policy_id) noexcept
    {
        constexpr std::uint32_t probed = Capacity - 1; // the last slot is the overflow
        std::uint32_t i = (policy_id * 0x9e3779b9u >> 16) % probed;
        for (unsigned k = 0; k < 32; ++k, i = i + 1 == probed ? 0 : i + 1) {
            Entry& e = entries_[i];
            if (e.used && e.policy_id == policy_id) {
                return i;
            }
            if (!e.used) {
                e.policy_id = policy_id;
                std::atomic_ref<bool>(e.used).store(true, std::memory_order_release);
                return i;
            }
        }
        Entry& other = entries_[probed];
        if (!other.used) {
            std::atomic_ref<bool>(other.used).store(true, std::memory_order_release);
        }
        return probed;
    }
    Entry& at(std::uint32_t slot) noexcept
    {
        return entries_[slot];
    }
    // f(const Entry&) for each entry in use (its counters read with get()).
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
    std::vector<Entry> entries_ = std::vector<Entry>(Capacity);
};

} // namespace sipalg::nat
