// SIP calls per second through one worker, driven in-process: the worker runs on its own lcore on two
// ring-backed ports (rte_eth_from_rings), and the main lcore is both the phones behind the appliance
// and the far side in front of it, closed loop. Each phone makes one call after another, in order:
// INVITE (with SDP); the far side answers what it received from the appliance (100, 180 and a 200 with
// SDP, copying the Via, From, To, Call-ID and CSeq as a UAS does, RFC 3261 §8.2.6.2, to the address
// and port the INVITE came from); on the 200 the phone sends ACK, two RTP packets to the answer's media
// port, and BYE; the far side answers the BYE it received; the 200 to the BYE ends the call and the
// phone starts its next. Nothing is precomputed from what the appliance is expected to write.
//
//     bench_calls [EAL options] -- helper|alg|alg-nochecks|alg-allchecks|alg-flood [seconds] [phones] [udp|tcp]
//
// alg: the ALG with FortiOS's default profile (its checks: line length, unknown methods); alg-nochecks:
// every check off (block-long-lines and block-unknown disable); alg-allchecks: every check on (each
// malformed-* and unknown-header respond, Require and Proxy-Require left pass: the calls carry neither).
//
// alg-flood: the profile's invite-rate is 2,000 a second per source address; the phones (all at one
// address) start calls at 1,000 a second between them, while another inside host (10.1.0.3) sends INVITEs
// of calls of its own at ten times the rate, interleaved. Prints `result flood_legit_call_success_pct`:
// the phones' calls completed over those started (a phone whose INVITE was dropped never completes: the
// generator does not retransmit), and the flood's INVITEs sent and dropped.
//
// Over TCP each phone has its own connection to the far side (opened first: SYN, SYN-ACK, ACK), every
// message one segment; each side reads its connection as a byte stream (whatever segments the
// appliance made of it), frames messages by Content-Length, and acknowledges with its next segment.
//
// Prints `result calls_per_s_<engine>` (calls completed per second), `result
// sip_cycles_per_message_<engine>` (the worker's busy cycles over the SIP messages it handled, the calls'
// RTP included) and the worker's busy share: when it is below 1 the generator, not the worker, set the
// pace.
#include "control/config.hpp"
#include "control/logging.hpp"
#include "control/route_plan.hpp"
#include "dataplane/appliance.hpp"
#include "sip/checks.hpp"
#include "test/frame_builder.hpp"

#include <fmt/format.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
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
constexpr std::uint32_t flood_ip = RTE_IPV4(10, 1, 0, 3);
constexpr std::array<std::uint8_t, 6> flood_mac{2, 0, 0, 0, 0, 3};
constexpr unsigned flood_limit = 2000; // invite-rate (per source) in alg-flood
constexpr unsigned flood_legit_rate = 1000;
constexpr std::uint32_t far_ip = RTE_IPV4(198, 51, 100, 2);
constexpr std::uint16_t far_sip_port = 5060;
constexpr std::uint16_t first_phone_port = 10000;
constexpr std::uint16_t first_media_port = 20000;
constexpr std::array<std::uint8_t, 6> phone_mac{2, 0, 0, 0, 0, 2};
constexpr std::array<std::uint8_t, 6> port1_mac{2, 0, 0, 0, 0, 1};
constexpr std::array<std::uint8_t, 6> wan1_mac{2, 0, 0, 0, 1, 1};
constexpr std::array<std::uint8_t, 6> far_mac{2, 0, 0, 0, 1, 2};
constexpr unsigned burst = 32;
constexpr std::uint32_t phone_isn = 1000;
constexpr std::uint32_t far_isn = 500000;

