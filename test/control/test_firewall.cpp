// Firewall objects and policies: the YAML reader (FortiOS names, errors with line and column), the
// compiled firewall of the plan, and how nat::firewall matches flows (policies in order, implicit deny,
// VIPs, services, schedules).
#include "control/config.hpp"
#include "control/route_plan.hpp"
#include "nat/firewall.hpp"
#include "sip/checks.hpp"
#include "sip/message.hpp"

#include "test/control/errors_text.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <string>

using namespace sipalg;
using namespace sipalg::control;
using sipalg::test::dump;

namespace {

constexpr const char* interfaces = R"(
system:
  interface:
    port1:
      dpdk-port: net_pcap0
      ip: 10.0.1.1/24
    wan1:
      dpdk-port: net_pcap1
      ip: 198.51.100.1/24
    dmz:
      dpdk-port: net_pcap2
      ip: 172.16.0.1/24
)";

bool has_error(const load_result& r, int line, const std::string& fragment)
{
    return std::any_of(r.errors.begin(), r.errors.end(), [&](const config_error& e) {
        return e.where.line == line && e.message.find(fragment) != std::string::npos;
    });
}

nat::firewall compile(const std::string& firewall_yaml)
{
    const auto r = load_yaml(std::string(interfaces) + firewall_yaml);
    INFO(dump(r));
    REQUIRE(r.ok());
    auto p = build_plan(r.cfg);
    REQUIRE(p.ok());
    return p.plan.firewall;
}

constexpr std::uint16_t port1 = 0;
constexpr std::uint16_t wan1 = 1;
constexpr std::uint16_t dmz = 2;

nat::flow_view udp(std::uint16_t in, std::uint16_t out, const char* src, const char* dst, std::uint16_t sport,
                   std::uint16_t dport)
{
    nat::flow_view f;
    f.in_interface = in;
    f.out_interface = out;
    f.src = *parse_ipv4(src);
    f.dst = *parse_ipv4(dst);
    f.proto = ip_proto::udp;
    f.sport = sport;
    f.dport = dport;
    return f;
}

std::uint32_t matched_id(const nat::firewall& fw, const nat::flow_view& f, std::int32_t vip = -1,
                         std::uint64_t schedules = ~std::uint64_t{0})
{
    nat::schedule_set active;
    active.bits[0] = schedules;
    const auto i = fw.match_policy(f, vip, active);
    return i < 0 ? 0 : fw.policies[static_cast<std::size_t>(i)].id;
}

} // namespace

TEST_CASE("policies match in their configured order and no match is an implicit deny")
{
    const auto fw = compile(R"(
firewall:
  address:
    inside-hosts:
      subnet: 10.0.1.0 255.255.255.0
    phone:
      type: iprange
      start-ip: 10.0.1.10
      end-ip: 10.0.1.19
  policy:
    7:
      name: block-phones-dns
      srcintf: port1
      dstintf: wan1
      srcaddr: phone
      dstaddr: all
      service: DNS
      action: deny
    3:
      name: out
      srcintf: port1
      dstintf: wan1
      srcaddr: inside-hosts
      dstaddr: all
      service: ALL
      action: accept
      nat: enable
)");
    REQUIRE(fw.policies.size() == 2);
    CHECK(fw.policies[0].id == 7); // configured order, not id order
    CHECK_FALSE(fw.policies[0].accept);
    CHECK(fw.policies[1].nat);
    // A phone's DNS query hits the deny first; its other traffic and other hosts' DNS pass.
    CHECK(matched_id(fw, udp(port1, wan1, "10.0.1.12", "8.8.8.8", 4000, 53)) == 7);
    CHECK(matched_id(fw, udp(port1, wan1, "10.0.1.12", "8.8.8.8", 4000, 5060)) == 3);
    CHECK(matched_id(fw, udp(port1, wan1, "10.0.1.20", "8.8.8.8", 4000, 53)) == 3);
    // Wrong direction, other source, other interface: nothing matches.
    CHECK(matched_id(fw, udp(wan1, port1, "8.8.8.8", "10.0.1.12", 53, 4000)) == 0);
    CHECK(matched_id(fw, udp(port1, wan1, "10.0.2.5", "8.8.8.8", 4000, 53)) == 0);
    CHECK(matched_id(fw, udp(port1, dmz, "10.0.1.12", "172.16.0.5", 4000, 80)) == 0);
}

