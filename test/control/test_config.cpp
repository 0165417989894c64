// The YAML configuration reader: FortiOS names and value forms, and every error with its line and column.
#include "control/config.hpp"
#include "control/route_plan.hpp"

#include "test/control/errors_text.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <cstdlib>
#include <string>
#include <vector>

using namespace sipalg;
using namespace sipalg::control;
using sipalg::test::dump;

namespace {

bool has_error(const load_result& r, int line, int column, const std::string& fragment)
{
    return std::any_of(r.errors.begin(), r.errors.end(), [&](const config_error& e) {
        return e.where.line == line && e.where.column == column && e.message.find(fragment) != std::string::npos;
    });
}

} // namespace

std::string source_root()
{
    const char* root = std::getenv("SIPALG_SOURCE_ROOT");
    return root != nullptr ? root : SIPALG_SOURCE_ROOT_DEFAULT;
}

TEST_CASE("every configuration shipped in conf/ and deploy/ loads and compiles to a route plan")
{
    int files = 0;
    std::vector<std::filesystem::path> shipped;
    for (const auto& entry : std::filesystem::directory_iterator(source_root() + "/conf")) {
        shipped.push_back(entry.path());
    }
    shipped.push_back(source_root() + "/deploy/sipalgd.yaml"); // what the package puts in /etc/sipalg
    for (const auto& path : shipped) {
        if (path.extension() != ".yaml") {
            continue;
        }
        const auto& entry = path;
        ++files;
        INFO(entry);
        const auto r = load_yaml_file(entry);
        INFO(dump(r));
        REQUIRE(r.ok());
        const auto plan = build_plan(r.cfg);
        REQUIRE(plan.ok());
    }
    REQUIRE(files >= 3);
}

TEST_CASE("the shipped default configuration is the lab")
{
    const auto r = load_yaml_file(source_root() + "/conf/default.yaml");
    INFO(dump(r));
    REQUIRE(r.ok());
    REQUIRE(r.cfg.interfaces.size() == 2);
    const auto* port1 = r.cfg.find_interface("port1");
    REQUIRE(port1 != nullptr);
    REQUIRE(port1->ip == ipv4_prefix{make_ipv4(10, 0, 1, 1), 24});
    REQUIRE(port1->dpdk_port == "net_af_packet0");
    REQUIRE(port1->allowaccess == std::vector<std::string>{"ping"});
    REQUIRE(r.cfg.static_routes.size() == 1);
    REQUIRE(r.cfg.static_routes[0].dst == ipv4_prefix{0, 0});
    REQUIRE(r.cfg.static_routes[0].gateway == make_ipv4(198, 51, 100, 254));
}

TEST_CASE("every value form of an interface, route and ARP entry")
{
    const auto r = load_yaml(R"(system:
  interface:
    port1:
      dpdk-port: "0000:01:00.0"
      ip: 192.168.1.99/24
      macaddr: 02:00:00:00:01:01
      mtu: 9000
      allowaccess: [ping, https]
  arp-table:
    7:
      interface: port1
      ip: 192.168.1.50
      mac: 02:00:00:00:00:50
router:
  static:
    2:
      dst: 10.0.0.0 255.0.0.0
      gateway: 192.168.1.1
      distance: 20
    3:
      dst: 172.16.0.0/12
      blackhole: enable
    4:
      dst: 172.17.0.0/16
      device: port1
      status: disable
)");
    INFO(dump(r));
    REQUIRE(r.ok());
    const auto& i = r.cfg.interfaces.at(0);
    REQUIRE(i.mtu == 9000);
    REQUIRE(i.macaddr.has_value());
    REQUIRE(i.allowaccess == std::vector<std::string>{"ping", "https"});
    REQUIRE(r.cfg.arp_table.at(0).id == 7);
    REQUIRE(r.cfg.arp_table.at(0).ip == make_ipv4(192, 168, 1, 50));
    REQUIRE(r.cfg.static_routes.size() == 3);
    REQUIRE(r.cfg.static_routes[0].dst == ipv4_prefix{make_ipv4(10, 0, 0, 0), 8});
    REQUIRE(r.cfg.static_routes[0].distance == 20);
    REQUIRE(r.cfg.static_routes[1].blackhole);
    REQUIRE_FALSE(r.cfg.static_routes[2].enabled);
}

TEST_CASE("errors name the line and column of the offending node, all at once")
{
    const auto r = load_yaml(R"(system:
  interface:
    port1:
      dpdk-port: net_pcap0
      ip: 10.0.1.300/24
      colour: blue
    wan1:
      ip: 198.51.100.1/24
router:
  static:
    1:
      gateway: 198.51.100.254
      device: wan9
)");
    INFO(dump(r));
    REQUIRE_FALSE(r.ok());
    REQUIRE(has_error(r, 5, 11, "ip must be"));
    REQUIRE(has_error(r, 6, 7, "unknown key 'colour'"));
    REQUIRE(has_error(r, 7, 5, "needs dpdk-port"));
    REQUIRE(has_error(r, 11, 5, "device 'wan9' does not exist"));
}

