// SIP calls per second through one worker, driven in-process: the worker runs on its own lcore on two
// ring-backed ports (rte_eth_from_rings), and the main lcore is both the phones behind the appliance
// and the far side in front of it, closed loop. Each phone makes one call after another, in order:
// INVITE (with SDP); the far side answers what it received from the appliance (100, 180 and a 200 with
// SDP, copying the Via, From, To, Call-ID and CSeq as a UAS does, RFC 3261 §8.2.6.2, to the address
// and port the INVITE came from); on the 200 the phone sends ACK, two RTP packets to the answer's media
// port, and BYE; the far side answers the BYE it received; the 200 to the BYE ends the call and the
// phone starts its next. Nothing is precomputed from what the appliance is expected to write.
//
//     bench_calls [EAL options] -- helper|alg [seconds] [phones]
//
// Prints `result calls_per_s_<engine>` (calls completed per second), `result
// sip_cycles_per_message_<engine>` (the worker's busy cycles over the SIP messages it handled, the calls'
// RTP included) and the worker's busy share: when it is below 1 the generator, not the worker, set the
// pace.
#include "control/config.hpp"
#include "control/route_plan.hpp"
#include "dataplane/appliance.hpp"

#include <fmt/format.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

using namespace sipalg;

namespace {

constexpr std::uint32_t phone_ip = RTE_IPV4(10, 1, 0, 2);
constexpr std::uint32_t far_ip = RTE_IPV4(198, 51, 100, 2);
constexpr std::uint16_t far_sip_port = 5060;
constexpr std::uint16_t far_media_port = 30000;
constexpr std::uint16_t first_phone_port = 10000;
constexpr std::uint16_t first_media_port = 20000;
constexpr std::array<std::uint8_t, 6> phone_mac{2, 0, 0, 0, 0, 2};
constexpr std::array<std::uint8_t, 6> port1_mac{2, 0, 0, 0, 0, 1};
constexpr std::array<std::uint8_t, 6> wan1_mac{2, 0, 0, 0, 1, 1};
constexpr std::array<std::uint8_t, 6> far_mac{2, 0, 0, 0, 1, 2};
constexpr unsigned burst = 32;

const char* const config_text = R"(
system:
  interface:
    port1: {dpdk-port: net_ring_bench_inside, ip: 10.1.255.254/16, macaddr: "02:00:00:00:00:01"}
    wan1: {dpdk-port: net_ring_bench_outside, ip: 198.51.100.1/24, macaddr: "02:00:00:00:01:01"}
  arp-table:
    1: {interface: wan1, ip: 198.51.100.2, mac: "02:00:00:00:01:02"}
    2: {interface: port1, ip: 10.1.0.2, mac: "02:00:00:00:00:02"}
firewall:
  policy:
    1: {name: voip-out, srcintf: port1, dstintf: wan1, srcaddr: all, dstaddr: all, action: accept,
        service: ALL, nat: enable}
)";

