// Benchmark of sip/ on one core (scripts/bench/sip-parse): messages per second for parse + checks and for
// parse + a NAT-style rewrite (Via sent-by, Contact host, SDP c= and m= ports) of a realistic 900-byte
// INVITE with SDP, and, in the same run, a plain memchr pass over the same bytes: the memory-speed floor
// the parser is compared with. Medians of several timed runs; cycles from the TSC.
#include "sip/checks.hpp"
#include "sip/edit.hpp"
#include "sip/fields.hpp"
#include "sip/message.hpp"
#include "sip/sdp.hpp"

#include <x86intrin.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

using namespace sipalg::sip;

namespace {

// An INVITE as a desk phone behind NAT sends it (addresses from RFC 5737 and RFC 1918).
std::string invite()
{
    const std::string sdp = "v=0\r\n"
                            "o=- 3917283201 3917283201 IN IP4 192.168.1.23\r\n"
                            "s=Polycom IP Phone\r\n"
                            "c=IN IP4 192.168.1.23\r\n"
                            "t=0 0\r\n"
                            "a=sendrecv\r\n"
                            "m=audio 2230 RTP/AVP 9 0 8 101\r\n"
                            "a=rtpmap:9 G722/8000\r\n"
                            "a=rtpmap:0 PCMU/8000\r\n"
                            "a=rtpmap:8 PCMA/8000\r\n"
                            "a=rtpmap:101 telephone-event/8000\r\n"
                            "a=fmtp:101 0-15\r\n"
                            "a=ptime:20\r\n";
    std::string m = "INVITE sip:+15125550142@sip.carrier.example.com;user=phone SIP/2.0\r\n"
                    "Via: SIP/2.0/UDP 192.168.1.23:5060;branch=z9hG4bK8e2c1b4d5a6f7;rport\r\n"
                    "From: \"Front Desk\" <sip:2001@sip.carrier.example.com>;tag=8A9B2C3D-4E5F6A7B\r\n"
                    "To: <sip:+15125550142@sip.carrier.example.com;user=phone>\r\n"
                    "CSeq: 1 INVITE\r\n"
                    "Call-ID: 6f4e2a1c-8b7d3e9f-5a0c1d2e@192.168.1.23\r\n"
                    "Contact: <sip:2001@192.168.1.23:5060>\r\n"
                    "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, MESSAGE, SUBSCRIBE, NOTIFY, PRACK, UPDATE, REFER\r\n"
                    "User-Agent: PolycomVVX-VVX_411-UA/5.9.6.2327\r\n"
                    "Supported: replaces,100rel\r\n"
                    "Max-Forwards: 70\r\n"
                    "Content-Type: application/sdp\r\n"
                    "Content-Length: " +
                    std::to_string(sdp.size()) + "\r\n\r\n";
    return m + sdp;
}

volatile std::uint64_t sink;

template <class F>
double rate(const F& one_message, double seconds)
{
    // Warm up, then time batches until the run lasts long enough.
    for (int i = 0; i < 10000; ++i) {
        one_message();
    }
    std::uint64_t n = 0;
    const auto start = std::chrono::steady_clock::now();
    double elapsed = 0;
    do {
        for (int i = 0; i < 10000; ++i) {
            one_message();
        }
        n += 10000;
        elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    } while (elapsed < seconds);
    return static_cast<double>(n) / elapsed;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

double tsc_hz()
{
    const auto t0 = std::chrono::steady_clock::now();
    const std::uint64_t c0 = __rdtsc();
    double s = 0;
    do {
        s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } while (s < 0.2);
    return static_cast<double>(__rdtsc() - c0) / s;
}

} // namespace

int main(int argc, char** argv)
{
    // "bench_sip_parse profile check|rewrite N": run one kind N times without timing (for callgrind).
    const bool profile = argc > 1 && std::string_view(argv[1]) == "profile";
    const int runs = argc > 1 && !profile ? std::atoi(argv[1]) : 7;
    const double seconds = argc > 2 ? std::atof(argv[2]) : 1.0;
    const std::string msg = invite();
    auto m = std::make_unique<message>();
    auto s = std::make_unique<sdp>();
    auto edits = std::make_unique<edit_list>();
    std::vector<char> out(msg.size() + 512);
    const check_options options;

    // Sanity: the message is what it claims to be.
    if (!m->parse(msg).ok() || !check_message(*m, options).empty()) {
        std::fprintf(stderr, "bench_sip_parse: the benchmark message does not parse cleanly\n");
        return 1;
    }

    const auto parse_check = [&] {
        m->parse(msg);
        sink = sink + check_message(*m, options).total();
    };
    const auto parse_rewrite = [&] {
        m->parse(msg);
        edits->clear();
        const auto v = parse_via(m->value_of(header_type::via));
        edits->replace(*m, v->sent_by.text, "203.0.113.5:40000");
        const auto contact = parse_address(m->value_of(header_type::contact));
        edits->replace(*m, contact->target.host.text, "203.0.113.5:40000");
        s->parse(*find_sdp(*m));
        const auto c = parse_connection(s->lines()[static_cast<std::size_t>(s->session_connection())].value);
        edits->replace(*m, c->address, "203.0.113.5");
        edits->replace(*m, s->media()[0].port_text, "40002");
        sink = sink + edits->apply(*m, out).length;
    };
    const auto scan = [&] {
        // Looks for a byte that is not there, so it reads every byte: what any parser must at least do.
        sink = sink + (std::memchr(msg.data(), '\x01', msg.size()) == nullptr ? 1u : 0u);
    };

    if (profile) {
        const bool rewrite = argc > 2 && std::string_view(argv[2]) == "rewrite";
        const int n = argc > 3 ? std::atoi(argv[3]) : 1000;
        for (int i = 0; i < n; ++i) {
            rewrite ? parse_rewrite() : parse_check();
        }
        return 0;
    }
    std::vector<double> pc;
    std::vector<double> pr;
    std::vector<double> mc;
    for (int r = 0; r < runs; ++r) {
        pc.push_back(rate(parse_check, seconds));
        pr.push_back(rate(parse_rewrite, seconds));
        mc.push_back(rate(scan, seconds));
        std::fprintf(stderr, "# run %d: parse+check %.0f/s, parse+rewrite %.0f/s, memchr %.0f/s\n", r + 1, pc.back(),
                     pr.back(), mc.back());
    }
    const double hz = tsc_hz();
    std::vector<double> ratios;
    for (std::size_t i = 0; i < pc.size(); ++i) {
        ratios.push_back(pc[i] / mc[i]);
    }
    std::printf("result sip_message_bytes %zu bytes\n", msg.size());
    std::printf("result sip_memchr_msgs_per_s %.0f msgs/s\n", median(mc));
    std::printf("result sip_parse_check_cycles_per_message %.0f cycles\n", hz / median(pc));
    std::printf("result sip_parse_rewrite_cycles_per_message %.0f cycles\n", hz / median(pr));
    std::printf("result sip_memchr_ratio %.4f x\n", median(ratios));
    std::printf("result sip_parse_rewrite_msgs_per_s %.0f msgs/s\n", median(pr));
    std::printf("result sip_parse_check_msgs_per_s %.0f msgs/s\n", median(pc));
    return 0;
}
