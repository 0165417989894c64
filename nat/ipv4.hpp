#pragma once
// IPv4 addresses, prefixes and the receive-side header checks of a router (RFC 1812 §5.2.2 and the
// martian source rule of §5.3.7). The checks are inline because every forwarded packet
// runs them; the text parsers serve configuration and tests.
#include "nat/checksum.hpp"
#include "nat/headers.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sipalg {

// Addresses in configuration and tables are host-order integers; on the wire they are be32.
using ipv4_address = std::uint32_t;

constexpr ipv4_address make_ipv4(unsigned a, unsigned b, unsigned c, unsigned d) noexcept
{
    return (ipv4_address{a} << 24) | (ipv4_address{b} << 16) | (ipv4_address{c} << 8) | ipv4_address{d};
}

struct ipv4_prefix {
    ipv4_address address = 0; // as written; may have host bits set (an interface address)
    std::uint8_t length = 0;  // 0..32

    constexpr ipv4_address mask() const noexcept
    {
        return length == 0 ? 0u : ~ipv4_address{0} << (32 - length);
    }
    constexpr ipv4_address network() const noexcept
    {
        return address & mask();
    }
    constexpr ipv4_address broadcast() const noexcept
    {
        return network() | ~mask();
    }
    constexpr bool contains(ipv4_address a) const noexcept
    {
        return (a & mask()) == network();
    }
    friend constexpr bool operator==(const ipv4_prefix&, const ipv4_prefix&) = default;
};

// Dotted quad, exactly four decimal parts of one to three digits, each at most 255.
std::optional<ipv4_address> parse_ipv4(std::string_view text);
// A dotted quad at the start of [p, end): the address and the position after it (stop), or a null stop.
// What follows is not looked at, so a caller that embeds addresses in text (SIP, SDP) decides what may
// come next.
struct ipv4_scan {
    const char* stop = nullptr;
    ipv4_address address = 0;
};
ipv4_scan scan_ipv4(const char* p, const char* end) noexcept;
// "a.b.c.d/len" or the FortiOS form "a.b.c.d m.m.m.m" with a contiguous mask.
std::optional<ipv4_prefix> parse_ipv4_prefix(std::string_view text);
// Length of a contiguous netmask, or nothing when the mask has holes.
std::optional<std::uint8_t> netmask_length(ipv4_address mask);
std::string format_ipv4(ipv4_address a);
std::string format_prefix(const ipv4_prefix& p);
// "aa:bb:cc:dd:ee:ff" (also with '-'), two hex digits per byte.
std::optional<mac_address> parse_mac(std::string_view text);
std::string format_mac(const mac_address& m);

// RFC 1812 §5.3.7: a router must not forward a packet whose source is 0/8, 127/8, a multicast or
// class E address (which includes the limited broadcast).
constexpr bool is_martian_source(ipv4_address a) noexcept
{
    const auto first = static_cast<std::uint8_t>(a >> 24);
    // 0 wraps to 255: one comparison covers 0 and 224..255.
    return static_cast<std::uint8_t>(first - 1) >= 223 || first == 127;
}

constexpr bool is_multicast(ipv4_address a) noexcept
{
    return (a >> 28) == 0xe;
}

// Every reason a received IPv4 header is refused; each is also a drop counter (STYLE.md items 7, 21).
#define SIPALG_IPV4_ERRORS(X)                                                                        \
    X(ipv4_truncated, "frame shorter than an IPv4 header or than its total length")                \
    X(ipv4_bad_version, "version field is not 4")                                                  \
    X(ipv4_bad_header_length, "header length field below 5 words")                                 \
    X(ipv4_bad_total_length, "total length smaller than the header")                               \
    X(ipv4_bad_checksum, "header checksum does not verify")                                        \
    X(ipv4_martian_source, "source is 0/8, 127/8, multicast or class E (RFC 1812 5.3.7)")