const char* const config_text = R"(
system:
  interface:
    port1: {dpdk-port: net_ring_bench_inside, ip: 10.1.255.254/16, macaddr: "02:00:00:00:00:01"}
    wan1: {dpdk-port: net_ring_bench_outside, ip: 198.51.100.1/24, macaddr: "02:00:00:00:01:01"}
  arp-table:
    1: {interface: wan1, ip: 198.51.100.2, mac: "02:00:00:00:01:02"}
    2: {interface: port1, ip: 10.1.0.2, mac: "02:00:00:00:00:02"}
    3: {interface: port1, ip: 10.1.0.3, mac: "02:00:00:00:00:03"}
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
    // Over TCP: each phone's connection, as the phone and as the far side see it.
    struct tcp_end {
        std::uint32_t snd_nxt = 0;
        std::uint32_t rcv_nxt = 0;
        std::string rx; // bytes received in order, not yet a whole message
    };
    bool tcp = false;
    std::vector<tcp_end> phone_end;
    std::vector<tcp_end> far_end;
    std::uint64_t next_call = 0;
    std::uint64_t completed = 0;
    std::uint64_t leaks = 0;       // messages that left with the phone's address
    std::uint64_t unexpected = 0;  // messages the generator could not place
    // alg-flood: the phones' calls paced (a phone done waits in `idle` for its turn), and the flood.
    bool flood = false;
    bool paused = false; // the phones start no call, the flood sends nothing
    std::uint64_t hz = 0;
    std::uint64_t t_start = 0;
    std::uint64_t started = 0;      // phones' calls started
    std::vector<unsigned> idle;     // phones waiting to start their next call
    std::uint64_t flood_sent = 0;
    std::array<rte_mbuf*, burst> in_out{};
    unsigned n_in = 0;
    std::array<rte_mbuf*, burst> out_out{};
    unsigned n_out = 0;
    char text[2048];

    // A frame of the generator; it has made the pool big enough, so an empty one ends the run.
    rte_mbuf* built(const test::frame_spec& f, const char* payload, std::size_t len)
    {
        rte_mbuf* m = test::build_frame(pool, f, payload, len);
        if (m == nullptr) {
            std::fprintf(stderr, "bench_calls: generator pool empty\n");
            std::exit(1);
        }
        return m;
    }

    // A TCP segment of `len` payload bytes.
    rte_mbuf* segment(const std::array<std::uint8_t, 6>& src_mac, const std::array<std::uint8_t, 6>& dst_mac,
                      std::uint32_t src, std::uint16_t sport, std::uint32_t dst, std::uint16_t dport, std::uint32_t seq,
                      std::uint32_t ack, std::uint8_t flags, const char* payload, std::size_t len)
    {
        return built({src_mac, dst_mac, src, dst, IPPROTO_TCP, sport, dport, seq, ack, flags}, payload, len);
    }

    // A SIP message from a phone (UDP datagram, or the next segment of its connection).
    void phone_out(unsigned phone, const char* msg, std::size_t len)
    {
        const auto sport = static_cast<std::uint16_t>(first_phone_port + phone);
        if (!tcp) {
            to_inside(frame(phone_mac, port1_mac, phone_ip, sport, far_ip, far_sip_port, msg, len));
            return;
        }
        tcp_end& e = phone_end[phone];
        to_inside(segment(phone_mac, port1_mac, phone_ip, sport, far_ip, far_sip_port, e.snd_nxt, e.rcv_nxt,
                          RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, msg, len));
        e.snd_nxt += static_cast<std::uint32_t>(len);
    }

    static std::string_view tcp_payload(const rte_ipv4_hdr* ip, const rte_tcp_hdr* t)
    {
        const unsigned hl = (t->data_off >> 4) * 4u;
        return {reinterpret_cast<const char*>(t) + hl, rte_be_to_cpu_16(ip->total_length) - sizeof(rte_ipv4_hdr) - hl};
    }

    // The whole messages a connection's new bytes complete, handed to f one at a time; a segment that
    // does not continue the stream is left for its retransmission.
    template <class F>
    void stream_in(tcp_end& e, std::uint32_t seq, std::string_view data, F&& f)
    {
        if (static_cast<std::int32_t>(seq - e.rcv_nxt) > 0) {
            return;
        }
        const std::uint32_t skip = e.rcv_nxt - seq;
        if (skip >= data.size()) {
            return;
        }
        e.rx.append(data.substr(skip));
        e.rcv_nxt += static_cast<std::uint32_t>(data.size() - skip);
        for (;;) {
            const auto end = e.rx.find("\r\n\r\n");
            if (end == std::string::npos) {
                break;
            }
            const std::string_view head(e.rx.data(), end + 2);
            std::size_t body = 0;
            const std::string_view cl = header(head, "\r\nContent-Length: ");
            std::from_chars(cl.data(), cl.data() + cl.size(), body);
            if (e.rx.size() < end + 4 + body) {
                break;
            }
            const std::string msg = e.rx.substr(0, end + 4 + body);
            e.rx.erase(0, end + 4 + body);
            f(std::string_view(msg));
        }
    }

    rte_mbuf* frame(const std::array<std::uint8_t, 6>& src_mac, const std::array<std::uint8_t, 6>& dst_mac,
                    std::uint32_t src, std::uint16_t sport, std::uint32_t dst, std::uint16_t dport, const char* payload,
                    std::size_t len)
    {
        return built({src_mac, dst_mac, src, dst, IPPROTO_UDP, sport, dport}, payload, len);
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
            "%.*s sip:bob@198.51.100.2 SIP/2.0\r\nVia: SIP/2.0/%s 10.1.0.2:%u;branch=z9hG4bK%llu%.*s;rport\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:u%u@10.1.0.2>;tag=f%llu\r\nTo: %s\r\nCall-ID: call-%llu@10.1.0.2\r\n"
            "CSeq: %u %.*s\r\nContact: <sip:u%u@10.1.0.2:%u>\r\n%sContent-Length: %d\r\n\r\n%s",
            m, method.data(), tcp ? "TCP" : "UDP", sport, k, m, method.data(), phone, k, to, k, cseq, m, method.data(),
            phone, sport, sdp ? "Content-Type: application/sdp\r\n" : "", body_len, body);
        phone_out(phone, text, static_cast<std::size_t>(len));
    }

    void start_call(unsigned phone)
    {
        if (flood) {
            idle.push_back(phone); // started by pace(), at the phones' rate
            return;
        }
        call_of_phone[phone] = next_call++;
        phone_send(phone, "INVITE", 1, true);
    }

    // alg-flood: the phones' calls and the flood's INVITEs that are due by now.
    void pace()
    {
        if (paused) {
            return;
        }
        const double t = static_cast<double>(rte_rdtsc() - t_start) / static_cast<double>(hz);
        while (!idle.empty() && static_cast<double>(started) < t * flood_legit_rate) {
            const unsigned phone = idle.back();
            idle.pop_back();
            ++started;
            call_of_phone[phone] = next_call++;
            phone_send(phone, "INVITE", 1, true);
        }
        while (static_cast<double>(flood_sent) < t * 10 * flood_limit) {
            const unsigned long long k = flood_sent++;
            const int len = std::snprintf(
                text, sizeof text,
                "INVITE sip:bob@198.51.100.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.1.0.3:5060;branch=z9hG4bKfl%llu;rport\r\n"
                "Max-Forwards: 70\r\nFrom: <sip:flood@10.1.0.3>;tag=fl%llu\r\nTo: <sip:bob@198.51.100.2>\r\n"
                "Call-ID: flood-%llu@10.1.0.3\r\nCSeq: 1 INVITE\r\nContact: <sip:flood@10.1.0.3:5060>\r\n"
                "Content-Length: 0\r\n\r\n",
                k, k, k);
            to_inside(frame(flood_mac, port1_mac, flood_ip, 5060, far_ip, far_sip_port, text, static_cast<std::size_t>(len)));
        }
    }

    // Over TCP, every phone opens its connection first; its first call starts once it is up.
    void start(unsigned phone)
    {
        if (!tcp) {
            start_call(phone);
            return;
        }
        phone_end[phone].snd_nxt = phone_isn + 1;
        to_inside(segment(phone_mac, port1_mac, phone_ip, static_cast<std::uint16_t>(first_phone_port + phone), far_ip,
                          far_sip_port, phone_isn, 0, RTE_TCP_SYN_FLAG, nullptr, 0));
    }

    // What port1 sent to a phone: responses to its INVITE and BYE.
    void phone_receive(rte_mbuf* m)
    {
        const auto* ip = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr*, sizeof(rte_ether_hdr));
        if (ip->next_proto_id == IPPROTO_TCP) {
            const auto* t = reinterpret_cast<const rte_tcp_hdr*>(ip + 1);
            const unsigned phone = rte_be_to_cpu_16(t->dst_port) - first_phone_port;
            if (phone >= call_of_phone.size()) {
                ++unexpected;
                return;
            }
            tcp_end& e = phone_end[phone];
            if ((t->tcp_flags & RTE_TCP_SYN_FLAG) != 0) {
                e.rcv_nxt = rte_be_to_cpu_32(t->sent_seq) + 1;
                to_inside(segment(phone_mac, port1_mac, phone_ip, static_cast<std::uint16_t>(first_phone_port + phone),
                                  far_ip, far_sip_port, e.snd_nxt, e.rcv_nxt, RTE_TCP_ACK_FLAG, nullptr, 0));
                start_call(phone);
                return;
            }
            stream_in(e, rte_be_to_cpu_32(t->sent_seq), tcp_payload(ip, t), [&](std::string_view msg) { phone_message(phone, msg); });
            return;
        }
        if (rte_be_to_cpu_32(ip->dst_addr) == flood_ip) {
            return; // the far side's answers to the flood that got through
        }
        const auto* udp = reinterpret_cast<const rte_udp_hdr*>(ip + 1);
        const std::string_view msg(reinterpret_cast<const char*>(udp + 1), rte_be_to_cpu_16(udp->dgram_len) - sizeof(rte_udp_hdr));
        const unsigned phone = rte_be_to_cpu_16(udp->dst_port) - first_phone_port;
        if (ip->next_proto_id != IPPROTO_UDP || phone >= call_of_phone.size()) {
            ++unexpected;
            return;
        }
        phone_message(phone, msg);
    }

    void phone_message(unsigned phone, std::string_view msg)
    {
        if (!msg.starts_with("SIP/2.0 200") ||
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
        const std::uint32_t to_ip = rte_be_to_cpu_32(ip->src_addr);
        if (ip->next_proto_id == IPPROTO_TCP) {
            const auto* t = reinterpret_cast<const rte_tcp_hdr*>(ip + 1);
            const std::uint16_t to_port = rte_be_to_cpu_16(t->src_port);
            const unsigned phone = to_port - first_phone_port;
            if (phone >= far_end.size()) {
                ++unexpected;
                return;
            }
            tcp_end& e = far_end[phone];
            if ((t->tcp_flags & RTE_TCP_SYN_FLAG) != 0) {
                e.rcv_nxt = rte_be_to_cpu_32(t->sent_seq) + 1;
                e.snd_nxt = far_isn + 1;
                to_outside(segment(far_mac, wan1_mac, far_ip, far_sip_port, to_ip, to_port, far_isn, e.rcv_nxt,
                                   RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, nullptr, 0));
                return;
            }
            stream_in(e, rte_be_to_cpu_32(t->sent_seq), tcp_payload(ip, t), [&](std::string_view msg) {
                far_message(msg, [&](const char* answer, std::size_t len) {
                    to_outside(segment(far_mac, wan1_mac, far_ip, far_sip_port, to_ip, to_port, e.snd_nxt, e.rcv_nxt,
                                       RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, answer, len));
                    e.snd_nxt += static_cast<std::uint32_t>(len);
                });
            });
            return;
        }
        if (ip->next_proto_id != IPPROTO_UDP) {
            ++unexpected;
            return;
        }
        const auto* udp = reinterpret_cast<const rte_udp_hdr*>(ip + 1);
        const std::string_view msg(reinterpret_cast<const char*>(udp + 1), rte_be_to_cpu_16(udp->dgram_len) - sizeof(rte_udp_hdr));
        if (rte_be_to_cpu_16(udp->dst_port) != far_sip_port) {
            return; // the RTP
        }
        const std::uint16_t to_port = rte_be_to_cpu_16(udp->src_port);
        far_message(msg, [&](const char* answer, std::size_t len) {
            to_outside(frame(far_mac, wan1_mac, far_ip, far_sip_port, to_ip, to_port, answer, len));
        });
    }

    // A request the far side received; send(text, length) returns an answer the way it came.
    template <class Send>
    void far_message(std::string_view msg, Send&& send)
    {
        if (msg.find("10.1.0.2") != std::string_view::npos) {
            ++leaks;
        }
        const bool invite = msg.starts_with("INVITE ");
        if (!invite && !msg.starts_with("BYE ")) {
            return; // the ACK
        }
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
            // The far side answers with its media at port 30000.
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
            send(text, static_cast<std::size_t>(len));
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
        if (flood) {
            pace();
        }
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
    const std::string transport = argc > 4 ? argv[4] : "udp";
    if ((engine != "alg" && engine != "helper" && engine != "alg-nochecks" && engine != "alg-allchecks" && engine != "alg-flood" &&
         engine != "alg-logging" && engine != "alg-nolog") ||
        seconds <= 0 ||
        phones == 0 || phones > 5000 || (transport != "udp" && transport != "tcp")) {
        std::fprintf(stderr, "usage: bench_calls [EAL options] -- helper|alg|alg-nochecks|alg-allchecks|alg-flood|alg-logging "
                             "[seconds] [phones] [udp|tcp]\n");
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
        // FortiOS's factory helper entry for SIP is UDP only: TCP needs its own.
        text = "system:\n  settings: {default-voip-alg-mode: kernel-helper-based}\n"
               "  session-helper: {13: {name: sip, protocol: 17, port: 5060}, 14: {name: sip, protocol: 6, port: 5060}}\n" +
               text.substr(text.find("  interface:"));
    }
    // alg-logging: the ALG (log-call-summary is on by default) with its lines sent over UDP to a syslog
    // receiver on loopback, read here; the other engines' log records are drained and dropped, as a
    // control core with no destination configured would.
    int receiver = -1;
    if (engine == "alg-logging") {
        receiver = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        const int size = 16 << 20;
        ::setsockopt(receiver, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof(a);
        if (::bind(receiver, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
            ::getsockname(receiver, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            std::fprintf(stderr, "bench_calls: cannot bind the syslog receiver\n");
            return 1;
        }
        text += fmt::format("log:\n  syslogd:\n    setting: {{status: enable, server: 127.0.0.1, port: {}, mode: udp}}\n",
                            ntohs(a.sin_port));
    }
    if (engine == "alg-nolog") {
        text += "voip:\n  profile:\n    default: {sip: {log-call-summary: disable}}\n";
    }
    if (engine == "alg-flood") {
        text += fmt::format("voip:\n  profile:\n    default: {{sip: {{invite-rate: {}, invite-rate-track: src-ip}}}}\n", flood_limit);
    } else if (engine == "alg-nochecks") {
        text += "voip:\n  profile:\n    default: {sip: {block-long-lines: disable, block-unknown: disable}}\n";
    } else if (engine == "alg-allchecks") {
        text += "voip:\n  profile:\n    default:\n      sip:\n        unknown-header: respond\n";
        for (std::size_t c = 0; c < sip::check_count; ++c) {
            const std::string_view name = sip::check_name(static_cast<sip::check>(c));
            if (name.starts_with("malformed-") && !name.ends_with("require")) {
                text += fmt::format("        {}: respond\n", name);
            }
        }
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
    control::logger logs("/nonexistent", rte_get_tsc_hz(), rte_rdtsc());
    logs.configure(loaded.cfg);
    std::uint64_t log_records_drained = 0;
    std::uint64_t log_lines_received = 0;
    // The syslog server's part, read 64 datagrams a system call (a real server runs elsewhere).
    std::vector<char> rx_buffers(64 * 2048);
    std::array<iovec, 64> rx_iov{};
    std::array<mmsghdr, 64> rx_msgs{};
    for (std::size_t k = 0; k < rx_msgs.size(); ++k) {
        rx_iov[k] = {rx_buffers.data() + k * 2048, 2048};
        rx_msgs[k].msg_hdr.msg_iov = &rx_iov[k];
        rx_msgs[k].msg_hdr.msg_iovlen = 1;
    }
    const auto receive = [&] {
        int n = 0;
        while (receiver >= 0 && (n = ::recvmmsg(receiver, rx_msgs.data(), rx_msgs.size(), MSG_DONTWAIT, nullptr)) > 0) {
            log_lines_received += static_cast<std::uint64_t>(n);
        }
    };
    // The control core's part, between the phones' rounds: the workers' log records drained (and, for
    // alg-logging, made into lines and sent), what reached the receiver read.
    std::uint64_t log_cycles = 0; // the main lcore's time in the control core's part (not the receiver's)
    const auto control_core = [&] {
        const std::uint64_t t0 = rte_rdtsc();
        log_records_drained += app.drain_logs(4096, [&](const dp::log_record& r) {
            if (receiver >= 0) {
                logs.take(r);
            }
        });
        logs.poll();
        log_cycles += rte_rdtsc() - t0;
        receive();
    };

    g.to_of_call.resize(phones);
    g.call_of_phone.resize(phones);
    g.tcp = transport == "tcp";
    g.phone_end.resize(phones);
    g.far_end.resize(phones);
    const std::uint64_t hz = rte_get_tsc_hz();
    g.flood = engine == "alg-flood";
    g.hz = hz;
    g.t_start = rte_rdtsc();
    for (unsigned p = 0; p < phones; ++p) {
        g.start(p);
    }
    const auto run_for = [&](double s) {
        const std::uint64_t end = rte_rdtsc() + static_cast<std::uint64_t>(s * static_cast<double>(hz));
        while (rte_rdtsc() < end) {
            g.round();
            control_core();
        }
    };
    run_for(1.0); // warm-up: sessions, ARP, caches
    const auto before = app.totals();
    const std::uint64_t calls_before = g.completed;
    const std::uint64_t started_before = g.started;
    const std::uint64_t flood_before = g.flood_sent;
    const std::uint64_t in_flight_before = g.started - g.completed; // calls begun in the warm-up, not yet done
    const std::uint64_t t0 = rte_rdtsc();
    run_for(seconds);
    const std::uint64_t t1 = rte_rdtsc();
    if (g.flood) {
        // A second more without new calls of the phones or the flood: every call begun completes in far
        // less unless its INVITE was dropped (the generator never retransmits: its phone waits for good).
        g.paused = true;
        run_for(1.0);
    }
    const auto after = app.totals();
    const std::uint64_t calls = g.completed - calls_before;
    app.stop();
    // What the workers logged before they stopped, and what is still on its way.
    for (int i = 0; i < 1000 && (app.drain_logs(4096, [&](const dp::log_record& r) {
                                     ++log_records_drained;
                                     if (receiver >= 0) {
                                         logs.take(r);
                                     }
                                 }) != 0 || i < 10); ++i) {
        logs.poll();
        receive();
        rte_delay_us_block(1000);
    }
    receive();
    const auto stopped = app.totals();

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
    if (g.flood) {
        const std::uint64_t attempted = in_flight_before + (g.started - started_before);
        const std::uint64_t stuck = g.started - g.completed;
        std::printf("# flood: phones' calls %llu begun or in flight, %llu never completed; flood INVITEs %llu sent, "
                    "%llu dropped over the rate\n",
                    static_cast<unsigned long long>(attempted), static_cast<unsigned long long>(stuck),
                    static_cast<unsigned long long>(g.flood_sent - flood_before),
                    static_cast<unsigned long long>(delta(dp::counter::drop_sip_rate)));
        std::printf("result flood_legit_call_success_pct %.2f pct\n",
                    100.0 * static_cast<double>(attempted - std::min(stuck, attempted)) / static_cast<double>(std::max<std::uint64_t>(1, attempted)));
        std::printf("result flood_invites_dropped_pct %.1f pct\n",
                    100.0 * static_cast<double>(delta(dp::counter::drop_sip_rate)) /
                        static_cast<double>(std::max<std::uint64_t>(1, g.flood_sent - flood_before)));
        started.app.reset();
        rte_eal_cleanup();
        return calls == 0 || g.leaks != 0 ? 1 : 0;
    }
    if (calls == 0 || g.leaks != 0 || messages == 0 || delta(dp::counter::sip_rewritten) < messages * 99 / 100) {
        std::fprintf(stderr, "bench_calls: the calls did not go through the engine as they should\n");
        return 1;
    }
    std::string name = (g.tcp ? "tcp_" : "") + engine;
    std::replace(name.begin(), name.end(), '-', '_');
    if (receiver >= 0) {
        // Every record a worker made became a line the receiver read: lost are those the rings could not
        // take, and lines the control core or the socket dropped.
        const std::uint64_t made = stopped[static_cast<std::size_t>(dp::counter::log_records)];
        const std::uint64_t ring_lost = stopped[static_cast<std::size_t>(dp::counter::log_records_lost)];
        std::printf("# logging: %llu records made (%llu lost in the rings), %llu drained, %llu lines sent, %llu received\n",
                    static_cast<unsigned long long>(made), static_cast<unsigned long long>(ring_lost),
                    static_cast<unsigned long long>(log_records_drained),
                    static_cast<unsigned long long>(logs.counters().syslog_sent),
                    static_cast<unsigned long long>(log_lines_received));
        std::printf("result log_lines_lost %llu lines\n",
                    static_cast<unsigned long long>(ring_lost + made - std::min(made, log_lines_received)));
        // What a control core of its own would need: its cycles per line (drain, make, send), and the
        // lines a second that makes on one core.
        const double per_line = static_cast<double>(log_cycles) / static_cast<double>(std::max<std::uint64_t>(1, log_records_drained));
        std::printf("result log_control_core_cycles_per_line %.0f cycles\n", per_line);
        std::printf("result log_control_core_lines_per_s %.0f lines/s\n", static_cast<double>(hz) / per_line);
        // Of that, the system calls that send the datagrams: over loopback the kernel also delivers each
        // one to the receiver's socket in the sender's call, which a syslog server on another host spares.
        const double send_per_line = static_cast<double>(logs.counters().syslog_send_ns) * static_cast<double>(hz) / 1e9 /
                                     static_cast<double>(std::max<std::uint64_t>(1, logs.counters().syslog_sent));
        std::printf("result log_control_core_send_cycles_per_line %.0f cycles\n", send_per_line);
        std::printf("result log_lines_per_call %.2f lines\n",
                    static_cast<double>(made) / static_cast<double>(std::max<std::uint64_t>(1, g.completed)));
        ::close(receiver);
    }
    std::printf("result calls_per_s_%s %.0f calls/s\n", name.c_str(), static_cast<double>(calls) / elapsed);
    std::printf("result sip_cycles_per_message_%s %.0f cycles\n", name.c_str(),
                static_cast<double>(busy) / static_cast<double>(messages));
    std::printf("result worker_busy_%s %.3f share\n", name.c_str(), static_cast<double>(busy) / (elapsed * static_cast<double>(hz)));
    if (g.tcp) {
        std::printf("result sip_tcp_bytes_per_connection %zu bytes\n", app.worker_at(0).sip_connection_bytes());
        std::printf("# tcp: %llu segments, %llu held, %llu made, %llu taken over, %llu retransmitted\n",
                    static_cast<unsigned long long>(delta(dp::counter::sip_tcp_segments)),
                    static_cast<unsigned long long>(delta(dp::counter::sip_tcp_segments_held)),
                    static_cast<unsigned long long>(delta(dp::counter::sip_tcp_segments_made)),
                    static_cast<unsigned long long>(delta(dp::counter::sip_tcp_taken_over)),
                    static_cast<unsigned long long>(delta(dp::counter::sip_tcp_retransmitted)));
    }
    started.app.reset();
    rte_eal_cleanup();
    return 0;
}
