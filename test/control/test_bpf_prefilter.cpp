// control/bpf_prefilter: which kinds of frame a pcap filter can take, from its program alone. A kind it
// might take must never be passed over (the workers would hide it from the sniffer); a kind it cannot
// take should be, so that the filter does not run on it.
#include "control/bpf_prefilter.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <initializer_list>
#include <string>

using namespace sipalg::control;

namespace {

sniff_prefilter of(const std::string& filter)
{
    pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
    bpf_program prog{};
    REQUIRE(pcap_compile(dead, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) == 0);
    const sniff_prefilter f = prefilter_of(prog);
    pcap_freecode(&prog);
    pcap_close(dead);
    return f;
}

bool ipv4(const sniff_prefilter& f, unsigned proto)
{
    return (f.ipv4[proto >> 6] >> (proto & 63) & 1u) != 0;
}

} // namespace

TEST_CASE("a filter of one protocol lets only that protocol through to the filter")
{
    const auto tcp = of("tcp port 9");
    CHECK(tcp.active);
    CHECK(ipv4(tcp, 6));
    CHECK_FALSE(ipv4(tcp, 17));
    CHECK_FALSE(ipv4(tcp, 1));
    CHECK_FALSE(tcp.arp);
    CHECK(tcp.ipv6); // tcp port 9 matches IPv6 too
    const auto udp = of("udp port 5060");
    CHECK(ipv4(udp, 17));
    CHECK_FALSE(ipv4(udp, 6));
    const auto icmp = of("icmp");
    CHECK(ipv4(icmp, 1));
    CHECK_FALSE(ipv4(icmp, 17));
    CHECK_FALSE(icmp.ipv6);
    const auto arp = of("arp");
    CHECK(arp.arp);
    for (unsigned p = 0; p < 256; ++p) {
        CHECK_FALSE(ipv4(arp, p));
    }
}

TEST_CASE("a filter on what the two bytes do not tell keeps every kind it may take")
{
    // Addresses, ports of either protocol, lengths, negations: the filter runs on every IPv4 protocol
    // it may take.
    for (const char* filter : {"host 10.0.1.2", "port 5060", "greater 100", "not tcp", "ip[8] = 64", "udp or icmp",
                               "net 10.0.0.0/8 and not port 22"}) {
        INFO(filter);
        const auto f = of(filter);
        for (unsigned p : {1u, 6u, 17u}) {
            INFO(p);
            const std::string f_text(filter);
            const bool possible = f_text == "not tcp"       ? p != 6
                                  : f_text == "udp or icmp" ? (p == 17 || p == 1)
                                  : f_text == "port 5060"   ? p != 1 // ports: TCP, UDP, SCTP
                                                            : true;
            if (possible) {
                CHECK(ipv4(f, p));
            }
        }
    }
    CHECK_FALSE(ipv4(of("not tcp"), 6));
    CHECK(ipv4(of("not tcp"), 47)); // GRE and the rest
    CHECK(ipv4(of("port 5060"), 132)); // SCTP has ports too
    CHECK_FALSE(ipv4(of("udp or icmp"), 6));
    CHECK_FALSE(ipv4(of("port 5060"), 1)); // ICMP has no ports: passed over
}

TEST_CASE("whatever frame a filter takes, the prefilter lets through (random frames, libpcap's own evaluation)")
{
    std::uint32_t seed = 2026;
    const auto rnd = [&seed] {
        seed = seed * 1664525u + 1013904223u;
        return seed >> 24;
    };
    unsigned total = 0;
    for (const char* filter : {"tcp port 9", "udp port 5060", "host 10.0.1.2", "port 5060", "icmp", "not tcp", "udp or icmp",
                               "greater 100", "ip[8] = 64", "tcp[13] & 2 != 0", "arp", "ip6", "vlan"}) {
        INFO(filter);
        pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
        bpf_program prog{};
        REQUIRE(pcap_compile(dead, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) == 0);
        const sniff_prefilter f = prefilter_of(prog);
        unsigned taken = 0;
        for (int n = 0; n < 20000; ++n) {
            std::array<std::uint8_t, 128> frame{};
            for (auto& b : frame) {
                b = static_cast<std::uint8_t>(rnd());
            }
            const unsigned kind = rnd() % 4;
            const std::uint16_t type = kind == 0 ? 0x0806 : kind == 1 ? 0x86dd : 0x0800;
            frame[12] = static_cast<std::uint8_t>(type >> 8);
            frame[13] = static_cast<std::uint8_t>(type);
            if (type == 0x0800) {
                frame[14] = 0x45;
                const std::uint8_t protos[] = {1, 6, 17, 47, 132};
                frame[23] = protos[rnd() % 5];
                frame[20] &= 0x40; // no fragment offset, as most packets
                frame[21] = 0;
                frame[26] = rnd() % 2 ? 10 : frame[26];
                frame[27] = 0;
                frame[28] = 1;
                frame[29] = rnd() % 2 ? 2 : frame[29];
                frame[34] = rnd() % 2 ? 0x13 : frame[34]; // port 5060 sometimes
                frame[35] = frame[34] == 0x13 ? 0xc4 : frame[35];
            }
            pcap_pkthdr hdr{};
            hdr.caplen = hdr.len = 60 + rnd() % 68;
            if (pcap_offline_filter(&prog, &hdr, frame.data()) != 0) {
                ++taken;
                const bool allowed = type == 0x0800 ? (f.ipv4[frame[23] >> 6] >> (frame[23] & 63) & 1u) != 0
                                     : type == 0x0806 ? f.arp
                                                      : f.ipv6;
                INFO("type " << type << " proto " << static_cast<unsigned>(frame[23]));
                REQUIRE(allowed);
            }
        }
        pcap_freecode(&prog);
        pcap_close(dead);
        total += taken;
    }
    CHECK(total > 20000); // the frames did exercise the filters
}