enum class ipv4_error : std::uint8_t {
    ok = 0,
#define SIPALG_X(name, text) name,
    SIPALG_IPV4_ERRORS(SIPALG_X)
#undef SIPALG_X
};

inline constexpr unsigned ipv4_error_count = 0
#define SIPALG_X(name, text) +1
    SIPALG_IPV4_ERRORS(SIPALG_X)
#undef SIPALG_X
    ;

std::string_view ipv4_error_name(ipv4_error e) noexcept;

struct ipv4_check {
    ipv4_error error = ipv4_error::ok;
    std::uint16_t header_length = 0;
    std::uint16_t total_length = 0;
};

// Checks an IPv4 header at `data` with `avail` bytes of L3 data behind it (RFC 1812 §5.2.2): version,
// header length, total length against the link-layer length, header checksum, martian source.
// Martian destinations are routes to nowhere in the route table (control/route_plan), checked by the
// route lookup every packet makes anyway. Bytes past total_length are link-layer padding; the caller
// trims them.
inline ipv4_check check_ipv4(const void* data, std::size_t avail) noexcept
{
    if (avail < sizeof(ipv4_header)) [[unlikely]] {
        return {ipv4_error::ipv4_truncated};
    }
    const auto* h = static_cast<const ipv4_header*>(data);
    unsigned ihl = sizeof(ipv4_header);
    bool checksum_ok;
    if (h->version_ihl == 0x45) [[likely]] {
        checksum_ok = ipv4_header_csum20_ok(h);
    } else {
        if ((h->version_ihl >> 4) != 4) {
            return {ipv4_error::ipv4_bad_version};
        }
        ihl = h->header_length();
        if (ihl < sizeof(ipv4_header)) {
            return {ipv4_error::ipv4_bad_header_length};
        }
        if (ihl > avail) {
            return {ipv4_error::ipv4_truncated};
        }
        checksum_ok = csum_fold(csum_partial(h, ihl)) == 0xffff;
    }
    const unsigned total = h->total_length.to_host();
    if (total < ihl) [[unlikely]] {
        return {ipv4_error::ipv4_bad_total_length};
    }
    if (total > avail) [[unlikely]] {
        return {ipv4_error::ipv4_truncated};
    }
    if (!checksum_ok) [[unlikely]] {
        return {ipv4_error::ipv4_bad_checksum};
    }
    if (is_martian_source(h->src.to_host())) [[unlikely]] {
        return {ipv4_error::ipv4_martian_source};
    }
    return {ipv4_error::ok, static_cast<std::uint16_t>(ihl), static_cast<std::uint16_t>(total)};
}

constexpr bool is_fragment(const ipv4_header& h) noexcept
{
    constexpr be16 mf_or_offset = be16::from_host(ipv4_frag::more_fragments | ipv4_frag::offset_mask);
    return (h.frag.raw & mf_or_offset.raw) != 0;
}

// The header checksum summed anew (after a change too large for an incremental update).
inline void set_ipv4_checksum(ipv4_header& ip) noexcept
{
    ip.checksum = be16{0};
    ip.checksum = be16{static_cast<std::uint16_t>(~csum_fold(csum_partial(&ip, ip.header_length())))};
}

// The TTL decrement of a forwarded packet with its checksum update. TTL is the high byte of a 16-bit
// word, so the word falls by 0x0100 and the checksum rises by 0x0100 with end-around carry (RFC 1141;
// the same value as RFC 1624 eqn. 3, up to the two forms of zero). One's-complement addition works on
// the network-order bytes as they are.
inline void decrement_ttl(ipv4_header& h) noexcept
{
    h.ttl = static_cast<std::uint8_t>(h.ttl - 1);
    const std::uint32_t c = std::uint32_t{h.checksum.raw} + be16::from_host(0x0100).raw;
    h.checksum.raw = static_cast<std::uint16_t>(c + (c >= 0xffffu ? 1u : 0u));
}

} // namespace sipalg
