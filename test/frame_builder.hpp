#pragma once
// Ethernet/IPv4 frames with a UDP or TCP header, built into an mbuf, for the in-process benchmark
// (bench_calls) and the worker fuzz target (fuzz_worker), which feed a real worker through ring ports.
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <netinet/in.h>

namespace sipalg::test {

struct frame_spec {
    std::array<std::uint8_t, 6> src_mac{};
    std::array<std::uint8_t, 6> dst_mac{};
    std::uint32_t src = 0; // host order
    std::uint32_t dst = 0;
    std::uint8_t proto = IPPROTO_UDP;
    std::uint16_t sport = 0;
    std::uint16_t dport = 0;
    std::uint32_t seq = 0; // TCP only
    std::uint32_t ack = 0;
    std::uint8_t flags = 0;
};

// The frame `f` with `payload` (cut to what one mbuf holds), checksums set; nullptr when `pool` is empty
// (or its mbufs too small for the headers).
inline rte_mbuf* build_frame(rte_mempool* pool, const frame_spec& f, const void* payload, std::size_t len)
{
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) {
        return nullptr;
    }
    const std::size_t l4 = f.proto == IPPROTO_UDP ? sizeof(rte_udp_hdr) : sizeof(rte_tcp_hdr);
    len = std::min<std::size_t>(len, rte_pktmbuf_tailroom(m) - sizeof(rte_ether_hdr) - sizeof(rte_ipv4_hdr) - l4);
    const std::size_t total = sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + l4 + len;
    auto* eth = reinterpret_cast<rte_ether_hdr*>(rte_pktmbuf_append(m, static_cast<std::uint16_t>(total)));
    if (eth == nullptr) {
        rte_pktmbuf_free(m);
        return nullptr;
    }
    std::memcpy(eth->dst_addr.addr_bytes, f.dst_mac.data(), 6);
    std::memcpy(eth->src_addr.addr_bytes, f.src_mac.data(), 6);
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
    std::memset(ip, 0, sizeof(*ip));
    ip->version_ihl = 0x45;
    ip->total_length = rte_cpu_to_be_16(static_cast<std::uint16_t>(total - sizeof(rte_ether_hdr)));
    ip->time_to_live = 64;
    ip->next_proto_id = f.proto;
    ip->src_addr = rte_cpu_to_be_32(f.src);
    ip->dst_addr = rte_cpu_to_be_32(f.dst);
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    if (len != 0) {
        std::memcpy(reinterpret_cast<std::uint8_t*>(ip + 1) + l4, payload, len);
    }
    if (f.proto == IPPROTO_UDP) {
        auto* u = reinterpret_cast<rte_udp_hdr*>(ip + 1);
        u->src_port = rte_cpu_to_be_16(f.sport);
        u->dst_port = rte_cpu_to_be_16(f.dport);
        u->dgram_len = rte_cpu_to_be_16(static_cast<std::uint16_t>(l4 + len));
        u->dgram_cksum = 0;
        u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
    } else {
        auto* t = reinterpret_cast<rte_tcp_hdr*>(ip + 1);
        std::memset(t, 0, sizeof(*t));
        t->src_port = rte_cpu_to_be_16(f.sport);
        t->dst_port = rte_cpu_to_be_16(f.dport);
        t->sent_seq = rte_cpu_to_be_32(f.seq);
        t->recv_ack = rte_cpu_to_be_32(f.ack);
        t->data_off = 5 << 4;
        t->tcp_flags = f.flags;
        t->rx_win = rte_cpu_to_be_16(65535);
        t->cksum = rte_ipv4_udptcp_cksum(ip, t);
    }
    return m;
}

} // namespace sipalg::test
