// Flow keys and NAT rewrites: a rewrite applied by its precomputed deltas gives exactly the checksums a
// full recomputation gives, for UDP (also with no checksum), TCP and ICMP echo, in both directions of a
// session; and the TCP state machine times a connection's life.
#include "nat/flow.hpp"
#include "nat/session.hpp"

#include "nat/ipv4.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstring>
#include <random>
#include <vector>

using namespace sipalg;
using namespace sipalg::nat;

namespace {

// A packet: IPv4 header (no options) and an L4 part, built with correct checksums.
struct packet {
    std::vector<std::uint8_t> bytes;

    ipv4_header& ip()
    {
        return *reinterpret_cast<ipv4_header*>(bytes.data());
    }
    std::uint8_t* l4()
    {
        return bytes.data() + sizeof(ipv4_header);
    }
    std::size_t l4_len() const
    {
        return bytes.size() - sizeof(ipv4_header);
    }
};

packet make_packet(std::uint8_t proto, ipv4_address src, ipv4_address dst, std::uint16_t sport, std::uint16_t dport,
                   std::size_t payload, std::mt19937& rng, bool udp_checksum = true)
{
    const std::size_t l4_header = proto == ip_proto::tcp ? 20 : 8;
    packet p;
    p.bytes.assign(sizeof(ipv4_header) + l4_header + payload, 0);
    for (std::size_t i = sizeof(ipv4_header) + l4_header; i < p.bytes.size(); ++i) {
        p.bytes[i] = static_cast<std::uint8_t>(rng());
    }
    ipv4_header& ip = p.ip();
    ip.version_ihl = 0x45;
    ip.total_length = be16::from_host(static_cast<std::uint16_t>(p.bytes.size()));
    ip.ttl = 64;
    ip.protocol = proto;
    ip.src = be32::from_host(src);
    ip.dst = be32::from_host(dst);
    ip.checksum = internet_checksum(std::as_bytes(std::span(p.bytes.data(), sizeof(ipv4_header))));
    const auto l4_len = static_cast<std::uint16_t>(p.l4_len());
    if (proto == ip_proto::udp) {
        auto* u = reinterpret_cast<udp_header*>(p.l4());
        u->src_port = be16::from_host(sport);
        u->dst_port = be16::from_host(dport);
        u->length = be16::from_host(l4_len);
        if (udp_checksum) {
            u->checksum = internet_checksum(std::as_bytes(std::span(p.l4(), l4_len)),
                                            pseudo_header_sum(ip.src, ip.dst, proto, l4_len));
            if (u->checksum.raw == 0) {
                u->checksum = be16{0xffff}; // RFC 768: a computed zero is sent as all ones
            }
        }
    } else if (proto == ip_proto::tcp) {
        auto* t = reinterpret_cast<tcp_header*>(p.l4());
        t->src_port = be16::from_host(sport);
        t->dst_port = be16::from_host(dport);
        t->seq = be32::from_host(static_cast<std::uint32_t>(rng()));
        t->data_offset = 0x50;
        t->flags = tcp_flag::ack;
        t->checksum = internet_checksum(std::as_bytes(std::span(p.l4(), l4_len)),
                                        pseudo_header_sum(ip.src, ip.dst, proto, l4_len));
    } else {
        auto* i = reinterpret_cast<icmp_header*>(p.l4());
        i->type = icmp_type::echo_request;
        i->id = be16::from_host(sport);
        i->seq = be16::from_host(7);
        i->checksum = internet_checksum(std::as_bytes(std::span(p.l4(), l4_len)));
    }
    return p;
}

// Verifies every checksum of the packet from scratch.
void require_checksums_valid(packet& p)
{
    ipv4_header& ip = p.ip();
    REQUIRE(internet_checksum(std::as_bytes(std::span(p.bytes.data(), sizeof(ipv4_header)))).raw == 0);
    const auto l4_len = static_cast<std::uint16_t>(p.l4_len());
    if (ip.protocol == ip_proto::icmp) {
        REQUIRE(internet_checksum(std::as_bytes(std::span(p.l4(), l4_len))).raw == 0);
        return;
    }
    if (ip.protocol == ip_proto::udp && reinterpret_cast<udp_header*>(p.l4())->checksum.raw == 0) {
        return;
    }
    REQUIRE(internet_checksum(std::as_bytes(std::span(p.l4(), l4_len)), pseudo_header_sum(ip.src, ip.dst, ip.protocol, l4_len))
                .raw == 0);
}

} // namespace

