#pragma once
// Flow keys and NAT rewrites as data (STYLE.md item 9, VPP nat44-ed's nat_6t_flow_t). A flow key is the
// 5-tuple a packet carries, in wire byte order, so building one from headers costs no swaps. A rewrite
// is what one direction of a session does to its packets: the addresses and ports after translation
// and the one's-complement checksum deltas (RFC 1624), computed once when the session is made, so a
// packet only stores the new fields and adds the delta to each checksum.
#include "nat/checksum.hpp"
#include "nat/headers.hpp"

#include <cstdint>
#include <cstring>
#include <optional>

namespace sipalg {

// UDP and TCP: the two ports. ICMP echo (RFC 792) has no ports: its identifier stands in for both, so a
// request and its reply have mirror-image keys like any other flow.
struct flow_key {
    be32 src{0};
    be32 dst{0};
    be16 sport{0};
    be16 dport{0};
    std::uint8_t proto = 0;
    std::uint8_t pad[3] = {0, 0, 0}; // always zero: keys compare as two 64-bit words

    constexpr flow_key reversed() const noexcept
    {
        return flow_key{dst, src, dport, sport, proto, {0, 0, 0}};
    }
    friend bool operator==(const flow_key& a, const flow_key& b) noexcept
    {
        return std::memcmp(&a, &b, sizeof a) == 0;
    }
};
static_assert(sizeof(flow_key) == 16);

// 64-bit hash of a key: two multiply-xorshift rounds over its two words. Table index bits come from
// the top, tags from below them.
inline std::uint64_t flow_hash(const flow_key& k) noexcept
{
    std::uint64_t a;
    std::uint64_t b;
    std::memcpy(&a, &k, 8);
    std::memcpy(&b, reinterpret_cast<const char*>(&k) + 8, 8);
    std::uint64_t h = (a ^ 0x9e3779b97f4a7c15ull) * 0xbf58476d1ce4e5b9ull;
    h ^= b * 0x94d049bb133111ebull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

// Whether the protocol's packets carry ports (or an ICMP echo identifier) that NAT can translate.
constexpr bool has_ports(std::uint8_t proto) noexcept
{
    return proto == ip_proto::udp || proto == ip_proto::tcp || proto == ip_proto::icmp;
}

// What one direction of a session does to its packets.
struct nat_rewrite {
    be32 src{0};
    be32 dst{0};
    be16 sport{0};
    be16 dport{0};
    std::uint16_t ip_delta = 0; // added to the one's complement of the IPv4 header checksum
    std::uint16_t l4_delta = 0; // the same for the UDP/TCP checksum (pseudo-header included) or ICMP

    bool identity(const flow_key& k) const noexcept
    {
        return src == k.src && dst == k.dst && sport == k.sport && dport == k.dport;
    }
};
static_assert(sizeof(nat_rewrite) == 16);

namespace detail {

// The one's-complement sum of (~old + new) over the 16-bit words of a 32-bit field.
constexpr std::uint64_t delta32(be32 before, be32 after) noexcept
{
    return (~before.raw & 0xffffu) + (~before.raw >> 16) + (after.raw & 0xffffu) + (after.raw >> 16);
}
constexpr std::uint64_t delta16(be16 before, be16 after) noexcept
{
    return static_cast<std::uint16_t>(~before.raw) + after.raw;
}

} // namespace detail

// The rewrite that turns packets with key `from` into packets with key `to` (same protocol).
constexpr nat_rewrite make_rewrite(const flow_key& from, const flow_key& to) noexcept
{
    nat_rewrite r;
    r.src = to.src;
    r.dst = to.dst;
    r.sport = to.sport;
    r.dport = to.dport;
    const std::uint64_t addresses = detail::delta32(from.src, to.src) + detail::delta32(from.dst, to.dst);
    r.ip_delta = csum_fold(addresses);
    if (from.proto == ip_proto::icmp) {
        // ICMP has no pseudo-header (RFC 792); its identifier is one 16-bit word of the message.
        r.l4_delta = csum_fold(detail::delta16(from.sport, to.sport));
    } else {
        r.l4_delta = csum_fold(addresses + detail::delta16(from.sport, to.sport) + detail::delta16(from.dport, to.dport));
    }
    return r;
}

// HC' = ~(~HC + delta) (RFC 1624 eqn. 3, the delta summed in advance).
// A result of 0x0000 is sent as 0xffff: the two are the same one's complement zero, but only 0xffff is
// right for data that sums to zero (an all-zero ICMP echo, say: a delta of -0 would otherwise turn
// its correct 0xffff into 0x0000, which receivers reject; found by fuzz_nat), and 0xffff is right
// whenever 0x0000 is.
constexpr be16 csum_apply(be16 check, std::uint16_t delta) noexcept
{
    const auto c = static_cast<std::uint16_t>(~csum_fold(std::uint64_t{static_cast<std::uint16_t>(~check.raw)} + delta));
    return be16{c == 0 ? std::uint16_t{0xffff} : c};
}

// The key of a packet whose IPv4 header is complete and whose L4 header (`l4`, `l4_len` bytes) follows
// it; nothing when the protocol has no ports or the L4 header is short. ICMP: echo request and reply
// only (errors are matched through the packet they quote).
inline std::optional<flow_key> key_of(const ipv4_header& ip, const std::uint8_t* l4, std::size_t l4_len) noexcept
{
    flow_key k;
    k.src = ip.src;
    k.dst = ip.dst;
    k.proto = ip.protocol;
    switch (ip.protocol) {
    case ip_proto::udp:
    case ip_proto::tcp:
        if (l4_len < 4) {
            return std::nullopt;
        }
        std::memcpy(&k.sport, l4, 2);
        std::memcpy(&k.dport, l4 + 2, 2);
        return k;
    case ip_proto::icmp:
        if (l4_len < sizeof(icmp_header) || (l4[0] != icmp_type::echo_request && l4[0] != icmp_type::echo_reply)) {
            return std::nullopt;
        }
        std::memcpy(&k.sport, l4 + 4, 2);
        k.dport = k.sport;
        return k;
    default:
        return k; // other protocols: addresses and protocol only
    }
}

// ICMP messages that quote the packet they are about (RFC 792; RFC 1812 §4.3.2.3): destination
// unreachable, source quench, redirect, time exceeded, parameter problem.
constexpr bool is_icmp_error_type(std::uint8_t type) noexcept
{
    return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

// The key a packet is looked up with. For an ICMP error it is the quoted packet's key reversed: the
// quoted packet went the other way, so the error belongs to the direction of the session the reversed
// key names. Not ok when the L4 header, or the quote, is too short to give one.
struct lookup_key {
    flow_key key;
    bool ok = false;
    bool icmp_error = false;
};

inline lookup_key lookup_key_of(const ipv4_header& ip, const std::uint8_t* l4, std::size_t l4_len) noexcept
{
    lookup_key r;
    if (ip.protocol == ip_proto::icmp && l4_len >= sizeof(icmp_header) && is_icmp_error_type(l4[0])) {
        const std::uint8_t* q = l4 + sizeof(icmp_header);
        const std::size_t q_len = l4_len - sizeof(icmp_header);
        if (q_len < sizeof(ipv4_header)) {
            return r;
        }
        const auto& inner = *reinterpret_cast<const ipv4_header*>(q);
        const unsigned ihl = inner.header_length();
        if ((inner.version_ihl >> 4) != 4 || ihl < sizeof(ipv4_header) || q_len < ihl) {
            return r;
        }
        const std::uint8_t* ql4 = q + ihl;
        const std::size_t ql4_len = q_len - ihl;
        if (inner.protocol == ip_proto::icmp && ql4_len >= sizeof(icmp_header) && is_icmp_error_type(ql4[0])) {
            return r; // an error about an error is never sent (RFC 1122 §3.2.2)
        }
        const auto k = key_of(inner, ql4, ql4_len);
        if (!k) {
            if (inner.protocol == ip_proto::udp || inner.protocol == ip_proto::tcp || inner.protocol == ip_proto::icmp) {
                return r;
            }
        }
        flow_key quoted = k ? *k : flow_key{inner.src, inner.dst, be16{0}, be16{0}, inner.protocol, {0, 0, 0}};
        r.key = quoted.reversed();
        r.ok = true;
        r.icmp_error = true;
        return r;
    }
    if (const auto k = key_of(ip, l4, l4_len)) {
        r.key = *k;
        r.ok = true;
    } else if (ip.protocol == ip_proto::icmp && l4_len >= sizeof(icmp_header)) {
        r.key = flow_key{ip.src, ip.dst, be16{0}, be16{0}, ip.protocol, {0, 0, 0}}; // other ICMP: no identifier
        r.ok = true;
    }
    return r;
}

// Applies a rewrite to a packet: addresses, ports or ICMP identifier, and the checksums by their
// deltas. A UDP checksum of zero means "none" (RFC 768) and stays zero; a computed zero is sent as
// 0xffff. `l4_len` bounds what may be written: ports need 4 bytes (as key_of reads them), the UDP
// checksum 8, TCP's 18.
inline void apply_rewrite(ipv4_header& ip, std::uint8_t* l4, std::size_t l4_len, const nat_rewrite& r) noexcept
{
    ip.src = r.src;
    ip.dst = r.dst;
    ip.checksum = csum_apply(ip.checksum, r.ip_delta);
    switch (ip.protocol) {
    case ip_proto::udp:
    case ip_proto::tcp:
        if (l4_len >= 4) {
            std::memcpy(l4, &r.sport, 2);
            std::memcpy(l4 + 2, &r.dport, 2);
        }
        if (ip.protocol == ip_proto::udp && l4_len >= sizeof(udp_header)) {
            auto* u = reinterpret_cast<udp_header*>(l4);
            if (u->checksum.raw != 0) {
                u->checksum = csum_apply(u->checksum, r.l4_delta); // never 0, which would mean "none"
            }
        } else if (ip.protocol == ip_proto::tcp && l4_len >= 18) {
            auto* t = reinterpret_cast<tcp_header*>(l4);
            t->checksum = csum_apply(t->checksum, r.l4_delta);
        }
        break;
    case ip_proto::icmp:
        if (l4_len >= sizeof(icmp_header)) {
            auto* i = reinterpret_cast<icmp_header*>(l4);
            i->id = r.sport;
            i->checksum = csum_apply(i->checksum, r.l4_delta);
        }
        break;
    default:
        break;
    }
}

} // namespace sipalg
