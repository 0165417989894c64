#pragma once
// Which kinds of frame a pcap filter can take at all (diagnose sniffer packet): its classic BPF program
// explored with only the Ethernet type and the IPv4 protocol known, every other byte and the length
// being anything. A kind no path of the program can accept is passed over by the workers on those two
// bytes, without running the filter; a kind it may accept, or one the exploration cannot decide, runs it.
#include "dataplane/sniff_prefilter.hpp"

#include <pcap/pcap.h>

namespace sipalg::control {

using dp::sniff_prefilter;

sniff_prefilter prefilter_of(const bpf_program& p);

} // namespace sipalg::control
