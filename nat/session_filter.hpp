#pragma once
// Which sessions a session list or clear is about: the fields of FortiOS "diagnose sys session filter"
// (src, dst, sport, dport, proto, policy), each unset by default. Addresses and ports are the
// originator's, as the session was created (before translation), in host order.
#include "nat/session.hpp"

#include <cstdint>
#include <optional>

namespace sipalg::nat {

struct session_filter {
    std::optional<ipv4_address> src;
    std::optional<ipv4_address> dst;
    std::optional<std::uint16_t> sport;
    std::optional<std::uint16_t> dport;
    std::optional<std::uint8_t> proto;
    std::optional<std::uint32_t> policy;

    bool matches(const session& s) const noexcept
    {
        return (!src || *src == s.key.src.to_host()) && (!dst || *dst == s.key.dst.to_host()) &&
               (!sport || *sport == s.key.sport.to_host()) && (!dport || *dport == s.key.dport.to_host()) &&
               (!proto || *proto == s.key.proto) && (!policy || *policy == s.policy_id);
    }
};

// A copy of one session for a list, with times turned into seconds.
struct session_info {
    flow_key key;            // the originator's packets as they arrive
    nat_rewrite rewrite[2];  // what each direction becomes
    session_state state = session_state::other;
    std::uint8_t flags = 0;
    std::uint32_t policy_id = 0;
    std::uint32_t expires_in = 0; // seconds
    std::uint32_t age = 0;        // seconds
    std::uint64_t packets[2] = {0, 0};
    std::uint64_t bytes[2] = {0, 0};
    std::uint16_t in_interface = 0;
    std::uint16_t out_interface = 0;
    unsigned worker = 0;
};

} // namespace sipalg::nat
