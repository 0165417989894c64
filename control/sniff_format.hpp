#pragma once
// diagnose sniffer packet's output, as FortiOS prints it: a line per packet (time, with verbosity 4-6
// the interface and direction, then addresses, ports and what the packet is), and with verbosity 2 and 5
// the IP header and data in hex and ASCII, with 3 and 6 the Ethernet header too.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sipalg::control {

struct sniffed_view {
    double seconds = 0;           // relative to the first packet (or absolute, as the caller decides)
    std::string_view interface;   // its interface's name
    bool out = false;             // sent (else received)
    std::span<const std::uint8_t> frame; // what was copied, from the Ethernet header
    std::uint32_t length = 0;     // on the wire
};

std::string format_sniffed(const sniffed_view& p, unsigned verbose);

// The FortiOS hex dump of `bytes`: 16 a line, "0x0010\t 4500 003c ...\tE..<".
std::string hex_dump(std::span<const std::uint8_t> bytes);

} // namespace sipalg::control
