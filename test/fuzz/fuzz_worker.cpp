// libFuzzer target for the worker's SIP path (dataplane/sip.cpp with sip/ and nat/ under it): a real
// worker on its own lcore, on two ring-backed ports (rte_eth_from_rings), the SIP ALG on 5060 and the
// session helper on 5070, and each input a sequence of packets it decodes into UDP datagrams and TCP
// segments between an inside phone and an outside peer, both ways. TCP connections are opened first
// (SYN, SYN-ACK, ACK) and their segments may come at any offset of either stream, with any flags: out of
// order, repeated, overlapping, cut anywhere. Built with AddressSanitizer and UBSan by scripts/fuzz: the
// worker must never read or write outside what it owns, whatever arrives.
//
// Input: records, each a command byte then its fields (big-endian numbers):
//   UDP  0 d e s pp x, len:2, payload   d: from outside; e: to the helper's port 5070 (else the ALG's
//        5060); s: the phone's port is one of four (pp) of this input, else the SIP port itself
//   TCP  1 cc d ffff, seq:2, ack:2, len:2, payload   connection cc (odd: the helper's), d: from outside,
//        flags ffff (FIN SYN RST PSH as bits 0..3; ACK always), seq/ack as offsets from that direction's
//        first byte
#include "control/config.hpp"
#include "control/route_plan.hpp"
#include "dataplane/appliance.hpp"
#include "test/frame_builder.hpp"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include <unistd.h>

using namespace sipalg;

namespace {

constexpr std::uint32_t phone_ip = RTE_IPV4(10, 0, 1, 2);
constexpr std::uint32_t peer_ip = RTE_IPV4(198, 51, 100, 2);
constexpr std::uint32_t public_ip = RTE_IPV4(198, 51, 100, 1);
constexpr std::array<std::uint8_t, 6> phone_mac{2, 0, 0, 0, 0, 2};
constexpr std::array<std::uint8_t, 6> port1_mac{2, 0, 0, 0, 0, 1};
constexpr std::array<std::uint8_t, 6> wan1_mac{2, 0, 0, 0, 1, 1};
constexpr std::array<std::uint8_t, 6> peer_mac{2, 0, 0, 0, 1, 2};
constexpr std::uint32_t isn[2] = {1000000, 5000000};

const char* const config_text = R"(
system:
  interface:
    port1: {dpdk-port: net_ring_fuzz_inside, ip: 10.0.1.1/24, macaddr: "02:00:00:00:00:01"}
    wan1: {dpdk-port: net_ring_fuzz_outside, ip: 198.51.100.1/24, macaddr: "02:00:00:00:01:01"}
  arp-table:
    1: {interface: wan1, ip: 198.51.100.2, mac: "02:00:00:00:01:02"}
    2: {interface: port1, ip: 10.0.1.2, mac: "02:00:00:00:00:02"}
  session-helper: {13: {name: sip, protocol: 17, port: 5060}, 20: {name: sip, port: 5070}}
voip:
  profile:
    default: {sip: {status: enable, hosted-nat-traversal: enable, open-privileged-pinhole: enable,
                    malformed-header-via: respond, malformed-header-cseq: respond, malformed-header-sdp-m: discard,
                    max-body-length: 4000, invite-rate: 50, register-rate: 5, register-rate-track: src-ip,
                    open-via-pinhole: enable, register-contact-trace: enable, rfc2543-branch: enable,
                    max-idle-dialogs: 2, call-keepalive: 1}}
firewall:
  policy:
    1: {name: out, srcintf: port1, dstintf: wan1, srcaddr: all, dstaddr: all, action: accept, service: ALL, nat: enable}
)";

struct harness {
    rte_mempool* pool = nullptr;
    std::array<rte_ring*, 4> rings{}; // inside rx, inside tx, outside rx, outside tx
    std::unique_ptr<dp::appliance> app;
    std::uint32_t round = 0;
};

harness* h = nullptr;

