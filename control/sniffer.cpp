// See sniffer.hpp.
#include "control/sniffer.hpp"

#include "control/bpf_prefilter.hpp"
#include "control/sniff_format.hpp"
#include "dataplane/appliance.hpp"
#include "sip/text.hpp"

#include <fmt/format.h>
#include <pcap/pcap.h>
#include <rte_bpf.h>
#include <rte_cycles.h>
#include <rte_malloc.h>

#include <array>
#include <ctime>
#include <optional>
#include <utility>

namespace sipalg::control {

namespace {

// A filter compiled and loaded, freed with it.
struct compiled_filter {
    rte_bpf* bpf = nullptr;
    rte_bpf_jit jit{};
    dp::sniff_prefilter prefilter;
    std::string error;
    compiled_filter(const compiled_filter&) = delete;
    compiled_filter& operator=(const compiled_filter&) = delete;
    explicit compiled_filter(const std::string& text)
    {
        if (text.empty() || text == "none") {
            return;
        }
        pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
        bpf_program prog{};
        if (pcap_compile(dead, &prog, text.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
            error = fmt::format("diagnose sniffer packet: filter '{}': {}", text, pcap_geterr(dead));
            pcap_close(dead);
            return;
        }
        prefilter = prefilter_of(prog);
        rte_bpf_prm* prm = rte_bpf_convert(&prog);
        pcap_freecode(&prog);
        pcap_close(dead);
        if (prm == nullptr) {
            error = fmt::format("diagnose sniffer packet: filter '{}' cannot be converted to eBPF", text);
            return;
        }
        bpf = rte_bpf_load(prm);
        rte_free(prm);
        if (bpf == nullptr) {
            error = fmt::format("diagnose sniffer packet: filter '{}' cannot be loaded", text);
            return;
        }
        rte_bpf_get_jit(bpf, &jit); // no JIT: interpreted
    }
    ~compiled_filter()
    {
        if (bpf != nullptr) {
            rte_bpf_destroy(bpf);
        }
    }
};

} // namespace

std::string parse_sniffer(const std::vector<std::string>& args, sniffer_args& out)
{
    if (args.empty() || args.size() > 5) {
        return "diagnose sniffer packet INTERFACE ['FILTER'] [VERBOSE] [COUNT] [a|l]";
    }
    out.interface = args[0];
    if (args.size() > 1) {
        out.filter = args[1];
    }
    if (args.size() > 2) {
        const auto v = sip::parse_number(args[2], 1, 6);
        if (!v || *v == 0) {
            return fmt::format("diagnose sniffer packet: verbose {} is not 1 to 6", args[2]);
        }
        out.verbose = static_cast<unsigned>(*v);
    }
    if (args.size() > 3) {
        const auto c = sip::parse_number(args[3], 6, 1000);
        if (!c) {
            return fmt::format("diagnose sniffer packet: count {} is not 0 to 1000", args[3]);
        }
        out.count = static_cast<std::uint32_t>(*c);
    }
    if (args.size() > 4) {
        if (args[4] != "a" && args[4] != "l" && args[4] != "r") {
            return fmt::format("diagnose sniffer packet: time format {} is not a (UTC) or l (local)", args[4]);
        }
        out.tsformat = args[4][0];
    }
    const compiled_filter f(out.filter);
    return f.error;
}

std::string run_sniffer(dp::appliance& app, const sniffer_args& a, const std::function<void()>& idle)
{
    const compiled_filter f(a.filter);
    if (!f.error.empty()) {
        return f.error + "\n";
    }
    dp::sniff_request r;
    r.bpf = f.bpf;
    r.jit = f.jit;
    r.prefilter = f.prefilter;
    r.count = a.count == 0 ? 1000 : a.count;
    std::vector<std::string> names(RTE_MAX_ETHPORTS);
    bool known = a.interface == "any";
    app.with_snapshot([&](const dp::snapshot& s) {
        r.ports = a.interface == "any" ? ~std::uint64_t{0} : 0;
        for (const auto& itf : s.interfaces) {
            if (itf.port < names.size()) {
                names[itf.port] = itf.name;
            }
            if (itf.name == a.interface) {
                r.ports |= std::uint64_t{1} << itf.port;
                known = true;
            }
        }
    });
    if (!known) {
        return fmt::format("diagnose sniffer packet: no interface {}\n", a.interface);
    }
    const double hz = static_cast<double>(rte_get_tsc_hz());
    const std::uint64_t tsc0 = rte_rdtsc();
    const auto wall0 = std::chrono::system_clock::now();
    std::uint64_t first = 0;
    std::string out = fmt::format("interfaces=[{}]\nfilters=[{}]\n", a.interface, a.filter.empty() ? "none" : a.filter);
    const dp::sniff_result result = app.sniff(r, idle, [&](const dp::sniffed_packet& p) {
        first = first == 0 ? p.tsc : first;
        sniffed_view v;
        const double since_start = static_cast<double>(static_cast<std::int64_t>(p.tsc - tsc0)) / hz;
        if (a.tsformat == 'r') {
            v.seconds = static_cast<double>(p.tsc - first) / hz;
        } else {
            v.seconds = 0;
        }
        v.interface = p.port < names.size() ? std::string_view(names[p.port]) : std::string_view("?");
        v.out = p.out != 0;
        v.frame = {p.data.data(), p.caplen};
        v.length = p.length;
        std::string line = format_sniffed(v, a.verbose);
        if (a.tsformat != 'r') {
            // The time of day instead of the seconds since the first packet.
            const auto when = wall0 + std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(since_start));
            const auto t = std::chrono::system_clock::to_time_t(when);
            std::tm tm{};
            a.tsformat == 'a' ? ::gmtime_r(&t, &tm) : ::localtime_r(&t, &tm);
            const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(when.time_since_epoch()).count() % 1000000;
            line = fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                               tm.tm_min, tm.tm_sec, micros) +
                   line.substr(line.find(' '));
        }
        out += line;
    });
    fmt::format_to(std::back_inserter(out), "\n{} packets received by filter\n{} packets dropped by kernel\n", result.taken, result.lost);
    return out;
}

} // namespace sipalg::control
