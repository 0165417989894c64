#pragma once
// Calls not yet ended per policy, for FortiOS max-dialogs ("the maximum number of concurrent calls per
// policy"): one table every worker's call table counts into, so that a policy's limit holds for all its
// calls however they fall on the workers. Open addressing over policy ids with a fixed number of
// policies: a policy beyond them is not counted, and its max-dialogs cannot hold. Written only when a
// call starts or ends. Two workers admitting a new call of the same policy at the same instant may
// both see room for one: the limit is exact up to such a race, never more than one call per worker over.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>

namespace sipalg::nat {

class policy_calls {
public:
    static constexpr std::size_t slots = 4096;

    void add(std::uint32_t policy_id, int by) noexcept
    {
        if (slot* s = find(policy_id, by > 0)) {
            s->live.fetch_add(by, std::memory_order_relaxed);
        }
    }
    std::uint32_t live(std::uint32_t policy_id) const noexcept
    {
        const slot* s = const_cast<policy_calls*>(this)->find(policy_id, false);
        return s == nullptr ? 0 : static_cast<std::uint32_t>(std::max(0, s->live.load(std::memory_order_relaxed)));
    }

private:
    struct slot {
        std::atomic<std::uint32_t> key{0}; // policy id + 1; 0: free
        std::atomic<std::int32_t> live{0};
    };

    slot* find(std::uint32_t policy_id, bool make) noexcept
    {
        const std::uint32_t key = policy_id + 1;
        if (key == 0) {
            return nullptr;
        }
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t k = 0, i = (key * 0x9e3779b9u) >> 20 & mask; k < 64; ++k, i = (i + 1) & mask) {
            std::uint32_t seen = slots_[i].key.load(std::memory_order_acquire);
            if (seen == 0) {
                if (!make) {
                    return nullptr;
                }
                // Claimed, or claimed by another worker in the meantime (for this policy or another).
                if (slots_[i].key.compare_exchange_strong(seen, key, std::memory_order_acq_rel) || seen == key) {
                    return &slots_[i];
                }
            }
            if (seen == key) {
                return &slots_[i];
            }
        }
        return nullptr;
    }

    std::array<slot, slots> slots_{};
};

} // namespace sipalg::nat