TEST_CASE("policy fields default to the open values, so short policies work as written")
{
    const auto r = load_yaml(std::string(interfaces) + R"(
firewall:
  policy:
    1:
      name: sip
      voip-profile: default
)");
    INFO(dump(r));
    REQUIRE(r.ok());
    const auto& p = r.cfg.policies.at(0);
    CHECK(p.srcintf == std::vector<std::string>{"any"});
    CHECK(p.dstaddr == std::vector<std::string>{"all"});
    CHECK(p.service == std::vector<std::string>{"ALL"});
    CHECK(p.schedule == "always");
    CHECK(p.accept);
    CHECK_FALSE(p.nat);
    CHECK(p.voip_profile == "default");
    const auto fw = build_plan(r.cfg).plan.firewall;
    CHECK(matched_id(fw, udp(dmz, port1, "1.2.3.4", "10.0.1.9", 1, 2)) == 1);
}

TEST_CASE("address groups nest, and services select protocol and ports")
{
    const auto fw = compile(R"(
firewall:
  address:
    a:
      subnet: 10.0.1.16/28
    b:
      subnet: 10.0.1.64/26
  addrgrp:
    inner:
      member: a
    outer:
      member: [inner, b]
  service:
    custom:
      rtp:
        udp-portrange: 10000-20000
      web-from-high:
        tcp-portrange: 80:1024-65535 8080
      gre:
        protocol: IP
        protocol-number: 47
      echo:
        protocol: ICMP
        icmptype: 8
  policy:
    1:
      srcintf: port1
      dstintf: wan1
      srcaddr: outer
      service: [rtp, web-from-high, gre, echo, SIP]
)");
    const auto& p = fw.policies.at(0);
    CHECK(p.srcaddr.ranges().size() == 2);
    CHECK(matched_id(fw, udp(port1, wan1, "10.0.1.20", "8.8.8.8", 5, 15000)) == 1);
    CHECK(matched_id(fw, udp(port1, wan1, "10.0.1.100", "8.8.8.8", 5, 15000)) == 1);
    CHECK(matched_id(fw, udp(port1, wan1, "10.0.1.40", "8.8.8.8", 5, 15000)) == 0); // between the groups
    CHECK(matched_id(fw, udp(port1, wan1, "10.0.1.20", "8.8.8.8", 5, 9999)) == 0);
    CHECK(matched_id(fw, udp(port1, wan1, "10.0.1.20", "8.8.8.8", 5, 5060)) == 1); // SIP udp/5060

    auto tcp = udp(port1, wan1, "10.0.1.20", "8.8.8.8", 40000, 80);
    tcp.proto = ip_proto::tcp;
    CHECK(matched_id(fw, tcp) == 1);
    tcp.sport = 80; // source range 1024-65535
    CHECK(matched_id(fw, tcp) == 0);
    tcp.dport = 8080; // no source range: any
    CHECK(matched_id(fw, tcp) == 1);

    auto gre = udp(port1, wan1, "10.0.1.20", "8.8.8.8", 0, 0);
    gre.proto = 47;
    CHECK(matched_id(fw, gre) == 1);
    auto icmp = gre;
    icmp.proto = ip_proto::icmp;
    icmp.icmp_type = 8;
    CHECK(matched_id(fw, icmp) == 1);
    icmp.icmp_type = 13;
    CHECK(matched_id(fw, icmp) == 0);
}