// The value of the first "\r\nName: value\r\n" line; `line` is "\r\nName: " (the messages here use the
// full header names).
std::string_view header(std::string_view msg, std::string_view line)
{
    const auto at = msg.find(line);
    if (at == std::string_view::npos) {
        return {};
    }
    const auto start = at + line.size();
    const auto end = msg.find("\r\n", start);
    return msg.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

// The call number in "call-<k>@...".
std::uint64_t call_number(std::string_view call_id)
{
    std::uint64_t k = 0;
    if (call_id.size() > 5) {
        std::from_chars(call_id.data() + 5, call_id.data() + call_id.size(), k);
    }
    return k;
}

struct generator {
    rte_mempool* pool;
    rte_ring* inside_rx;  // the phones' packets into port1
    rte_ring* inside_tx;  // what port1 sends to the phones
    rte_ring* outside_rx; // the far side's packets into wan1
    rte_ring* outside_tx; // what wan1 sends to the far side
    std::vector<std::array<char, 128>> to_of_call; // per phone: the To of the 200 (with the far side's tag)
    std::vector<std::uint64_t> call_of_phone;
    std::uint64_t next_call = 0;
    std::uint64_t completed = 0;
    std::uint64_t leaks = 0;       // messages that left with the phone's address
    std::uint64_t unexpected = 0;  // messages the generator could not place
    std::array<rte_mbuf*, burst> in_out{};
    unsigned n_in = 0;
    std::array<rte_mbuf*, burst> out_out{};
    unsigned n_out = 0;
    char text[2048];

    rte_mbuf* frame(const std::array<std::uint8_t, 6>& src_mac, const std::array<std::uint8_t, 6>& dst_mac,
                    std::uint32_t src, std::uint16_t sport, std::uint32_t dst, std::uint16_t dport, const char* payload,
                    std::size_t len)
    {
        rte_mbuf* m = rte_pktmbuf_alloc(pool);
        if (m == nullptr) {
            std::fprintf(stderr, "bench_calls: generator pool empty\n");
            std::exit(1);
        }
        const auto total = static_cast<std::uint16_t>(sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + sizeof(rte_udp_hdr) + len);
        auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, total));
        auto* eth = reinterpret_cast<rte_ether_hdr*>(p);
        std::memcpy(eth->dst_addr.addr_bytes, dst_mac.data(), 6);
        std::memcpy(eth->src_addr.addr_bytes, src_mac.data(), 6);
        eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
        auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
        std::memset(ip, 0, sizeof(*ip));
        ip->version_ihl = 0x45;
        ip->total_length = rte_cpu_to_be_16(static_cast<std::uint16_t>(total - sizeof(rte_ether_hdr)));
        ip->time_to_live = 64;
        ip->next_proto_id = IPPROTO_UDP;
        ip->src_addr = rte_cpu_to_be_32(src);
        ip->dst_addr = rte_cpu_to_be_32(dst);
        auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
        udp->src_port = rte_cpu_to_be_16(sport);
        udp->dst_port = rte_cpu_to_be_16(dport);
        udp->dgram_len = rte_cpu_to_be_16(static_cast<std::uint16_t>(sizeof(rte_udp_hdr) + len));
        udp->dgram_cksum = 0;
        std::memcpy(udp + 1, payload, len);
        ip->hdr_checksum = rte_ipv4_cksum(ip);
        udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
        return m;
    }

    void to_inside(rte_mbuf* m)
    {
        in_out[n_in++] = m;
        if (n_in == burst) {
            flush_inside();
        }
    }
    void to_outside(rte_mbuf* m)
    {
        out_out[n_out++] = m;
        if (n_out == burst) {
            flush_outside();
        }
    }
    static void push(rte_ring* r, std::array<rte_mbuf*, burst>& b, unsigned& n)
    {
        unsigned done = 0;
        while (done < n) {
            done += rte_ring_sp_enqueue_burst(r, reinterpret_cast<void**>(b.data() + done), n - done, nullptr);
        }
        n = 0;
    }
    void flush_inside()
    {
        push(inside_rx, in_out, n_in);
    }
    void flush_outside()
    {
        push(outside_rx, out_out, n_out);
    }

    void phone_send(unsigned phone, std::string_view method, unsigned cseq, bool sdp)
    {
        const auto k = static_cast<unsigned long long>(call_of_phone[phone]);
        const auto sport = static_cast<std::uint16_t>(first_phone_port + phone);
        const auto media = static_cast<std::uint16_t>(first_media_port + 2 * phone);
        char body[256] = "";
        int body_len = 0;
        if (sdp) {
            body_len = std::snprintf(body, sizeof body,
                                     "v=0\r\no=- %llu 1 IN IP4 10.1.0.2\r\ns=-\r\nc=IN IP4 10.1.0.2\r\nt=0 0\r\n"
                                     "m=audio %u RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", k, media);
        }
        const char* to = method == "INVITE" ? "<sip:bob@198.51.100.2>" : to_of_call[phone].data();
        const auto m = static_cast<int>(method.size());
        const int len = std::snprintf(
            text, sizeof text,
            "%.*s sip:bob@198.51.100.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.1.0.2:%u;branch=z9hG4bK%llu%.*s;rport\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:u%u@10.1.0.2>;tag=f%llu\r\nTo: %s\r\nCall-ID: call-%llu@10.1.0.2\r\n"
            "CSeq: %u %.*s\r\nContact: <sip:u%u@10.1.0.2:%u>\r\n%sContent-Length: %d\r\n\r\n%s",
            m, method.data(), sport, k, m, method.data(), phone, k, to, k, cseq, m, method.data(), phone, sport,
            sdp ? "Content-Type: application/sdp\r\n" : "", body_len, body);
        to_inside(frame(phone_mac, port1_mac, phone_ip, sport, far_ip, far_sip_port, text, static_cast<std::size_t>(len)));
    }

    void start_call(unsigned phone)
    {
        call_of_phone[phone] = next_call++;
        phone_send(phone, "INVITE", 1, true);
    }

    // What port1 sent to a phone: responses to its INVITE and BYE.
    void phone_receive(rte_mbuf* m)
    {
        const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, sizeof(rte_ether_hdr));
        const auto* udp = reinterpret_cast<const rte_udp_hdr*>(ip + 1);
        const std::string_view msg(reinterpret_cast<const char*>(udp + 1), rte_be_to_cpu_16(udp->dgram_len) - sizeof(rte_udp_hdr));
        const unsigned phone = rte_be_to_cpu_16(udp->dst_port) - first_phone_port;
        if (ip->next_proto_id != IPPROTO_UDP || phone >= call_of_phone.size() || !msg.starts_with("SIP/2.0 200") ||
            call_number(header(msg, "\r\nCall-ID: ")) != call_of_phone[phone]) {
            if (!msg.starts_with("SIP/2.0 1")) {
                ++unexpected;
            }
            return;
        }
        const std::string_view cseq = header(msg, "\r\nCSeq: ");
        if (cseq.ends_with("INVITE")) {
            const std::string_view to = header(msg, "\r\nTo: ");
            const std::size_t n = std::min(to.size(), to_of_call[phone].size() - 1);
            std::memcpy(to_of_call[phone].data(), to.data(), n);
            to_of_call[phone][n] = '\0';
            phone_send(phone, "ACK", 1, false);
            // Two RTP packets to where the answer's SDP says (its m= port).
            const auto media_at = msg.find("\r\nm=audio ");
            std::uint16_t port = 0;
            if (media_at != std::string_view::npos) {
                std::from_chars(msg.data() + media_at + 10, msg.data() + msg.size(), port);
            }
            std::array<char, 172> rtp{};
            rtp[0] = static_cast<char>(0x80);
            for (int i = 0; i < 2; ++i) {
                rtp[3] = static_cast<char>(i);
                to_inside(frame(phone_mac, port1_mac, phone_ip, static_cast<std::uint16_t>(first_media_port + 2 * phone),
                                far_ip, port, rtp.data(), rtp.size()));
            }
            phone_send(phone, "BYE", 2, false);
        } else if (cseq.ends_with("BYE")) {
            ++completed;
            start_call(phone);
        }
    }

    // What wan1 sent to the far side: it answers the INVITE and the BYE to where they came from, with
    // their own Via, From, To, Call-ID and CSeq.
    void far_receive(rte_mbuf* m)
    {
        const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, sizeof(rte_ether_hdr));
        if (ip->next_proto_id != IPPROTO_UDP) {
            ++unexpected;
            return;
        }
        const auto* udp = reinterpret_cast<const rte_udp_hdr*>(ip + 1);
        const std::string_view msg(reinterpret_cast<const char*>(udp + 1), rte_be_to_cpu_16(udp->dgram_len) - sizeof(rte_udp_hdr));
        if (rte_be_to_cpu_16(udp->dst_port) != far_sip_port) {
            return; // the RTP
        }
        if (msg.find("10.1.0.2") != std::string_view::npos) {
            ++leaks;
        }
        const bool invite = msg.starts_with("INVITE ");
        if (!invite && !msg.starts_with("BYE ")) {
            return; // the ACK
        }
        const std::uint32_t to_ip = rte_be_to_cpu_32(ip->src_addr);
        const std::uint16_t to_port = rte_be_to_cpu_16(udp->src_port);
        // The request's own headers, which every answer copies.
        const std::string_view via = header(msg, "\r\nVia: ");
        const std::string_view from = header(msg, "\r\nFrom: ");
        const std::string_view to = header(msg, "\r\nTo: ");
        const std::string_view call_id = header(msg, "\r\nCall-ID: ");
        const std::string_view cseq = header(msg, "\r\nCSeq: ");
        const std::uint64_t k = call_number(call_id);
        const auto answer = [&](std::string_view status, bool tag, bool sdp) {
            // The far side's tag "t<k + 1>" where the To has none yet ("%.0llu" prints nothing for 0).
            const bool add_tag = tag && to.find(";tag=") == std::string_view::npos;
            const char* body = sdp ? "v=0\r\no=bob 1 1 IN IP4 198.51.100.2\r\ns=-\r\nc=IN IP4 198.51.100.2\r\nt=0 0\r\n"
                                     "m=audio 30000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
                                   : "";
            const int len = std::snprintf(
                text, sizeof text,
                "SIP/2.0 %.*s\r\nVia: %.*s\r\nFrom: %.*s\r\nTo: %.*s%s%.0llu\r\nCall-ID: %.*s\r\nCSeq: %.*s\r\n"
                "Contact: <sip:bob@198.51.100.2:5060>\r\n%sContent-Length: %zu\r\n\r\n%s",
                static_cast<int>(status.size()), status.data(), static_cast<int>(via.size()), via.data(),
                static_cast<int>(from.size()), from.data(), static_cast<int>(to.size()), to.data(),
                add_tag ? ";tag=t" : "", add_tag ? static_cast<unsigned long long>(k) + 1 : 0ull,
                static_cast<int>(call_id.size()), call_id.data(), static_cast<int>(cseq.size()), cseq.data(),
                sdp ? "Content-Type: application/sdp\r\n" : "", std::strlen(body), body);
            to_outside(frame(far_mac, wan1_mac, far_ip, far_sip_port, to_ip, to_port, text, static_cast<std::size_t>(len)));
        };
        if (invite) {
            answer("100 Trying", false, false);
            answer("180 Ringing", true, false);
            answer("200 OK", true, true);
        } else {
            answer("200 OK", false, false);
        }
    }

    // One round: what the ports sent, answered; the answers handed to the ports.
    void round()
    {
        std::array<rte_mbuf*, burst> got;
        unsigned n = rte_ring_sc_dequeue_burst(outside_tx, reinterpret_cast<void**>(got.data()), burst, nullptr);
        for (unsigned i = 0; i < n; ++i) {
            far_receive(got[i]);
        }
        rte_pktmbuf_free_bulk(got.data(), n);
        n = rte_ring_sc_dequeue_burst(inside_tx, reinterpret_cast<void**>(got.data()), burst, nullptr);
        for (unsigned i = 0; i < n; ++i) {
            phone_receive(got[i]);
        }
        rte_pktmbuf_free_bulk(got.data(), n);
        flush_outside();
        flush_inside();
    }
};