TEST_CASE("a YAML syntax error is one error with its position")
{
    const auto r = load_yaml("system:\n  interface: [unclosed\n");
    REQUIRE(r.errors.size() == 1);
    REQUIRE(r.errors[0].where.line >= 2);
}

TEST_CASE("two interfaces on one port, overlapping subnets and unknown sections are refused")
{
    const auto r = load_yaml(R"(system:
  interface:
    port1: {dpdk-port: net_pcap0, ip: 10.0.1.1/24}
    port2: {dpdk-port: net_pcap0, ip: 10.0.0.1/16}
firewal:
  policy: {}
)");
    INFO(dump(r));
    REQUIRE(has_error(r, 4, 5, "already used by port1"));
    REQUIRE(has_error(r, 4, 5, "overlaps"));
    REQUIRE(has_error(r, 5, 1, "unknown key 'firewal'"));
}

TEST_CASE("ids written differently are still one id: 8 and 08 are refused as a duplicate (found by fuzz_config)")
{
    const auto r = load_yaml(R"(system:
  session-helper:
    8: {name: rtsp, protocol: 6, port: 8554}
    08: {name: pmap, protocol: 17, port: 111}
  arp-table:
    1: {interface: port1, ip: 10.0.1.2, mac: "02:00:00:00:00:02"}
    01: {interface: port1, ip: 10.0.1.3, mac: "02:00:00:00:00:03"}
  interface:
    port1: {dpdk-port: net_pcap0, ip: 10.0.1.1/24}
router:
  static:
    2: {gateway: 10.0.1.254}
    002: {gateway: 10.0.1.253}
)");
    INFO(dump(r));
    CHECK(has_error(r, 4, 5, "system session-helper 8: the id is used twice"));
    CHECK(has_error(r, 7, 5, "system arp-table 1: the id is used twice"));
    CHECK(has_error(r, 13, 5, "router static 2: the id is used twice"));
}

TEST_CASE("wrong types and ranges are reported")
{
    const auto r = load_yaml(R"(system:
  interface:
    port1: {dpdk-port: net_pcap0, ip: 10.0.1.1/24, mtu: 70000, macaddr: 01:00:5e:00:00:01}
  arp-table:
    x: {interface: port1, ip: 10.0.1.9, mac: 02:00:00:00:00:09}
router:
  static: [1, 2]
)");
    INFO(dump(r));
    REQUIRE(has_error(r, 3, 57, "mtu must be an integer from 576 to 9216"));
    REQUIRE(has_error(r, 3, 73, "must be a unicast address"));
    REQUIRE(has_error(r, 5, 5, "id must be an integer"));
    REQUIRE(has_error(r, 7, 11, "router static must be a mapping"));
}

TEST_CASE("an unreadable file is one clear error")
{
    const auto r = load_yaml_file("/nonexistent/sipalg.yaml");
    REQUIRE(r.errors.size() == 1);
    REQUIRE(r.errors[0].message.find("/nonexistent/sipalg.yaml") != std::string::npos);
}

TEST_CASE("the configuration shown as YAML reads back to the same configuration")
{
    for (const auto& entry : std::filesystem::directory_iterator(source_root() + "/conf")) {
        if (entry.path().extension() != ".yaml") {
            continue;
        }
        INFO(entry.path());
        const auto first = load_yaml_file(entry.path());
        REQUIRE(first.ok());
        const std::string shown = to_yaml(first.cfg);
        const auto again = load_yaml(shown);
        INFO(shown);
        INFO(dump(again));
        REQUIRE(again.ok());
        REQUIRE(to_yaml(again.cfg) == shown);
        // The same plan: what the data plane gets does not change through a show and apply.
        const auto a = build_plan(first.cfg);
        const auto b = build_plan(again.cfg);
        REQUIRE(a.ok());
        REQUIRE(b.ok());
        REQUIRE(a.plan.routes == b.plan.routes);
        REQUIRE(a.plan.nexthops == b.plan.nexthops);
        REQUIRE(a.plan.firewall.policies.size() == b.plan.firewall.policies.size());
    }
}