TEST_CASE("a rewrite by precomputed deltas keeps every checksum right, both ways of a session")
{
    std::mt19937 rng(42);
    for (const std::uint8_t proto : {ip_proto::udp, ip_proto::tcp, ip_proto::icmp}) {
        for (int round = 0; round < 2000; ++round) {
            const auto inside = static_cast<ipv4_address>(rng());
            const auto outside = static_cast<ipv4_address>(rng());
            const auto public_address = static_cast<ipv4_address>(rng());
            const auto sport = static_cast<std::uint16_t>(rng());
            const auto dport = static_cast<std::uint16_t>(rng());
            const auto nat_port = static_cast<std::uint16_t>(rng());
            packet out = make_packet(proto, inside, outside, sport, dport, rng() % 64, rng);
            const auto key = key_of(out.ip(), out.l4(), out.l4_len());
            REQUIRE(key);
            flow_key translated = *key;
            translated.src = be32::from_host(public_address);
            translated.sport = be16::from_host(nat_port);
            if (proto == ip_proto::icmp) {
                translated.dport = translated.sport;
            }
            apply_rewrite(out.ip(), out.l4(), out.l4_len(), make_rewrite(*key, translated));
            require_checksums_valid(out);
            REQUIRE(*key_of(out.ip(), out.l4(), out.l4_len()) == translated);

            // The reply comes back to the public address and is turned back.
            const std::uint16_t reply_sport = proto == ip_proto::icmp ? nat_port : dport;
            packet back = make_packet(proto, outside, public_address, reply_sport, nat_port, rng() % 64, rng);
            const auto reply_key = key_of(back.ip(), back.l4(), back.l4_len());
            REQUIRE(*reply_key == translated.reversed());
            apply_rewrite(back.ip(), back.l4(), back.l4_len(), make_rewrite(*reply_key, key->reversed()));
            require_checksums_valid(back);
            REQUIRE(*key_of(back.ip(), back.l4(), back.l4_len()) == key->reversed());
        }
    }
}

TEST_CASE("a UDP datagram without a checksum keeps none; one whose checksum computes to zero sends 0xffff")
{
    std::mt19937 rng(7);
    packet p = make_packet(ip_proto::udp, make_ipv4(10, 0, 1, 2), make_ipv4(198, 51, 100, 2), 5000, 53, 12, rng, false);
    const auto key = *key_of(p.ip(), p.l4(), p.l4_len());
    flow_key to = key;
    to.src = be32::from_host(make_ipv4(198, 51, 100, 1));
    apply_rewrite(p.ip(), p.l4(), p.l4_len(), make_rewrite(key, to));
    REQUIRE(reinterpret_cast<udp_header*>(p.l4())->checksum.raw == 0);
    require_checksums_valid(p);

    // A new source port chosen so that the translated checksum is zero in one's complement (0x0000 and
    // 0xffff are the same number): ~old + new = HC makes ~(~HC + delta) fold to zero. It must go out as
    // 0xffff, never as "no checksum".
    packet q = make_packet(ip_proto::udp, make_ipv4(10, 0, 1, 2), make_ipv4(198, 51, 100, 2), 5000, 53, 4, rng);
    const auto k = *key_of(q.ip(), q.l4(), q.l4_len());
    const be16 check = reinterpret_cast<udp_header*>(q.l4())->checksum;
    flow_key t = k;
    t.sport = be16{csum_fold(std::uint64_t{check.raw} + k.sport.raw)};
    apply_rewrite(q.ip(), q.l4(), q.l4_len(), make_rewrite(k, t));
    REQUIRE(reinterpret_cast<udp_header*>(q.l4())->checksum.raw == 0xffff);
    require_checksums_valid(q);
}

TEST_CASE("an all-zero ICMP echo keeps its checksum 0xffff when only the addresses change (found by fuzz_nat)")
{
    // Type 0, code 0, identifier 0, sequence 0, no data: the only valid checksum is 0xffff. The
    // identifier's delta is -0, which must not turn it into 0x0000.
    std::vector<std::uint8_t> b(28, 0);
    auto& ip = *reinterpret_cast<ipv4_header*>(b.data());
    ip.version_ihl = 0x45;
    ip.total_length = be16::from_host(28);
    ip.ttl = 64;
    ip.protocol = ip_proto::icmp;
    ip.src = be32::from_host(make_ipv4(10, 0, 1, 2));
    ip.dst = be32::from_host(make_ipv4(198, 51, 100, 2));
    set_ipv4_checksum(ip);
    reinterpret_cast<icmp_header*>(b.data() + 20)->checksum = be16{0xffff};
    const auto key = *key_of(ip, b.data() + 20, 8);
    flow_key to = key;
    to.src = be32::from_host(make_ipv4(198, 51, 100, 1));
    apply_rewrite(ip, b.data() + 20, 8, make_rewrite(key, to));
    CHECK(reinterpret_cast<icmp_header*>(b.data() + 20)->checksum.raw == 0xffff);
    CHECK(internet_checksum(std::as_bytes(std::span(b.data() + 20, 8))).raw == 0);
}

