#pragma once
// Wire layouts of the L2-L4 headers the appliance reads and writes: Ethernet II, ARP for IPv4 over
// Ethernet (RFC 826), IPv4 (RFC 791 §3.1), ICMP (RFC 792), UDP (RFC 768), TCP (RFC 793 §3.1).
// Packed, network byte order through be16/be32; they are overlays on frame bytes, never copies.
#include "nat/byte_order.hpp"

#include <array>
#include <cstdint>

namespace sipalg {

using mac_address = std::array<std::uint8_t, 6>;

inline constexpr mac_address mac_broadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
inline constexpr mac_address mac_zero{};

namespace ethertype {
inline constexpr std::uint16_t ipv4 = 0x0800;
inline constexpr std::uint16_t arp = 0x0806;
inline constexpr std::uint16_t vlan = 0x8100;
inline constexpr std::uint16_t ipv6 = 0x86dd;
} // namespace ethertype

struct [[gnu::packed]] ether_header {
    mac_address dst;
    mac_address src;
    be16 type;
};
static_assert(sizeof(ether_header) == 14);

// RFC 826 packet for hardware type Ethernet (1) and protocol IPv4 (0x0800).
struct [[gnu::packed]] arp_packet {
    be16 htype;
    be16 ptype;
    std::uint8_t hlen;
    std::uint8_t plen;
    be16 oper;
    mac_address sha;
    be32 spa;
    mac_address tha;
    be32 tpa;
};
static_assert(sizeof(arp_packet) == 28);

namespace arp_op {
inline constexpr std::uint16_t request = 1;
inline constexpr std::uint16_t reply = 2;
} // namespace arp_op

namespace ip_proto {
inline constexpr std::uint8_t icmp = 1;
inline constexpr std::uint8_t tcp = 6;
inline constexpr std::uint8_t udp = 17;
} // namespace ip_proto

struct [[gnu::packed]] ipv4_header {
    std::uint8_t version_ihl;
    std::uint8_t tos;
    be16 total_length;
    be16 id;
    be16 frag; // flags (3 bits) and fragment offset in 8-byte units
    std::uint8_t ttl;
    std::uint8_t protocol;
    be16 checksum;
    be32 src;
    be32 dst;

    constexpr unsigned header_length() const noexcept
    {
        return (version_ihl & 0x0fu) * 4u;
    }
};
static_assert(sizeof(ipv4_header) == 20);

namespace ipv4_frag {
inline constexpr std::uint16_t dont_fragment = 0x4000;
inline constexpr std::uint16_t more_fragments = 0x2000;
inline constexpr std::uint16_t offset_mask = 0x1fff;
} // namespace ipv4_frag

struct [[gnu::packed]] icmp_header {
    std::uint8_t type;
    std::uint8_t code;
    be16 checksum;
    be16 id;  // echo: identifier; destination unreachable code 4: unused
    be16 seq; // echo: sequence number; destination unreachable code 4: next-hop MTU (RFC 1191 §4)
};
static_assert(sizeof(icmp_header) == 8);

namespace icmp_type {
inline constexpr std::uint8_t echo_reply = 0;
inline constexpr std::uint8_t dest_unreachable = 3;
inline constexpr std::uint8_t echo_request = 8;
inline constexpr std::uint8_t time_exceeded = 11;
} // namespace icmp_type

namespace icmp_code {
inline constexpr std::uint8_t net_unreachable = 0;
inline constexpr std::uint8_t host_unreachable = 1;
inline constexpr std::uint8_t fragmentation_needed = 4;
inline constexpr std::uint8_t ttl_exceeded_in_transit = 0;
} // namespace icmp_code

struct [[gnu::packed]] udp_header {
    be16 src_port;
    be16 dst_port;
    be16 length;
    be16 checksum;
};
static_assert(sizeof(udp_header) == 8);

struct [[gnu::packed]] tcp_header {
    be16 src_port;
    be16 dst_port;
    be32 seq;
    be32 ack;
    std::uint8_t data_offset; // upper 4 bits, in 32-bit words
    std::uint8_t flags;
    be16 window;
    be16 checksum;
    be16 urgent;
};
static_assert(sizeof(tcp_header) == 20);

namespace tcp_flag {
inline constexpr std::uint8_t fin = 0x01;
inline constexpr std::uint8_t syn = 0x02;
inline constexpr std::uint8_t rst = 0x04;
inline constexpr std::uint8_t psh = 0x08;
inline constexpr std::uint8_t ack = 0x10;
} // namespace tcp_flag

} // namespace sipalg