TEST_CASE("a partial document replaces only the sections it holds")
{
    const auto running = load_yaml(R"(system:
  interface:
    port1: {dpdk-port: net_pcap0, ip: 10.0.1.1/24}
    wan1: {dpdk-port: net_pcap1, ip: 198.51.100.1/24}
firewall:
  address:
    lan: {subnet: 10.0.1.0/24}
  policy:
    1: {srcintf: port1, dstintf: wan1, srcaddr: lan, nat: enable}
)");
    REQUIRE(running.ok());
    // Only the policies: the address they name stays from the running configuration.
    const auto update = load_yaml_sections(R"(firewall:
  policy:
    7: {srcintf: port1, dstintf: wan1, srcaddr: lan, action: deny}
)");
    REQUIRE(update.ok());
    REQUIRE(update.sections == section::policy);
    const config merged = merge_sections(running.cfg, update.cfg, update.sections);
    REQUIRE(check_config(merged).empty());
    REQUIRE(merged.interfaces.size() == 2);
    REQUIRE(merged.addresses.size() == 1);
    REQUIRE(merged.policies.size() == 1);
    REQUIRE(merged.policies[0].id == 7);
    // An update naming what no section defines is refused after the merge, at its position.
    const auto bad = load_yaml_sections("firewall:\n  policy:\n    2: {srcaddr: nowhere}\n");
    const auto errors = check_config(merge_sections(running.cfg, bad.cfg, bad.sections));
    REQUIRE(errors.size() == 1);
    REQUIRE(errors[0].where.line == 3);
    REQUIRE(errors[0].message.find("nowhere") != std::string::npos);
    // A section kept from the running configuration keeps no positions: an error in it (here the
    // policy, whose address this update removes) must not point at a line of the running file.
    const auto removes = load_yaml_sections("# the addresses, again\nfirewall:\n  address:\n    other: {subnet: 10.9.0.0/16}\n");
    REQUIRE(removes.ok());
    CHECK(removes.first_section.line == 4);
    const auto kept = check_config(merge_sections(running.cfg, removes.cfg, removes.sections));
    REQUIRE(kept.size() == 1);
    CHECK(kept[0].where.line == 0);
    CHECK(kept[0].message.find("lan") != std::string::npos);
}

TEST_CASE("the interfaces a running appliance has bound stay: errors at the update's positions")
{
    const auto running = load_yaml("system:\n  interface:\n    port1: {dpdk-port: net_pcap0, ip: 10.0.0.1/24}\n    wan1: {dpdk-port: net_pcap1, ip: 10.1.0.1/24}\n");
    REQUIRE(running.ok());
    const auto same = load_yaml("system:\n  interface:\n    port1: {dpdk-port: net_pcap0, ip: 10.0.0.9/24}\n"
                                "    wan1: {dpdk-port: net_pcap1, ip: 10.1.0.1/24}\n");
    CHECK(check_interfaces_kept(running.cfg, same.cfg).empty()); // addresses may change
    const auto moved = load_yaml("system:\n  interface:\n    port1: {dpdk-port: net_pcap7, ip: 10.0.0.1/24}\n    wan1: {dpdk-port: net_pcap1, ip: 10.1.0.1/24}\n");
    auto errors = check_interfaces_kept(running.cfg, moved.cfg);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].where.line == 3);
    CHECK(errors[0].message.find("net_pcap7") != std::string::npos);
    const auto renamed = load_yaml("system:\n  interface:\n    port1: {dpdk-port: net_pcap0, ip: 10.0.0.1/24}\n    lan9: {dpdk-port: net_pcap1, ip: 10.1.0.1/24}\n");
    errors = check_interfaces_kept(running.cfg, renamed.cfg);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].where.line == 4);
    const auto fewer = load_yaml("system:\n  interface:\n    port1: {dpdk-port: net_pcap0, ip: 10.0.0.1/24}\n");
    errors = check_interfaces_kept(running.cfg, fewer.cfg);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].message.find("wan1 cannot be removed") != std::string::npos);
}

TEST_CASE("VoIP defaults are FortiOS's: proxy-based, SIP ports 5060/5060/5061, helper 13 sip/17/5060, profile default")
{
    const auto r = load_yaml("");
    REQUIRE(r.ok());
    CHECK(r.cfg.settings.proxy_based);
    CHECK(r.cfg.settings.sip_tcp_port == std::vector<std::uint16_t>{5060});
    CHECK(r.cfg.settings.sip_udp_port == std::vector<std::uint16_t>{5060});
    CHECK(r.cfg.settings.sip_ssl_port == 5061);
    const auto sip = std::find_if(r.cfg.session_helpers.begin(), r.cfg.session_helpers.end(),
                                  [](const session_helper_config& h) { return h.id == 13; });
    REQUIRE(sip != r.cfg.session_helpers.end());
    CHECK((sip->name == "sip" && sip->protocol == 17 && sip->port == 5060));
    CHECK(r.cfg.session_helpers.size() == 20);
    REQUIRE(r.cfg.voip_profiles.size() == 1);
    CHECK((r.cfg.voip_profiles[0].name == "default" && r.cfg.voip_profiles[0].sip_status && r.cfg.voip_profiles[0].sip_rtp));
}

