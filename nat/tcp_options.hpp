#pragma once
// The TCP options a middlebox that changes a stream's length must read (RFC 793 §3.1 option format):
// MSS (RFC 6691), window scale and timestamps (RFC 7323 §2, §3), SACK-permitted and SACK blocks
// (RFC 2018 §2, §3). Where each SACK block lies is kept so the data plane can write it back mapped into
// the other numbering. Bounded scan over the option bytes; a malformed list stops the scan (what was
// read before stays).
#include <array>
#include <cstdint>
#include <span>

namespace sipalg::nat {

namespace tcp_option {
inline constexpr std::uint8_t end = 0;
inline constexpr std::uint8_t nop = 1;
inline constexpr std::uint8_t mss = 2;
inline constexpr std::uint8_t window_scale = 3;
inline constexpr std::uint8_t sack_permitted = 4;
inline constexpr std::uint8_t sack = 5;
inline constexpr std::uint8_t timestamps = 8;
} // namespace tcp_option

struct tcp_options {
    std::uint16_t mss = 0;          // 0: none
    std::int8_t window_scale = -1;  // -1: none
    bool sack_permitted = false;
    bool has_timestamps = false;
    std::uint32_t ts_val = 0;
    std::uint32_t ts_ecr = 0;
    std::uint8_t sack_blocks = 0;
    std::uint8_t sack_offset = 0;   // offset of the first block's left edge in the option bytes
};

inline std::uint32_t load_be32(const std::uint8_t* p) noexcept
{
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

inline void store_be32(std::uint8_t* p, std::uint32_t v) noexcept
{
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}

// The options of a TCP header (`bytes`: what follows the 20 fixed bytes, data offset permitting).
inline tcp_options parse_tcp_options(std::span<const std::uint8_t> bytes) noexcept
{
    tcp_options o;
    std::size_t i = 0;
    while (i < bytes.size()) {
        const std::uint8_t kind = bytes[i];
        if (kind == tcp_option::end) {
            break;
        }
        if (kind == tcp_option::nop) {
            ++i;
            continue;
        }
        if (i + 1 >= bytes.size()) {
            break;
        }
        const std::uint8_t len = bytes[i + 1];
        if (len < 2 || i + len > bytes.size()) {
            break;
        }
        const std::uint8_t* v = bytes.data() + i + 2;
        switch (kind) {
        case tcp_option::mss:
            if (len == 4) {
                o.mss = static_cast<std::uint16_t>(v[0] << 8 | v[1]);
            }
            break;
        case tcp_option::window_scale:
            if (len == 3) {
                o.window_scale = static_cast<std::int8_t>(v[0] > 14 ? 14 : v[0]); // RFC 7323 §2.3
            }
            break;
        case tcp_option::sack_permitted:
            o.sack_permitted = len == 2;
            break;
        case tcp_option::sack:
            if ((len - 2) % 8 == 0 && len > 2) {
                o.sack_blocks = static_cast<std::uint8_t>((len - 2) / 8);
                o.sack_offset = static_cast<std::uint8_t>(i + 2);
            }
            break;
        case tcp_option::timestamps:
            if (len == 10) {
                o.has_timestamps = true;
                o.ts_val = load_be32(v);
                o.ts_ecr = load_be32(v + 4);
            }
            break;
        default:
            break;
        }
        i += len;
    }
    return o;
}

} // namespace sipalg::nat