TEST_CASE("a VIP maps its external address and ports; only policies naming it see its traffic")
{
    const auto fw = compile(R"(
firewall:
  vip:
    pbx:
      extintf: wan1
      extip: 198.51.100.10
      mappedip: 10.0.1.50
      portforward: enable
      protocol: udp
      extport: 15060-15061
      mappedport: 5060
    web:
      extip: 198.51.100.20-198.51.100.21
      mappedip: 172.16.0.20-172.16.0.21
  policy:
    1:
      srcintf: wan1
      dstintf: any
      dstaddr: all
      action: accept
    2:
      srcintf: wan1
      dstintf: port1
      dstaddr: pbx
      service: SIP
)");
    auto f = udp(wan1, port1, "203.0.113.5", "198.51.100.10", 5060, 15060);
    const auto t = fw.match_vip(f);
    REQUIRE(t.vip == 0);
    CHECK(t.address == *parse_ipv4("10.0.1.50"));
    CHECK(t.port == 5060);
    // Services match the mapped port (FortiOS checks the policy after the destination translation).
    // Policy 1 names no VIP: FortiOS does not apply it to the VIP's translated traffic.
    f.dport = t.port;
    CHECK(matched_id(fw, f, t.vip) == 2);
    f.dport = 5061;
    CHECK(matched_id(fw, f, t.vip) == 0);
    // Port outside the forward, other protocol, other interface: no VIP.
    CHECK(fw.match_vip(udp(wan1, port1, "203.0.113.5", "198.51.100.10", 5060, 15062)).vip == -1);
    auto tcp = f;
    tcp.proto = ip_proto::tcp;
    CHECK(fw.match_vip(tcp).vip == -1);
    CHECK(fw.match_vip(udp(dmz, port1, "203.0.113.5", "198.51.100.10", 5060, 5060)).vip == -1);
    // A range maps one to one, extintf any, every port.
    const auto w = fw.match_vip(udp(dmz, port1, "203.0.113.5", "198.51.100.21", 1, 443));
    CHECK(w.vip == 1);
    CHECK(w.address == *parse_ipv4("172.16.0.21"));
    CHECK(w.port == 443);
    CHECK(fw.is_vip_external(*parse_ipv4("198.51.100.10"), ip_proto::udp, 15061));
    CHECK_FALSE(fw.is_vip_external(*parse_ipv4("198.51.100.10"), ip_proto::udp, 5060));
}

TEST_CASE("a recurring schedule limits its policy to its days and hours")
{
    const auto fw = compile(R"(
firewall:
  schedule:
    recurring:
      office:
        day: monday tuesday wednesday thursday friday
        start: "08:00"
        end: "18:30"
      night:
        day: friday
        start: "22:00"
        end: "06:00"
  policy:
    1:
      schedule: office
    2:
      schedule: night
)");
    REQUIRE(fw.schedules.size() == 2);
    const auto& office = fw.schedules[0];
    CHECK(office.active(1, 8 * 60));
    CHECK(office.active(5, 18 * 60 + 29));
    CHECK_FALSE(office.active(5, 18 * 60 + 30));
    CHECK_FALSE(office.active(0, 12 * 60)); // Sunday
    const auto& night = fw.schedules[1];
    CHECK(night.active(5, 23 * 60));
    CHECK(night.active(6, 5 * 60)); // Saturday morning: the window began on Friday
    CHECK_FALSE(night.active(6, 23 * 60));
    const auto f = udp(port1, wan1, "10.0.1.5", "8.8.8.8", 1, 2);
    CHECK(matched_id(fw, f, -1, 0b01) == 1);
    CHECK(matched_id(fw, f, -1, 0b10) == 2);
    CHECK(matched_id(fw, f, -1, 0b00) == 0);
}

TEST_CASE("dangling and malformed firewall references are errors with their position")
{
    const std::string head(interfaces);
    const int base = static_cast<int>(std::count(head.begin(), head.end(), '\n'));
    const auto r = load_yaml(head + R"(firewall:
  address:
    bad:
      subnet: 10.0.0.0/33
  addrgrp:
    loop1:
      member: loop2
    loop2:
      member: loop1
    g:
      member: nothing
  vip:
    v:
      extip: 198.51.100.9
      mappedip: 10.0.1.9
      extintf: port9
  policy:
    1:
      srcintf: port7
      srcaddr: v
      dstaddr: missing
      service: NOPE
      schedule: never
      action: maybe
)");
    INFO(dump(r));
    REQUIRE_FALSE(r.ok());
    CHECK(has_error(r, base + 4, "subnet"));
    CHECK(has_error(r, base + 11, "nothing"));
    CHECK(std::any_of(r.errors.begin(), r.errors.end(),
                      [](const config_error& e) { return e.message.find("loop") != std::string::npos; }));
    CHECK(has_error(r, base + 16, "port9"));
    CHECK(has_error(r, base + 19, "port7"));
    CHECK(has_error(r, base + 20, "v"));
    CHECK(has_error(r, base + 21, "missing"));
    CHECK(has_error(r, base + 22, "NOPE"));
    CHECK(has_error(r, base + 23, "never"));
    CHECK(has_error(r, base + 24, "maybe"));
}

