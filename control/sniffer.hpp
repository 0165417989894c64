#pragma once
// diagnose sniffer packet on the control core: the pcap filter compiled (libpcap) and converted to eBPF
// and JIT-compiled (rte_bpf), the workers asked for the packets (dp::appliance::sniff), and each packet
// printed as FortiOS prints it (control/sniff_format.hpp).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sipalg::dp {
class appliance;
}

namespace sipalg::control {

struct sniffer_args {
    std::string interface = "any";
    std::string filter;   // pcap syntax; empty or "none": every packet
    unsigned verbose = 1; // 1-6
    std::uint32_t count = 0; // 0: up to 1,000
    char tsformat = 'r';  // r: since the first packet, a: UTC, l: local
};

// FortiOS's words (INTERFACE ['FILTER'] [VERBOSE] [COUNT] [a|l]) read, and the filter compiled once to
// check it; an error text or empty.
std::string parse_sniffer(const std::vector<std::string>& args, sniffer_args& out);

// Runs it: the output text. `ports_of`: the DPDK ports of an interface name ("any": all); `idle`: the
// control core's other work, done while the workers capture.
std::string run_sniffer(dp::appliance& app, const sniffer_args& a, const std::function<void()>& idle);

} // namespace sipalg::control