rte_ring* ring(const char* name)
{
    rte_ring* r = rte_ring_create(name, 4096, static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (r == nullptr) {
        std::fprintf(stderr, "fuzz_worker: cannot create ring %s\n", name);
        std::abort();
    }
    return r;
}

// An Ethernet/IPv4 frame with a UDP or TCP header and `payload`, one way or the other.
rte_mbuf* frame(bool from_outside, std::uint8_t proto, std::uint16_t sport, std::uint16_t dport, std::uint32_t seq,
                std::uint32_t ack, std::uint8_t flags, const std::uint8_t* payload, std::size_t len)
{
    return test::build_frame(h->pool,
                             {from_outside ? peer_mac : phone_mac, from_outside ? wan1_mac : port1_mac,
                              from_outside ? peer_ip : phone_ip, from_outside ? public_ip : peer_ip, proto, sport, dport,
                              seq, ack, flags},
                             payload, len);
}

// Hands the frames to the ports and waits until the worker has read them all and is idle again; what
// the ports sent is freed.
void deliver(std::vector<std::pair<bool, rte_mbuf*>>& frames)
{
    const auto before = h->app->totals()[static_cast<std::size_t>(dp::counter::rx_packets)];
    std::uint64_t sent = 0;
    for (auto& [outside, m] : frames) {
        if (m != nullptr && rte_ring_sp_enqueue(h->rings[outside ? 2 : 0], m) == 0) {
            ++sent;
        } else {
            rte_pktmbuf_free(m);
        }
    }
    frames.clear();
    const std::uint64_t deadline = rte_rdtsc() + rte_get_tsc_hz() * 5;
    while (h->app->totals()[static_cast<std::size_t>(dp::counter::rx_packets)] < before + sent && rte_rdtsc() < deadline) {
        rte_pause();
    }
    while (!h->app->drained(1) && rte_rdtsc() < deadline) {
        rte_pause();
    }
    std::array<rte_mbuf*, 64> out;
    for (unsigned r : {1u, 3u}) {
        unsigned n;
        while ((n = rte_ring_sc_dequeue_burst(h->rings[r], reinterpret_cast<void**>(out.data()), out.size(), nullptr)) != 0) {
            rte_pktmbuf_free_bulk(out.data(), n);
        }
    }
}

std::uint16_t load16(const std::uint8_t* p)
{
    return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    static char arg0[] = "fuzz_worker";
    static char a1[] = "-l";
    static char a2[] = "0,1";
    static char a3[] = "--no-huge";
    static char a4[] = "--no-pci";
    static char a5[] = "-m";
    static char a6[] = "256";
    static char a7[] = "--file-prefix";
    static std::array<char, 32> a8{};
    std::snprintf(a8.data(), a8.size(), "fuzz_worker_%d", static_cast<int>(getpid()));
    static char a9[] = "--log-level=lib.*:error";
    static char* argv[] = {arg0, a1, a2, a3, a4, a5, a6, a7, a8.data(), a9, nullptr};
    if (rte_eal_init(10, argv) < 0) {
        std::fprintf(stderr, "fuzz_worker: EAL initialisation failed (two cores, --no-huge)\n");
        std::abort();
    }
    h = new harness;
    h->pool = rte_pktmbuf_pool_create("fuzz_pool", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, static_cast<int>(rte_socket_id()));
    h->rings = {ring("fuzz_in_rx"), ring("fuzz_in_tx"), ring("fuzz_out_rx"), ring("fuzz_out_tx")};
    if (h->pool == nullptr || rte_eth_from_rings("fuzz_inside", &h->rings[0], 1, &h->rings[1], 1, rte_socket_id()) < 0 ||
        rte_eth_from_rings("fuzz_outside", &h->rings[2], 1, &h->rings[3], 1, rte_socket_id()) < 0) {
        std::fprintf(stderr, "fuzz_worker: cannot create the ring ports\n");
        std::abort();
    }
    auto loaded = control::load_yaml(config_text);
    auto planned = control::build_plan(loaded.cfg);
    if (!loaded.ok() || !planned.ok()) {
        std::fprintf(stderr, "fuzz_worker: bad built-in configuration\n");
        std::abort();
    }
    dp::options opts;
    opts.mbufs = 8191;
    opts.sessions = 1u << 16;
    opts.pinholes = 4096;
    opts.sip_tcp_buffers = 64;
    opts.sip_tcp_pages = 512;
    auto started = dp::appliance::start(planned.plan, opts);
    if (!started.app) {
        std::fprintf(stderr, "fuzz_worker: %s\n", started.error.c_str());
        std::abort();
    }
    h->app = std::move(started.app);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    // Fresh ports each input: its connections and calls are its own (older ones age out).
    const auto base = static_cast<std::uint16_t>(20000 + (h->round++ % 4000) * 8);
    std::vector<std::pair<bool, rte_mbuf*>> frames;
    // Open the four TCP connections (phone port base+4+c to 5060 or 5070).
    for (unsigned c = 0; c < 4; ++c) {
        const auto sport = static_cast<std::uint16_t>(base + 4 + c);
        const std::uint16_t dport = (c & 1) ? 5070 : 5060;
        frames.emplace_back(false, frame(false, IPPROTO_TCP, sport, dport, isn[0], 0, RTE_TCP_SYN_FLAG, nullptr, 0));
        frames.emplace_back(true, frame(true, IPPROTO_TCP, dport, sport, isn[1], isn[0] + 1,
                                        RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, nullptr, 0));
        frames.emplace_back(false, frame(false, IPPROTO_TCP, sport, dport, isn[0] + 1, isn[1] + 1, RTE_TCP_ACK_FLAG, nullptr, 0));
    }
    deliver(frames);
    std::size_t i = 0;
    while (i < size && frames.size() < 64) {
        const std::uint8_t op = data[i++];
        if ((op & 0x80) == 0) {
            if (i + 2 > size) {
                break;
            }
            const std::size_t len = std::min<std::size_t>(load16(data + i), size - i - 2);
            i += 2;
            const bool outside = (op & 0x40) != 0;
            const std::uint16_t engine_port = (op & 0x20) ? 5070 : 5060;
            const auto phone_port = static_cast<std::uint16_t>((op & 0x10) ? base + (op >> 1 & 3) : engine_port);
            frames.emplace_back(outside, outside ? frame(true, IPPROTO_UDP, engine_port, phone_port, 0, 0, 0, data + i, len)
                                                 : frame(false, IPPROTO_UDP, phone_port, engine_port, 0, 0, 0, data + i, len));
            i += len;
        } else {
            if (i + 6 > size) {
                break;
            }
            const unsigned c = op >> 5 & 3;
            const bool outside = (op & 0x10) != 0;
            const std::uint8_t f = op & 0x0f;
            const std::uint8_t flags = static_cast<std::uint8_t>(RTE_TCP_ACK_FLAG | ((f & 1) ? RTE_TCP_FIN_FLAG : 0) |
                                                                 ((f & 2) ? RTE_TCP_SYN_FLAG : 0) | ((f & 4) ? RTE_TCP_RST_FLAG : 0) |
                                                                 ((f & 8) ? RTE_TCP_PSH_FLAG : 0));
            const std::uint32_t seq = isn[outside ? 1 : 0] + 1 + load16(data + i);
            const std::uint32_t ack = isn[outside ? 0 : 1] + 1 + load16(data + i + 2);
            const std::size_t len = std::min<std::size_t>(load16(data + i + 4), size - i - 6);
            i += 6;
            const auto sport = static_cast<std::uint16_t>(base + 4 + c);
            const std::uint16_t dport = (c & 1) ? 5070 : 5060;
            frames.emplace_back(outside, outside ? frame(true, IPPROTO_TCP, dport, sport, seq, ack, flags, data + i, len)
                                                 : frame(false, IPPROTO_TCP, sport, dport, seq, ack, flags, data + i, len));
            i += len;
        }
    }
    deliver(frames);
    return 0;
}
