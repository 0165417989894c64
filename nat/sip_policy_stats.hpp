#pragma once
// One worker's SIP message statistics per policy (FortiOS diagnose sys sip-proxy stats): per method,
// requests and responses received and blocked, and the messages of unknown form (a method not known),
// with long header lines, and malformed. Only the worker writes (relaxed atomic stores of words only it
// writes); the control core reads at any time and sums over the workers. A fixed table: policies beyond
// it are counted in its last entry (policy id 0, "other").
#include "nat/policy_table.hpp"

#include <array>
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

class sip_policy_stats : public policy_table<sip_policy_counts, 256> {
public:
    // The entry of `policy_id` (made when new).
    sip_policy_counts& of(std::uint32_t policy_id) noexcept
    {
        return at(slot_of(policy_id));
    }
    static void add(std::uint64_t& v, std::uint64_t n = 1) noexcept
    {
        put(v, v + n);
    }
    static std::uint64_t get(const std::uint64_t& v) noexcept
    {
        return nat::get(v);
    }
};

} // namespace sipalg::nat
