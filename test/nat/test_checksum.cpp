// Internet checksum (RFC 1071) and incremental updates (RFC 1624) against a plain reference that sums
// big-endian 16-bit words one at a time.
#include "nat/checksum.hpp"
#include "nat/headers.hpp"
#include "nat/ipv4.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstring>
#include <random>
#include <vector>

using namespace sipalg;

namespace {

std::uint16_t reference_checksum(const std::vector<std::uint8_t>& b)
{
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < b.size(); i += 2) {
        const std::uint32_t hi = b[i];
        const std::uint32_t lo = i + 1 < b.size() ? b[i + 1] : 0;
        sum += (hi << 8) | lo;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(~sum & 0xffff);
}

std::uint16_t optimized(const std::vector<std::uint8_t>& b)
{
    return internet_checksum(std::as_bytes(std::span(b))).to_host();
}

std::array<std::uint8_t, 20> sample_header()
{
    // 192.168.0.1 -> 192.168.0.199, UDP, TTL 64, DF: a header whose checksum is 0xb861.
    return {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
            0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
}

} // namespace

TEST_CASE("RFC 1071 section 3 example sums to 0xddf2")
{
    const std::vector<std::uint8_t> b{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    REQUIRE(optimized(b) == static_cast<std::uint16_t>(~0xddf2));
}

be16 header_checksum(const void* h)
{
    return internet_checksum(std::span(static_cast<const std::byte*>(h), 20));
}

TEST_CASE("a known IPv4 header verifies and recomputes to its checksum")
{
    auto h = sample_header();
    REQUIRE(ipv4_header_csum20_ok(h.data()));
    REQUIRE(header_checksum(h.data()).raw == 0);
    h[10] = 0;
    h[11] = 0;
    REQUIRE_FALSE(ipv4_header_csum20_ok(h.data()));
    // The result is in memory (network) order, ready to store.
    const be16 stored = header_checksum(h.data());
    REQUIRE(stored.to_host() == 0xb861);
    std::memcpy(&h[10], &stored, 2);
    REQUIRE(h[10] == 0xb8);
    REQUIRE(h[11] == 0x61);
}

TEST_CASE("optimized sum equals the reference on every length up to 100 bytes")
{
    std::mt19937 rng(1071);
    for (std::size_t len = 0; len <= 100; ++len) {
        std::vector<std::uint8_t> b(len);
        for (auto& x : b) {
            x = static_cast<std::uint8_t>(rng());
        }
        INFO("length " << len);
        REQUIRE(optimized(b) == reference_checksum(b));
    }
}

TEST_CASE("incremental updates equal a full recomputation (RFC 1624)")
{
    std::mt19937 rng(1624);
    for (int round = 0; round < 2000; ++round) {
        std::vector<std::uint8_t> b(40);
        for (auto& x : b) {
            x = static_cast<std::uint8_t>(rng());
        }
        const be16 before{be16::from_host(reference_checksum(b))};
        const std::size_t at16 = (rng() % 20) * 2;
        be16 old16;
        std::memcpy(&old16, &b[at16], 2);
        const be16 new16 = be16::from_host(static_cast<std::uint16_t>(rng()));
        std::memcpy(&b[at16], &new16, 2);
        const be16 after16 = csum_update16(before, old16, new16);
        REQUIRE(after16.to_host() == reference_checksum(b));

        const std::size_t at32 = (rng() % 10) * 4;
        be32 old32;
        std::memcpy(&old32, &b[at32], 4);
        const be32 new32 = be32::from_host(static_cast<std::uint32_t>(rng()));
        std::memcpy(&b[at32], &new32, 4);
        REQUIRE(csum_update32(after16, old32, new32).to_host() == reference_checksum(b));
    }
}

TEST_CASE("TTL decrement keeps the header checksum valid, including the 0xffff edge")
{
    std::mt19937 rng(1141);
    for (int round = 0; round < 200000; ++round) {
        auto bytes = sample_header();
        for (std::size_t i = 12; i < 20; ++i) {
            bytes[i] = static_cast<std::uint8_t>(rng());
        }
        bytes[8] = static_cast<std::uint8_t>(2 + rng() % 254); // TTL >= 2
        bytes[10] = 0;
        bytes[11] = 0;
        be16 c = header_checksum(bytes.data());
        std::memcpy(&bytes[10], &c, 2);
        ipv4_header h;
        std::memcpy(&h, bytes.data(), sizeof h);
        const auto ttl = h.ttl;
        const be16 old_word = be16::from_host(static_cast<std::uint16_t>((h.ttl << 8) | h.protocol));
        const be16 new_word = be16::from_host(static_cast<std::uint16_t>(((h.ttl - 1) << 8) | h.protocol));
        const be16 rfc1624 = csum_update16(h.checksum, old_word, new_word);
        decrement_ttl(h);
        REQUIRE(h.ttl == ttl - 1);
        REQUIRE(ipv4_header_csum20_ok(&h));
        // Same value as RFC 1624 eqn. 3, except that 0x0000 and 0xffff both mean zero.
        const bool same = h.checksum == rfc1624 || (h.checksum.raw == 0 && rfc1624.raw == 0xffff) ||
                          (h.checksum.raw == 0xffff && rfc1624.raw == 0);
        REQUIRE(same);
    }
}

TEST_CASE("the fast header verification agrees with folding, for right and wrong checksums")
{
    std::mt19937 rng(791);
    for (int round = 0; round < 200000; ++round) {
        std::array<std::uint8_t, 20> h{};
        for (auto& x : h) {
            x = static_cast<std::uint8_t>(rng());
        }
        h[0] = 0x45;
        const bool corrupt = round % 2 == 1;
        h[10] = 0;
        h[11] = 0;
        be16 c = header_checksum(h.data());
        if (corrupt) {
            c.raw = static_cast<std::uint16_t>(c.raw + 1 + rng() % 0xfffe);
        }
        std::memcpy(&h[10], &c, 2);
        const bool folded_ok = csum_fold(csum_partial(h.data(), 20)) == 0xffff;
        REQUIRE(ipv4_header_csum20_ok(h.data()) == folded_ok);
        if (!corrupt) {
            REQUIRE(folded_ok);
        }
    }
}

TEST_CASE("UDP checksum with the pseudo-header matches the reference")
{
    // 10.0.1.2:40000 -> 198.51.100.2:5060, payload "hello"
    std::vector<std::uint8_t> udp{0x9c, 0x40, 0x13, 0xc4, 0x00, 0x0d, 0x00, 0x00, 'h', 'e', 'l', 'l', 'o'};
    const be32 src = be32::from_host(make_ipv4(10, 0, 1, 2));
    const be32 dst = be32::from_host(make_ipv4(198, 51, 100, 2));
    std::vector<std::uint8_t> pseudo{10, 0, 1, 2, 198, 51, 100, 2, 0, 17, 0, 13};
    pseudo.insert(pseudo.end(), udp.begin(), udp.end());
    const auto got = internet_checksum(std::as_bytes(std::span(udp)),
                                       pseudo_header_sum(src, dst, ip_proto::udp, static_cast<std::uint16_t>(udp.size())));
    REQUIRE(got.to_host() == reference_checksum(pseudo));
}