TEST_CASE("session timers come from system global and session-ttl")
{
    const auto r = load_yaml(std::string(interfaces) + R"(
  global:
    tcp-halfopen-timer: 5
    udp-idle-timer: 30
  session-ttl:
    default: 7200
)");
    INFO(dump(r));
    REQUIRE(r.ok());
    const auto p = build_plan(r.cfg);
    REQUIRE(p.ok());
    CHECK(p.plan.timeouts.tcp_halfopen == 5);
    CHECK(p.plan.timeouts.udp == 30);
    CHECK(p.plan.timeouts.tcp_established == 7200);
    CHECK(p.plan.timeouts.tcp_halfclose == 120);
    const auto bad = load_yaml(std::string(interfaces) + R"(
  global:
    udp-idle-timer: 0
)");
    CHECK_FALSE(bad.ok());
}

TEST_CASE("each config sip check option sets its own check's action; blocks and rates by method")
{
    // FortiOS's defaults: every check passes but a long line (block-long-lines: respond 413) and an
    // unknown method (block-unknown: discard).
    const nat::firewall defaults = compile("");
    REQUIRE(!defaults.sip_limits.empty());
    const auto& d = defaults.sip_limits[0];
    for (std::size_t c = 0; c < sip::check_count; ++c) {
        const auto id = static_cast<sip::check>(c);
        INFO(sip::check_name(id));
        const nat::sip_action expected = id == sip::check::max_line_length ? nat::sip_action::respond
                                         : id == sip::check::unknown_method ? nat::sip_action::discard
                                                                             : nat::sip_action::pass;
        CHECK(d.check_actions[c] == expected);
    }
    CHECK(d.blocked_methods == 0);
    CHECK_FALSE(d.rates_set);
    // Each malformed-* and unknown-header alone: only its own check changes.
    for (std::size_t c = 0; c < sip::check_count; ++c) {
        const auto id = static_cast<sip::check>(c);
        const std::string_view name = sip::check_name(id);
        if (id == sip::check::max_line_length || id == sip::check::max_body_length || id == sip::check::unknown_method) {
            continue; // numbers and switches, not actions
        }
        INFO(name);
        const auto l = compile(fmt::format("voip:\n  profile:\n    default: {{sip: {{{}: respond}}}}\n", name)).sip_limits[0];
        for (std::size_t k = 0; k < sip::check_count; ++k) {
            CHECK(l.check_actions[k] == (k == c ? nat::sip_action::respond : d.check_actions[k]));
        }
    }
    const auto l = compile("voip:\n  profile:\n    default: {sip: {block-prack: enable, block-geo-red-options: enable, "
                           "max-body-length: 100, block-long-lines: disable, block-unknown: disable, "
                           "bye-rate: 7, bye-rate-track: dest-ip}}\n")
                       .sip_limits[0];
    CHECK(l.blocked_methods == ((1u << static_cast<unsigned>(sip::method::prack)) | (1u << static_cast<unsigned>(sip::method::options))));
    CHECK(l.check_actions[static_cast<std::size_t>(sip::check::max_body_length)] == nat::sip_action::respond);
    CHECK(l.check_actions[static_cast<std::size_t>(sip::check::max_line_length)] == nat::sip_action::pass);
    CHECK(l.check_actions[static_cast<std::size_t>(sip::check::unknown_method)] == nat::sip_action::pass);
    CHECK(l.max_body_length == 100);
    CHECK(l.rates_set);
    CHECK(l.rates[static_cast<std::size_t>(sip::method::bye)].per_second == 7);
    CHECK(l.rates[static_cast<std::size_t>(sip::method::bye)].track == nat::rate_track::dest_ip);
    CHECK(l.rates[static_cast<std::size_t>(sip::method::invite)].per_second == 0);
}

TEST_CASE("a schedule past the 256th that a policy could name is refused at its line, and the 200th works")
{
    std::string yaml = "firewall:\n  schedule:\n    recurring:\n";
    for (int i = 0; i < 257; ++i) {
        yaml += fmt::format("      s{}:\n        day: sunday\n        start: \"08:00\"\n        end: \"09:00\"\n", i);
    }
    yaml += "  policy:\n    1:\n      schedule: s199\n";
    const auto r = load_yaml(std::string(interfaces) + yaml);
    REQUIRE(r.ok());
    const auto p = build_plan(r.cfg);
    REQUIRE_FALSE(p.ok());
    const std::string head(interfaces);
    const int line = static_cast<int>(std::count(head.begin(), head.end(), '\n')) + 3 + 256 * 4 + 1;
    INFO(p.errors.front().where.line << ": " << p.errors.front().message);
    CHECK(p.errors.front().where.line == line);
    CHECK(p.errors.front().message.find("at most 256 recurring schedules") != std::string::npos);

    // 256 of them: the policy's (the 200th) has its bit beyond the first word.
    std::string fits = yaml.substr(0, yaml.find("      s256:"));
    fits += "  policy:\n    1:\n      schedule: s199\n";
    const auto fw = compile(fits);
    REQUIRE(fw.schedules.size() == 256);
    nat::schedule_set active;
    active.set(199);
    const auto f = udp(port1, wan1, "10.0.1.5", "8.8.8.8", 1, 2);
    CHECK(fw.match_policy(f, -1, active) == 0);
    CHECK(fw.match_policy(f, -1, nat::schedule_set{}) == -1);
}

