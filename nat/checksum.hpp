#pragma once
// The Internet checksum (RFC 1071) and its incremental update (RFC 1624), used by the router for the
// TTL decrement and by NAT for address and port rewrites. One's-complement addition does not care about
// byte order as long as every operand has the same one, so the sums here run on the raw network-order
// words and the results are network-order be16 values ready to store.
#include "nat/byte_order.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace sipalg {

// Folds a wide one's-complement accumulator to 16 bits (end-around carry).
constexpr std::uint16_t csum_fold(std::uint64_t sum) noexcept
{
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

// One's-complement sum of the bytes as 16-bit words in memory order, not folded, not complemented.
// An odd trailing byte is padded with zero on the right (RFC 1071 §4.1).
inline std::uint64_t csum_partial(const void* data, std::size_t len, std::uint64_t sum = 0) noexcept
{
    const auto* p = static_cast<const unsigned char*>(data);
    while (len >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        sum += w >> 32;
        sum += w & 0xffffffffu;
        p += 8;
        len -= 8;
    }
    if (len >= 4) {
        std::uint32_t w;
        std::memcpy(&w, p, 4);
        sum += w;
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        std::uint16_t w;
        std::memcpy(&w, p, 2);
        sum += w;
        p += 2;
        len -= 2;
    }
    if (len == 1) {
        std::uint16_t w = 0;
        std::memcpy(&w, p, 1);
        sum += w;
    }
    return sum;
}

// The checksum field value for a buffer whose own checksum field is zero; over a buffer that carries a
// correct checksum the result is zero (RFC 1071 §1 verification).
inline be16 internet_checksum(std::span<const std::byte> bytes, std::uint64_t sum = 0) noexcept
{
    return be16{static_cast<std::uint16_t>(~csum_fold(csum_partial(bytes.data(), bytes.size(), sum)))};
}

// Verifies the checksum of a 20-byte IPv4 header without options, the common case on the fast path.
// The one's-complement sum of a correct header is negative zero (0xffff); since 2^16 = 1 modulo
// 0xffff, summing 32-bit words and taking the rest modulo 0xffff gives the same verdict as folding
// 16-bit words, in fewer instructions. The sum is never zero: the version byte is not.
inline bool ipv4_header_csum20_ok(const void* hdr) noexcept
{
    const auto* p = static_cast<const unsigned char*>(hdr);
    const auto word = [p](int i) {
        std::uint32_t w;
        std::memcpy(&w, p + 4 * i, 4);
        return std::uint64_t{w};
    };
    const std::uint64_t sum = word(0) + word(1) + word(2) + word(3) + word(4);
    return sum % 0xffffu == 0;
}

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit field that changed from m to m'.
constexpr be16 csum_update16(be16 check, be16 old_word, be16 new_word) noexcept
{
    std::uint64_t sum = static_cast<std::uint16_t>(~check.raw);
    sum += static_cast<std::uint16_t>(~old_word.raw);
    sum += new_word.raw;
    return be16{static_cast<std::uint16_t>(~csum_fold(sum))};
}

// The same for a 32-bit field (an address): two 16-bit words at once.
constexpr be16 csum_update32(be16 check, be32 old_word, be32 new_word) noexcept
{
    std::uint64_t sum = static_cast<std::uint16_t>(~check.raw);
    sum += ~old_word.raw & 0xffffffffu;
    sum += new_word.raw;
    return be16{static_cast<std::uint16_t>(~csum_fold(sum))};
}

// Sum of the UDP/TCP pseudo-header (RFC 768, RFC 793 §3.1) for the given network-order addresses,
// protocol and L4 length, to seed csum_partial over the L4 bytes.
constexpr std::uint64_t pseudo_header_sum(be32 src, be32 dst, std::uint8_t proto, std::uint16_t l4_len) noexcept
{
    return std::uint64_t{src.raw} + dst.raw + be16::from_host(proto).raw + be16::from_host(l4_len).raw;
}

} // namespace sipalg
