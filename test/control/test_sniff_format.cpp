// control/sniff_format: diagnose sniffer packet's lines (FortiOS's verbosity 1-6) and hex dump.
#include "control/sniff_format.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace sipalg::control;

namespace {

// An Ethernet + IPv4 + UDP frame from 10.0.1.2:5060 to 198.51.100.2:5060 with `payload` bytes.
std::vector<std::uint8_t> udp_frame(std::size_t payload)
{
    std::vector<std::uint8_t> f = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00,
                                   0x45, 0, 0, static_cast<std::uint8_t>(28 + payload), 0, 0, 0x40, 0, 64, 17, 0, 0,
                                   10, 0, 1, 2, 198, 51, 100, 2,
                                   0x13, 0xc4, 0x13, 0xc4, 0, static_cast<std::uint8_t>(8 + payload), 0, 0};
    for (std::size_t i = 0; i < payload; ++i) {
        f.push_back(static_cast<std::uint8_t>('A' + i % 26));
    }
    return f;
}

} // namespace

TEST_CASE("a packet's line at each verbosity, as FortiOS prints it")
{
    const auto f = udp_frame(12);
    sniffed_view v;
    v.seconds = 1.5;
    v.interface = "port1";
    v.frame = f;
    v.length = static_cast<std::uint32_t>(f.size());
    CHECK(format_sniffed(v, 1) == "1.500000 10.0.1.2.5060 -> 198.51.100.2.5060: udp 12\n");
    v.out = true;
    CHECK(format_sniffed(v, 4) == "1.500000 port1 out 10.0.1.2.5060 -> 198.51.100.2.5060: udp 12\n");
    // 2 and 5: the IP packet in hex; 3 and 6: from the Ethernet header.
    const std::string ip = format_sniffed(v, 5);
    CHECK(ip.find("\n0x0000\t 4500 0028 0000 4000 4011 0000 0a00 0102\tE..(..@.@.......\n") != std::string::npos);
    const std::string eth = format_sniffed(v, 6);
    CHECK(eth.find("\n0x0000\t 0200 0000 0001 0200 0000 0002 0800 4500\t..............E.\n") != std::string::npos);
    // 54 bytes: the last line holds 6, its hex padded to the ASCII column.
    CHECK(eth.find("\n0x0030\t 4748 494a 4b4c                         \tGHIJKL\n") != std::string::npos);
}

TEST_CASE("TCP flags and numbers, ICMP, ARP and other frames")
{
    std::vector<std::uint8_t> tcp = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0x08, 0x00, 0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0,
                                     10, 0, 1, 2, 198, 51, 100, 2, 0x9c, 0x40, 0x13, 0xc4, 0, 0, 0x10, 0, 0, 0, 0x20, 0,
                                     0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0};
    sniffed_view v;
    v.frame = tcp;
    CHECK(format_sniffed(v, 1) == "0.000000 10.0.1.2.40000 -> 198.51.100.2.5060: psh 4096 ack 8192\n");
    std::vector<std::uint8_t> icmp = tcp;
    icmp[23] = 1;
    icmp[34] = 8;
    v.frame = icmp;
    CHECK(format_sniffed(v, 1) == "0.000000 10.0.1.2 -> 198.51.100.2: icmp: echo request\n");
    std::vector<std::uint8_t> arp(42, 0);
    arp[12] = 0x08;
    arp[13] = 0x06;
    arp[21] = 1;
    const std::uint8_t sender[] = {198, 51, 100, 1}, target[] = {198, 51, 100, 2};
    std::copy(std::begin(sender), std::end(sender), arp.begin() + 28);
    std::copy(std::begin(target), std::end(target), arp.begin() + 38);
    v.frame = arp;
    CHECK(format_sniffed(v, 1) == "0.000000 arp who-has 198.51.100.2 tell 198.51.100.1\n");
    std::vector<std::uint8_t> v6(60, 0);
    v6[12] = 0x86;
    v6[13] = 0xdd;
    v.frame = v6;
    CHECK(format_sniffed(v, 1) == "0.000000 ethertype 0x86dd 60 bytes\n");
    CHECK(hex_dump({}) == "");
}