TEST_CASE("system settings, session helpers and VoIP profiles as the seed configures them")
{
    const auto r = load_yaml(R"(system:
  settings:
    default-voip-alg-mode: kernel-helper-based
    sip-tcp-port: 5060 5064
    sip-udp-port: [5061, 5065]
    sip-ssl-port: 5066
  session-helper:
    13: {name: sip, protocol: 17, port: 5065}
    0: {name: sip, port: 5064}
voip:
  profile:
    sip-alg-profile: {feature-set: voipd, sip: {status: enable}}
    sip-disabled-profile: {feature-set: voipd, sip: {status: disable}}
    default: {sip: {status: disable, rtp: disable}}
firewall:
  policy:
    0: {name: VoIP-Proxy, utm-status: enable, voip-profile: sip-alg-profile}
    1: {name: none, utm-status: enable, voip-profile: ""}
)");
    INFO(dump(r));
    REQUIRE(r.ok());
    CHECK_FALSE(r.cfg.settings.proxy_based);
    CHECK(r.cfg.settings.sip_tcp_port == std::vector<std::uint16_t>{5060, 5064});
    CHECK(r.cfg.settings.sip_udp_port == std::vector<std::uint16_t>{5061, 5065});
    CHECK(r.cfg.settings.sip_ssl_port == 5066);
    REQUIRE(r.cfg.session_helpers.size() == 2);
    CHECK((r.cfg.session_helpers[1].id == 14 && r.cfg.session_helpers[1].protocol == 0 &&
           r.cfg.session_helpers[1].port == 5064));
    REQUIRE(r.cfg.voip_profiles.size() == 3);
    CHECK_FALSE(r.cfg.voip_profiles[1].sip_status);
    CHECK_FALSE(r.cfg.voip_profiles[2].sip_rtp);
    CHECK(r.cfg.policies[0].voip_profile == "sip-alg-profile");
    // Shown and read back unchanged.
    const auto again = load_yaml(to_yaml(r.cfg));
    INFO(dump(again));
    REQUIRE(again.ok());
    CHECK(to_yaml(again.cfg) == to_yaml(r.cfg));
}

TEST_CASE("a policy naming a VoIP profile that does not exist is an error at the name")
{
    const auto r = load_yaml("firewall:\n  policy:\n    1: {voip-profile: nope, ips-voip-filter: nada}\n"
                             "system:\n  settings: {default-voip-alg-mode: fast, sip-tcp-port: 1 2 3}\n");
    REQUIRE_FALSE(r.ok());
    INFO(dump(r));
    CHECK(has_error(r, 3, 23, "voip-profile 'nope'"));
    CHECK(std::any_of(r.errors.begin(), r.errors.end(),
                      [](const config_error& e) { return e.message.find("ips-voip-filter 'nada'") != std::string::npos; }));
    CHECK(std::any_of(r.errors.begin(), r.errors.end(),
                      [](const config_error& e) { return e.message.find("default-voip-alg-mode") != std::string::npos; }));
    CHECK(std::any_of(r.errors.begin(), r.errors.end(),
                      [](const config_error& e) { return e.message.find("one or two ports") != std::string::npos; }));
}

TEST_CASE("the SIP ALG options of a VoIP profile read, show and read back; a bad nat-port-range is an error")
{
    const auto r = load_yaml(R"(voip:
  profile:
    office:
      sip: {status: enable, strict-register: disable, open-contact-pinhole: disable, no-sdp-fixup: enable,
            hosted-nat-traversal: enable, hnt-restrict-source-ip: enable,
            nat-trace: enable, preserve-override: enable, contact-fixup: disable, open-register-pinhole: disable,
            nat-port-range: "5117-65533"}
)");
    INFO(dump(r));
    REQUIRE(r.ok());
    const auto& p = r.cfg.voip_profiles.back();
    CHECK((!p.strict_register && !p.open_contact_pinhole && p.no_sdp_fixup && p.nat_trace && p.preserve_override &&
           !p.contact_fixup && !p.open_register_pinhole && p.hosted_nat_traversal && p.hnt_restrict_source_ip));
    REQUIRE(p.nat_port_range);
    CHECK(*p.nat_port_range == std::pair<std::uint16_t, std::uint16_t>{5117, 65533});
    const auto again = load_yaml(to_yaml(r.cfg));
    REQUIRE(again.ok());
    CHECK(to_yaml(again.cfg) == to_yaml(r.cfg));
    const auto bad = load_yaml("voip:\n  profile:\n    x: {sip: {nat-port-range: \"10-20\"}}\n");
    CHECK(has_error(bad, 3, 31, "nat-port-range must be a port range"));
}
