#pragma once
// The SIP ALG's request rate limits (FortiOS <method>-rate, -track): a token bucket per policy and method,
// or per policy, method and source or destination address. A bucket holds at most one second of its rate
// and starts full; a request takes one token or is over the rate. Fixed capacity, allocation-free after
// construction: a new bucket takes the place of the one of its set used least recently (a flood of new
// addresses cannot grow the table, only make those buckets start full again).
//
// One table for all the workers (ARCHITECTURE.md "Rate limits"): a policy's requests spread over the
// workers as its hosts do, and a bucket split into per-worker shares would let a worker that sees all of
// them pass only its share (or, given the whole rate each, let the total reach rate x workers). So the
// workers take from the same bucket, each set behind a spin lock held for the few dozen instructions of a
// take. Only a request of a rate-limited method touches it. The workers' clocks start apart by the
// moment each began, so a bucket never refills for time that goes backwards.
#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <vector>

namespace sipalg::nat {

struct rate_meter {
    std::uint64_t key = 0;         // 0: free
    std::uint32_t policy_id = 0;
    std::uint32_t address = 0;     // tracked address (0: the policy's)
    std::uint32_t per_second = 0;  // the rate
    std::uint64_t tokens = 0;      // thousandths of a token
    std::uint32_t last = 0;        // table time of the last refill
    std::uint32_t count = 0;       // requests seen
    std::uint32_t dropped = 0;     // requests over the rate
    std::uint32_t second = 0;      // table time the current second began
    std::uint32_t this_second = 0; // requests in it
    std::uint32_t peak = 0;        // the most requests seen in one second
    std::uint8_t method = 0;
};

class rate_meters {
public:
    static constexpr unsigned set_ways = 4;

    explicit rate_meters(std::uint32_t capacity, std::uint32_t ticks_per_second)
        : sets_(std::bit_ceil(std::max<std::uint32_t>(capacity / set_ways, 1))), ticks_(ticks_per_second)
    {
    }

    // One request of `method` under `policy_id` (and `address`, when tracked) at table time `now`,
    // against `per_second`: whether it is within the rate. Any worker may call it.
    bool take(std::uint32_t policy_id, std::uint8_t method, std::uint32_t address, std::uint32_t per_second,
              std::uint32_t now) noexcept
    {
        const std::uint64_t key = key_of(policy_id, method, address);
        set& s = sets_[(key >> 32) & (sets_.size() - 1)];
        const held lock(s);
        rate_meter& m = find(s, key, policy_id, method, address, per_second, now);
        ++m.count;
        if (static_cast<std::int32_t>(now - m.second) >= static_cast<std::int32_t>(ticks_)) {
            m.second = now;
            m.this_second = 0;
        }
        m.peak = std::max(m.peak, ++m.this_second);
        // Refill: per_second tokens a second, at most one second's worth held. Another worker's clock
        // may be a little behind the one that took last: no refill then, and the time stays.
        const auto elapsed = static_cast<std::int32_t>(now - m.last);
        if (elapsed > 0) {
            const std::uint64_t cap = std::uint64_t{std::max<std::uint32_t>(per_second, 1)} * 1000;
            const std::uint64_t refill = std::uint64_t(elapsed) * per_second * 1000 / ticks_;
            m.tokens = std::min<std::uint64_t>(cap, m.tokens + refill);
            m.last = now;
        }
        if (m.tokens < 1000) {
            ++m.dropped;
            return false;
        }
        m.tokens -= 1000;
        return true;
    }

    // Each bucket in use, read under its set's lock (the control core lists them while workers take).
    template <class F>
    void for_each(F&& f)
    {
        for (auto& s : sets_) {
            std::array<rate_meter, set_ways> copy;
            {
                const held lock(s);
                copy = s.ways;
            }
            for (const auto& m : copy) {
                if (m.key != 0) {
                    f(m);
                }
            }
        }
    }

private:
    // A set of buckets and its lock, on cache lines of their own: two workers taking from buckets of
    // different sets do not share a line.
    struct alignas(64) set {
        std::atomic<std::uint32_t> lock{0};
        std::array<rate_meter, set_ways> ways{};
    };
    struct held {
        explicit held(set& s) noexcept : s_(s)
        {
            while (s_.lock.exchange(1, std::memory_order_acquire) != 0) {
                while (s_.lock.load(std::memory_order_relaxed) != 0) {
#if defined(__x86_64__) || defined(__i386__)
                    __builtin_ia32_pause();
#endif
                }
            }
        }
        ~held() { s_.lock.store(0, std::memory_order_release); }
        held(const held&) = delete;
        held& operator=(const held&) = delete;
        set& s_;
    };

    static std::uint64_t key_of(std::uint32_t policy_id, std::uint8_t method, std::uint32_t address) noexcept
    {
        return ((std::uint64_t{policy_id} << 40) ^ (std::uint64_t{method} << 32) ^ address) * 0x9e3779b97f4a7c15ull | 1;
    }

    static rate_meter& find(set& s, std::uint64_t key, std::uint32_t policy_id, std::uint8_t method,
                            std::uint32_t address, std::uint32_t per_second, std::uint32_t now) noexcept
    {
        rate_meter* oldest = &s.ways[0];
        for (rate_meter& m : s.ways) {
            if (m.key == key && m.policy_id == policy_id && m.method == method && m.address == address) {
                m.per_second = per_second; // the profile may have changed it
                return m;
            }
            if (m.key == 0 || (oldest->key != 0 && static_cast<std::int32_t>(m.last - oldest->last) < 0)) {
                oldest = &m;
            }
        }
        *oldest = {};
        oldest->key = key;
        oldest->policy_id = policy_id;
        oldest->method = method;
        oldest->address = address;
        oldest->per_second = per_second;
        oldest->tokens = std::uint64_t{std::max<std::uint32_t>(per_second, 1)} * 1000; // a new bucket starts full
        oldest->last = now;
        oldest->second = now;
        return *oldest;
    }

    std::vector<set> sets_;
    std::uint32_t ticks_;
};

} // namespace sipalg::nat
