#pragma once
// Which sessions a session list or clear is about: the fields of FortiOS "diagnose sys session filter"
// (src, dst, sport, dport, proto, policy), each unset by default. Addresses and ports are the
// originator's, as the session was created (before translation), in host order.
#include "nat/session.hpp"

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

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

// "src=10.0.1.2 dport=53" (or comma-separated): the fields of "diagnose sys session filter"; empty
// means every session. Nothing when a field or value is not one of those.
inline std::optional<session_filter> parse_session_filter(std::string_view text)
{
    session_filter f;
    while (!text.empty()) {
        const auto sep = text.find_first_of(", ");
        const std::string_view item = text.substr(0, sep);
        text = sep == std::string_view::npos ? std::string_view{} : text.substr(sep + 1);
        if (item.empty()) {
            continue;
        }
        const auto eq = item.find('=');
        if (eq == std::string_view::npos) {
            return std::nullopt;
        }
        const std::string_view key = item.substr(0, eq);
        const std::string_view value = item.substr(eq + 1);
        std::uint64_t n = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        const bool number = !value.empty() && ec == std::errc{} && end == value.data() + value.size();
        if (key == "src" || key == "dst") {
            const auto a = parse_ipv4(value);
            if (!a) {
                return std::nullopt;
            }
            (key == "src" ? f.src : f.dst) = *a;
        } else if ((key == "sport" || key == "dport") && number && n <= 65535) {
            (key == "sport" ? f.sport : f.dport) = static_cast<std::uint16_t>(n);
        } else if (key == "proto" && number && n <= 255) {
            f.proto = static_cast<std::uint8_t>(n);
        } else if (key == "policy" && number && n <= 0xffffffffu) {
            f.policy = static_cast<std::uint32_t>(n);
        } else {
            return std::nullopt;
        }
    }
    return f;
}

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
    sip_engine engine = sip_engine::none;
    std::uint8_t voip_flags = 0;
    unsigned worker = 0;
};

} // namespace sipalg::nat