rte_ring* make_ring(const char* name)
{
    rte_ring* r = rte_ring_create(name, 8192, static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (r == nullptr) {
        std::fprintf(stderr, "bench_calls: cannot create ring %s\n", name);
        std::exit(1);
    }
    return r;
}

} // namespace

int main(int argc, char** argv)
{
    const int eal = rte_eal_init(argc, argv);
    if (eal < 0) {
        std::fprintf(stderr, "bench_calls: EAL initialisation failed\n");
        return 1;
    }
    argc -= eal;
    argv += eal;
    const std::string engine = argc > 1 ? argv[1] : "alg";
    const double seconds = argc > 2 ? std::atof(argv[2]) : 3.0;
    const unsigned phones = argc > 3 ? static_cast<unsigned>(std::atoi(argv[3])) : 256;
    if ((engine != "alg" && engine != "helper") || seconds <= 0 || phones == 0 || phones > 5000) {
        std::fprintf(stderr, "usage: bench_calls [EAL options] -- helper|alg [seconds] [phones]\n");
        return 2;
    }

    generator g{};
    g.pool = rte_pktmbuf_pool_create("bench_gen", 65535, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, static_cast<int>(rte_socket_id()));
    g.inside_rx = make_ring("bench_in_rx");
    g.inside_tx = make_ring("bench_in_tx");
    g.outside_rx = make_ring("bench_out_rx");
    g.outside_tx = make_ring("bench_out_tx");
    if (g.pool == nullptr || rte_eth_from_rings("bench_inside", &g.inside_rx, 1, &g.inside_tx, 1, rte_socket_id()) < 0 ||
        rte_eth_from_rings("bench_outside", &g.outside_rx, 1, &g.outside_tx, 1, rte_socket_id()) < 0) {
        std::fprintf(stderr, "bench_calls: cannot create the ring ports\n");
        return 1;
    }

    std::string text = config_text;
    if (engine == "helper") {
        text = "system:\n  settings: {default-voip-alg-mode: kernel-helper-based}\n" + text.substr(text.find("  interface:"));
    }
    auto loaded = control::load_yaml(text);
    if (!loaded.ok()) {
        std::fprintf(stderr, "bench_calls: %s\n", control::format_error(loaded.errors.front()).c_str());
        return 1;
    }
    auto planned = control::build_plan(loaded.cfg);
    if (!planned.ok()) {
        std::fprintf(stderr, "bench_calls: %s\n", control::format_error(planned.errors.front()).c_str());
        return 1;
    }
    dp::options opts;
    opts.mbufs = 65535;
    auto started = dp::appliance::start(planned.plan, opts);
    if (!started.app) {
        std::fprintf(stderr, "bench_calls: %s\n", started.error.c_str());
        return 1;
    }
    dp::appliance& app = *started.app;

    g.to_of_call.resize(phones);
    g.call_of_phone.resize(phones);
    for (unsigned p = 0; p < phones; ++p) {
        g.start_call(p);
    }
    const std::uint64_t hz = rte_get_tsc_hz();
    const auto run_for = [&](double s) {
        const std::uint64_t end = rte_rdtsc() + static_cast<std::uint64_t>(s * static_cast<double>(hz));
        while (rte_rdtsc() < end) {
            g.round();
        }
    };
    run_for(1.0); // warm-up: sessions, ARP, caches
    const auto before = app.totals();
    const std::uint64_t calls_before = g.completed;
    const std::uint64_t t0 = rte_rdtsc();
    run_for(seconds);
    const std::uint64_t t1 = rte_rdtsc();
    const auto after = app.totals();
    const std::uint64_t calls = g.completed - calls_before;
    app.stop();

    const auto delta = [&](dp::counter c) {
        return after[static_cast<std::size_t>(c)] - before[static_cast<std::size_t>(c)];
    };
    const double elapsed = static_cast<double>(t1 - t0) / static_cast<double>(hz);
    const std::uint64_t messages = delta(dp::counter::sip_messages);
    const std::uint64_t busy = delta(dp::counter::busy_cycles);
    std::uint64_t drops = 0;
    for (std::size_t c = 0; c < dp::counter_count; ++c) {
        if (dp::counter_names[c].starts_with("drop_")) {
            drops += after[c] - before[c];
        }
    }
    std::printf("# %s: %llu calls in %.2f s, %llu SIP messages (%llu rewritten, %llu unparsed), %llu calls ended, "
                "%llu pinholes opened, %llu drops, %llu leaks, %llu unexpected, worker busy %.3f\n",
                engine.c_str(), static_cast<unsigned long long>(calls), elapsed, static_cast<unsigned long long>(messages),
                static_cast<unsigned long long>(delta(dp::counter::sip_rewritten)),
                static_cast<unsigned long long>(delta(dp::counter::sip_unparsed)),
                static_cast<unsigned long long>(delta(dp::counter::sip_calls_ended)),
                static_cast<unsigned long long>(delta(dp::counter::pinholes_opened)), static_cast<unsigned long long>(drops),
                static_cast<unsigned long long>(g.leaks), static_cast<unsigned long long>(g.unexpected),
                static_cast<double>(busy) / (elapsed * static_cast<double>(hz)));
    if (calls == 0 || g.leaks != 0 || messages == 0 || delta(dp::counter::sip_rewritten) < messages * 99 / 100) {
        std::fprintf(stderr, "bench_calls: the calls did not go through the engine as they should\n");
        return 1;
    }
    std::printf("result calls_per_s_%s %.0f calls/s\n", engine.c_str(), static_cast<double>(calls) / elapsed);
    std::printf("result sip_cycles_per_message_%s %.0f cycles\n", engine.c_str(),
                static_cast<double>(busy) / static_cast<double>(messages));
    std::printf("result worker_busy_%s %.3f share\n", engine.c_str(), static_cast<double>(busy) / (elapsed * static_cast<double>(hz)));
    started.app.reset();
    rte_eal_cleanup();
    return 0;
}