TEST_CASE("VIPs found through their index are the ones a walk in configured order finds")
{
    // Overlapping ranges, single addresses, port forwards and interfaces: the index must give, for every
    // address, the VIPs that hold it in their configured order.
    std::mt19937 rng(5);
    const auto below = [&](unsigned n) { return std::uniform_int_distribution<unsigned>(0, n - 1)(rng); };
    for (int round = 0; round < 50; ++round) {
        nat::firewall fw;
        const unsigned count = 1 + below(30);
        for (unsigned i = 0; i < count; ++i) {
            nat::vip_rule v;
            const ipv4_address a = 0xc6336400 + below(64);
            v.extip = {a, std::min<ipv4_address>(0xc6336400 + 63, a + (below(3) == 0 ? below(20) : 0))};
            v.extintf = below(3) == 0 ? -1 : static_cast<std::int32_t>(below(2));
            v.mappedip = 0x0a000100 + i * 64;
            v.portforward = below(2) == 0;
            v.proto = below(2) == 0 ? ip_proto::udp : ip_proto::tcp;
            v.extport_first = static_cast<std::uint16_t>(5000 + below(10));
            v.extport_last = static_cast<std::uint16_t>(v.extport_first + below(4));
            v.mappedport = 6000;
            fw.vips.push_back(v);
        }
        fw.finish();
        for (int k = 0; k < 2000; ++k) {
            nat::flow_view f;
            f.in_interface = static_cast<std::uint16_t>(below(2));
            f.dst = 0xc63363f8 + below(80); // a little below, over and above the VIPs' addresses
            f.proto = below(2) == 0 ? ip_proto::udp : ip_proto::tcp;
            f.dport = static_cast<std::uint16_t>(4998 + below(20));
            std::int32_t want = -1;
            bool arp = false;
            bool external = false;
            bool forwards = false;
            for (std::size_t i = 0; i < fw.vips.size(); ++i) {
                const auto& v = fw.vips[i];
                const bool holds = f.dst >= v.extip.first && f.dst <= v.extip.last;
                const bool ports = f.dport >= v.extport_first && f.dport <= v.extport_last;
                arp = arp || (holds && (v.extintf < 0 || v.extintf == f.in_interface));
                external = external || (holds && (!v.portforward || (f.proto == v.proto && ports)));
                forwards = forwards || (holds && v.portforward && v.proto == f.proto && ports);
                if (want < 0 && holds && (v.extintf < 0 || v.extintf == f.in_interface) &&
                    (!v.portforward || (f.proto == v.proto && ports))) {
                    want = static_cast<std::int32_t>(i);
                }
            }
            CHECK(fw.match_vip(f).vip == want);
            CHECK(fw.vip_answers_arp(f.dst, f.in_interface) == arp);
            CHECK(fw.is_vip_external(f.dst, f.proto, f.dport) == external);
            CHECK(fw.forwards_port(f.dst, f.proto, f.dport) == forwards);
        }
    }
}

