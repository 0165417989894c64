#pragma once
// diagnose sniffer packet: the kinds of frame a filter can take (control/bpf_prefilter.hpp decides; the
// workers read it). Pure: no DPDK.
#include <array>
#include <cstdint>

namespace sipalg::dp {

// Which frames the filter can take at all, decided once from its program (control/sniffer.cpp): a frame
// of a kind it can never take is passed over on two bytes, without running it.
struct sniff_prefilter {
    bool active = false;                    // false: run the filter on everything
    std::array<std::uint64_t, 4> ipv4{};    // a bit per IPv4 protocol the filter may take
    bool arp = true;
    bool ipv6 = true;
};

} // namespace sipalg::dp