TEST_CASE("keys: ICMP echo uses its identifier both ways; errors and short headers have no key")
{
    std::mt19937 rng(1);
    packet p = make_packet(ip_proto::icmp, make_ipv4(10, 0, 1, 2), make_ipv4(198, 51, 100, 2), 0x1234, 0, 8, rng);
    const auto k = key_of(p.ip(), p.l4(), p.l4_len());
    REQUIRE(k);
    REQUIRE(k->sport == be16::from_host(0x1234));
    REQUIRE(k->dport == k->sport);
    p.l4()[0] = icmp_type::dest_unreachable;
    REQUIRE_FALSE(key_of(p.ip(), p.l4(), p.l4_len()));
    packet u = make_packet(ip_proto::udp, 1, 2, 3, 4, 0, rng);
    REQUIRE_FALSE(key_of(u.ip(), u.l4(), 3));
}

TEST_CASE("lookup keys: an ICMP error is looked up by the packet it quotes, reversed")
{
    std::mt19937 rng(2);
    // The datagram the appliance sent out (after SNAT), as a router quotes it in a port unreachable.
    packet quoted = make_packet(ip_proto::udp, make_ipv4(198, 51, 100, 1), make_ipv4(198, 51, 100, 2), 40000, 9999, 4, rng);
    std::vector<std::uint8_t> err(sizeof(ipv4_header) + sizeof(icmp_header) + sizeof(ipv4_header) + 8, 0);
    auto& outer = *reinterpret_cast<ipv4_header*>(err.data());
    outer.version_ihl = 0x45;
    outer.protocol = ip_proto::icmp;
    outer.src = be32::from_host(make_ipv4(198, 51, 100, 2));
    outer.dst = be32::from_host(make_ipv4(198, 51, 100, 1));
    std::uint8_t* l4 = err.data() + sizeof(ipv4_header);
    l4[0] = icmp_type::dest_unreachable;
    l4[1] = 3;
    std::memcpy(l4 + sizeof(icmp_header), quoted.bytes.data(), sizeof(ipv4_header) + 8);
    const std::size_t l4_len = err.size() - sizeof(ipv4_header);
    const auto k = lookup_key_of(outer, l4, l4_len);
    REQUIRE(k.ok);
    REQUIRE(k.icmp_error);
    const flow_key want{be32::from_host(make_ipv4(198, 51, 100, 2)), be32::from_host(make_ipv4(198, 51, 100, 1)),
                        be16::from_host(9999), be16::from_host(40000), ip_proto::udp, {0, 0, 0}};
    REQUIRE(k.key == want);
    // Quotes too short for the ports, or not IPv4, give no key; an echo gives its own.
    REQUIRE_FALSE(lookup_key_of(outer, l4, sizeof(icmp_header) + sizeof(ipv4_header) + 3).ok);
    l4[sizeof(icmp_header)] = 0x65;
    REQUIRE_FALSE(lookup_key_of(outer, l4, l4_len).ok);
    l4[0] = icmp_type::echo_request;
    const auto echo = lookup_key_of(outer, l4, l4_len);
    REQUIRE(echo.ok);
    REQUIRE_FALSE(echo.icmp_error);
    // Other ICMP messages are keyed by addresses alone.
    l4[0] = 13; // timestamp
    const auto other = lookup_key_of(outer, l4, l4_len);
    REQUIRE(other.ok);
    REQUIRE(other.key.sport.raw == 0);
}

TEST_CASE("TCP states: handshake, half close, close, reset, reopening")
{
    std::uint8_t flags = 0;
    auto s = session_state::tcp_syn_sent;
    const auto step = [&](unsigned dir, std::uint8_t tcp) {
        const auto r = tcp_next(s, flags, dir, tcp);
        s = r.state;
        flags = r.flags;
    };
    REQUIRE(opens_tcp(tcp_flag::syn));
    REQUIRE_FALSE(opens_tcp(tcp_flag::syn | tcp_flag::ack));
    REQUIRE_FALSE(opens_tcp(tcp_flag::ack));
    step(0, tcp_flag::syn); // a retransmitted SYN changes nothing
    REQUIRE(s == session_state::tcp_syn_sent);
    step(1, tcp_flag::syn | tcp_flag::ack);
    REQUIRE(s == session_state::tcp_syn_received);
    step(0, tcp_flag::ack);
    REQUIRE(s == session_state::tcp_established);
    session_timeouts t;
    REQUIRE(timeout_of(s, t) == 3600);
    step(1, tcp_flag::fin | tcp_flag::ack);
    REQUIRE(s == session_state::tcp_closing);
    REQUIRE(timeout_of(s, t) == 120);
    step(0, tcp_flag::ack);
    REQUIRE(s == session_state::tcp_closing);
    step(0, tcp_flag::fin | tcp_flag::ack);
    REQUIRE(s == session_state::tcp_closed);
    REQUIRE(timeout_of(s, t) == 1);
    step(0, tcp_flag::syn);
    REQUIRE(s == session_state::tcp_syn_sent);
    REQUIRE((flags & (session_flag::fin_original | session_flag::fin_reply)) == 0);
    step(1, tcp_flag::rst);
    REQUIRE(s == session_state::tcp_closed);
}