TEST_CASE("after a change, a policy's sessions keep it unmatched only when no policy ahead of it can take their flows")
{
    const std::string objects = R"(firewall:
  address:
    a: {subnet: 10.0.1.0/24}
    b: {subnet: 10.0.2.0/24}
  policy:
)";
    const auto fw = [&](const std::string& policies) { return compile(objects + policies); };
    const auto before = fw(R"(    1: {srcintf: port1, dstintf: wan1, srcaddr: a, action: accept}
    2: {srcintf: port1, dstintf: wan1, srcaddr: b, action: accept}
    3: {srcintf: port1, dstintf: wan1, action: accept}
)");
    using ids = std::vector<std::uint32_t>;
    CHECK(nat::policies_kept(before, before) == ids{1, 2, 3});
    // A policy added at the end, or one ahead removed: every kept (the removed one's sessions are matched).
    CHECK(nat::policies_kept(before, fw(R"(    1: {srcintf: port1, dstintf: wan1, srcaddr: a, action: accept}
    2: {srcintf: port1, dstintf: wan1, srcaddr: b, action: accept}
    3: {srcintf: port1, dstintf: wan1, action: accept}
    4: {srcintf: wan1, dstintf: port1, action: accept}
)")) == ids{1, 2, 3});
    CHECK(nat::policies_kept(before, fw(R"(    2: {srcintf: port1, dstintf: wan1, srcaddr: b, action: accept}
    3: {srcintf: port1, dstintf: wan1, action: accept}
)")) == ids{2, 3});
    // Policy 2 changed (to deny): 2 and everything after it are matched again.
    CHECK(nat::policies_kept(before, fw(R"(    1: {srcintf: port1, dstintf: wan1, srcaddr: a, action: accept}
    2: {srcintf: port1, dstintf: wan1, srcaddr: b, action: deny}
    3: {srcintf: port1, dstintf: wan1, action: accept}
)")) == ids{1});
    // A new policy ahead of 2, or 3 moved ahead of 2: from there on, matched again.
    CHECK(nat::policies_kept(before, fw(R"(    1: {srcintf: port1, dstintf: wan1, srcaddr: a, action: accept}
    9: {srcintf: port1, dstintf: wan1, srcaddr: b, action: deny}
    2: {srcintf: port1, dstintf: wan1, srcaddr: b, action: accept}
    3: {srcintf: port1, dstintf: wan1, action: accept}
)")) == ids{1});
    CHECK(nat::policies_kept(before, fw(R"(    1: {srcintf: port1, dstintf: wan1, srcaddr: a, action: accept}
    3: {srcintf: port1, dstintf: wan1, action: accept}
    2: {srcintf: port1, dstintf: wan1, srcaddr: b, action: accept}
)")) == ids{1, 3});
    // A VIP changed: policies name VIPs by index, so nothing is kept.
    auto with_vip = before;
    with_vip.vips.push_back({});
    with_vip.finish();
    CHECK(nat::policies_kept(before, with_vip).empty());
    // Names and logging are not part of a match.
    CHECK(nat::policies_kept(before, fw(R"(    1: {srcintf: port1, dstintf: wan1, srcaddr: a, action: accept, name: renamed, logtraffic: all}
    2: {srcintf: port1, dstintf: wan1, srcaddr: b, action: accept}
    3: {srcintf: port1, dstintf: wan1, action: accept}
)")) == ids{1, 2, 3});
}

TEST_CASE("policies that the workers' classifier would hold in too many rules are refused at the policy that crosses the limit")
{
    // 500 hosts on each side, none adjacent: 500 source prefixes × 500 destination prefixes.
    std::string yaml = "firewall:\n  address:\n";
    std::string src, dst;
    for (int i = 0; i < 500; ++i) {
        yaml += fmt::format("    s{}: {{subnet: 10.1.{}.{}/32}}\n    d{}: {{subnet: 10.2.{}.{}/32}}\n", i, i / 100, 2 * (i % 100), i,
                            i / 100, 2 * (i % 100));
        src += fmt::format("{}s{}", i ? ", " : "", i);
        dst += fmt::format("{}d{}", i ? ", " : "", i);
    }
    yaml += fmt::format("  addrgrp:\n    many-src: {{member: [{}]}}\n    many-dst: {{member: [{}]}}\n", src, dst);
    yaml += "  policy:\n    1: {srcintf: port1, dstintf: wan1, action: accept}\n";
    const std::string head(interfaces);
    const int line = static_cast<int>(std::count(head.begin(), head.end(), '\n') + std::count(yaml.begin(), yaml.end(), '\n')) + 1;
    yaml += "    7: {srcintf: port1, dstintf: wan1, srcaddr: many-src, dstaddr: many-dst, action: accept}\n";
    const auto r = load_yaml(head + yaml);
    INFO(dump(r));
    REQUIRE(r.ok());
    const auto p = build_plan(r.cfg);
    REQUIRE_FALSE(p.ok());
    INFO(p.errors.front().where.line << ": " << p.errors.front().message);
    CHECK(p.errors.front().where.line == line);
    CHECK(p.errors.front().message.find("firewall policy 7: the policies up to here make 250001 classifier rules") == 0);
    CHECK(nat::prefixes_of(0x0a000001, 0x0a00000e).size() == 6); // .1/32 .2/31 .4/30 .8/30 .12/31 .14/32
}
