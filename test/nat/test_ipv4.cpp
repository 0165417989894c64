// IPv4 text forms and the receive checks of RFC 1812 §5.2.2 on real header bytes.
#include "nat/ipv4.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstring>
#include <vector>

using namespace sipalg;

namespace {

// A valid 20-byte header (192.168.0.1 -> 192.168.0.199, UDP, checksum 0xb861) followed by `payload`
// bytes, as a router would see it after the Ethernet header.
std::vector<std::uint8_t> packet(std::size_t payload = 95)
{
    std::vector<std::uint8_t> p{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    p.resize(20 + payload);
    return p;
}

void fix_checksum(std::vector<std::uint8_t>& p)
{
    p[10] = 0;
    p[11] = 0;
    const auto ihl = (p[0] & 0xfu) * 4u;
    const be16 c = internet_checksum(std::as_bytes(std::span(p.data(), ihl)));
    std::memcpy(&p[10], &c, 2);
}

ipv4_error check(const std::vector<std::uint8_t>& p)
{
    return check_ipv4(p.data(), p.size()).error;
}

} // namespace

TEST_CASE("dotted quads parse strictly")
{
    REQUIRE(parse_ipv4("10.0.1.1") == make_ipv4(10, 0, 1, 1));
    REQUIRE(parse_ipv4("255.255.255.255") == 0xffffffffu);
    REQUIRE(parse_ipv4("0.0.0.0") == 0u);
    for (const char* bad : {"", "10.0.1", "10.0.1.1.", "10.0.1.256", "10..1.1", "a.b.c.d", "10.0.1.1 ", " 10.0.1.1",
                            "1000.0.0.1", "10.0.1.-1"}) {
        INFO(bad);
        REQUIRE_FALSE(parse_ipv4(bad).has_value());
    }
    REQUIRE_FALSE(parse_ipv4(std::string_view{}).has_value()); // null data: end == null must not pass
    REQUIRE(parse_ipv4("010.001.1.09") == make_ipv4(10, 1, 1, 9)); // leading zeros, up to three digits
    REQUIRE_FALSE(parse_ipv4("0010.0.0.1").has_value());
}

TEST_CASE("a dotted quad embedded in text stops where the address ends")
{
    const std::string_view text = "192.0.2.10:5060";
    const auto a = scan_ipv4(text.data(), text.data() + text.size());
    REQUIRE(a.stop == text.data() + 10);
    REQUIRE(a.address == make_ipv4(192, 0, 2, 10));
    const std::string_view cut = "192.0.2";
    REQUIRE(scan_ipv4(cut.data(), cut.data() + cut.size()).stop == nullptr);
    const std::string_view long_octet = "192.0.2.1000";
    REQUIRE(scan_ipv4(long_octet.data(), long_octet.data() + long_octet.size()).stop == nullptr);
}

TEST_CASE("prefixes parse in slash and FortiOS netmask form")
{
    REQUIRE(parse_ipv4_prefix("10.0.1.1/24") == ipv4_prefix{make_ipv4(10, 0, 1, 1), 24});
    REQUIRE(parse_ipv4_prefix("10.0.1.1 255.255.255.0") == ipv4_prefix{make_ipv4(10, 0, 1, 1), 24});
    REQUIRE(parse_ipv4_prefix("0.0.0.0 0.0.0.0") == ipv4_prefix{0, 0});
    REQUIRE(parse_ipv4_prefix("0.0.0.0/0") == ipv4_prefix{0, 0});
    REQUIRE_FALSE(parse_ipv4_prefix("10.0.1.1/33").has_value());
    REQUIRE_FALSE(parse_ipv4_prefix("10.0.1.1/").has_value());
    REQUIRE_FALSE(parse_ipv4_prefix("10.0.1.1 255.0.255.0").has_value()); // mask with a hole
    REQUIRE_FALSE(parse_ipv4_prefix("10.0.1.1").has_value());
    const ipv4_prefix p{make_ipv4(10, 0, 1, 77), 24};
    REQUIRE(p.network() == make_ipv4(10, 0, 1, 0));
    REQUIRE(p.broadcast() == make_ipv4(10, 0, 1, 255));
    REQUIRE(p.contains(make_ipv4(10, 0, 1, 200)));
    REQUIRE_FALSE(p.contains(make_ipv4(10, 0, 2, 1)));
    REQUIRE(format_prefix(p) == "10.0.1.77/24");
    REQUIRE(ipv4_prefix{0, 0}.contains(make_ipv4(8, 8, 8, 8)));
}

TEST_CASE("MAC addresses round-trip")
{
    const auto m = parse_mac("02:00:5E:10:00:0a");
    REQUIRE(m.has_value());
    REQUIRE(format_mac(*m) == "02:00:5e:10:00:0a");
    REQUIRE(parse_mac("02-00-5e-10-00-0a") == m);
    REQUIRE_FALSE(parse_mac("02:00:5e:10:00").has_value());
    REQUIRE_FALSE(parse_mac("02:00:5e:10:00:0g").has_value());
}

TEST_CASE("a valid header passes and reports its lengths")
{
    const auto p = packet();
    const auto r = check_ipv4(p.data(), p.size());
    REQUIRE(r.error == ipv4_error::ok);
    REQUIRE(r.header_length == 20);
    REQUIRE(r.total_length == 0x73);
}

TEST_CASE("link-layer padding beyond the total length is allowed")
{
    auto p = packet(95 + 10);
    REQUIRE(check_ipv4(p.data(), p.size()).total_length == 0x73);
}

TEST_CASE("each malformed header gets its own reason")
{
    SECTION("truncated below 20 bytes")
    {
        auto p = packet();
        REQUIRE(check_ipv4(p.data(), 19).error == ipv4_error::ipv4_truncated);
    }
    SECTION("frame shorter than the total length")
    {
        auto p = packet(50);
        REQUIRE(check(p) == ipv4_error::ipv4_truncated);
    }
    SECTION("version 6")
    {
        auto p = packet();
        p[0] = 0x65;
        fix_checksum(p);
        REQUIRE(check(p) == ipv4_error::ipv4_bad_version);
    }
    SECTION("header length 4 words")
    {
        auto p = packet();
        p[0] = 0x44;
        REQUIRE(check(p) == ipv4_error::ipv4_bad_header_length);
    }
    SECTION("total length below the header")
    {
        auto p = packet();
        p[2] = 0;
        p[3] = 19;
        fix_checksum(p);
        REQUIRE(check(p) == ipv4_error::ipv4_bad_total_length);
    }
    SECTION("checksum off by one")
    {
        auto p = packet();
        p[11] ^= 1;
        REQUIRE(check(p) == ipv4_error::ipv4_bad_checksum);
    }
    SECTION("loopback source")
    {
        auto p = packet();
        p[12] = 127;
        fix_checksum(p);
        REQUIRE(check(p) == ipv4_error::ipv4_martian_source);
    }
    SECTION("multicast source")
    {
        auto p = packet();
        p[12] = 224;
        fix_checksum(p);
        REQUIRE(check(p) == ipv4_error::ipv4_martian_source);
    }
}

TEST_CASE("a header with options is checked over its full length")
{
    auto p = packet();
    // Insert a 4-byte NOP option block: IHL 6, total length + 4.
    p.insert(p.begin() + 20, {1, 1, 1, 0});
    p[0] = 0x46;
    p[3] = 0x77;
    fix_checksum(p);
    const auto r = check_ipv4(p.data(), p.size());
    REQUIRE(r.error == ipv4_error::ok);
    REQUIRE(r.header_length == 24);
    p[21] = 7; // damage an option byte: the checksum covers it
    REQUIRE(check(p) == ipv4_error::ipv4_bad_checksum);
}

TEST_CASE("martian classification matches RFC 1812 for every first octet")
{
    for (unsigned first = 0; first < 256; ++first) {
        const ipv4_address a = make_ipv4(first, 1, 2, 3);
        INFO(first);
        REQUIRE(is_martian_source(a) == (first == 0 || first == 127 || first >= 224));
    }
}

TEST_CASE("multicast is recognised")
{
    REQUIRE(is_multicast(make_ipv4(239, 1, 2, 3)));
    REQUIRE_FALSE(is_multicast(make_ipv4(198, 51, 100, 1)));
}

TEST_CASE("fragment detection looks at MF and the offset, not DF")
{
    ipv4_header h{};
    h.frag = be16::from_host(ipv4_frag::dont_fragment);
    REQUIRE_FALSE(is_fragment(h));
    h.frag = be16::from_host(ipv4_frag::more_fragments);
    REQUIRE(is_fragment(h));
    h.frag = be16::from_host(185);
    REQUIRE(is_fragment(h));
}
