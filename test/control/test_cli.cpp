// The FortiOS CLI reader: every configuration block of the seed document entered verbatim, the edit
// commands, and errors that name the CLI line.
#include "control/cli.hpp"
#include "control/config.hpp"
#include "control/route_plan.hpp"

#include "test/control/errors_text.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

using namespace sipalg;
using namespace sipalg::control;
using sipalg::test::dump;

namespace {

// Step 2 of the seed's SIP ALG examples 1 and 2, verbatim.
constexpr const char* sip_alg_profile = R"(    config voip profile
        edit "sip-alg-profile"
            set feature-set voipd
            config sip
                set status enable
            end
        next
    end
)";

config base()
{
    const auto r = load_yaml(R"(system:
  interface:
    port1: {dpdk-port: net_pcap0, ip: 10.0.1.1/24}
    wan1: {dpdk-port: net_pcap1, ip: 198.51.100.1/24}
)");
    REQUIRE(r.ok());
    return r.cfg;
}

const session_helper_config* helper(const config& c, std::uint32_t id)
{
    const auto it = std::find_if(c.session_helpers.begin(), c.session_helpers.end(),
                                 [&](const session_helper_config& h) { return h.id == id; });
    return it == c.session_helpers.end() ? nullptr : &*it;
}

const voip_profile_config* profile(const config& c, const std::string& name)
{
    const auto it = std::find_if(c.voip_profiles.begin(), c.voip_profiles.end(),
                                 [&](const voip_profile_config& p) { return p.name == name; });
    return it == c.voip_profiles.end() ? nullptr : &*it;
}

cli_result run(const config& c, const std::string& text)
{
    auto r = apply_cli(c, text);
    INFO(text);
    INFO(dump(r));
    REQUIRE(r.ok());
    return r;
}

} // namespace

TEST_CASE("seed: the default VoIP ALG mode, both ways")
{
    auto r = run(base(), "config system settings\n    set default-voip-alg-mode kernel-helper-based\nend \n");
    CHECK_FALSE(r.cfg.settings.proxy_based);
    r = run(r.cfg, "    config system settings\n        set default-voip-alg-mode proxy-based\n    end\n");
    CHECK(r.cfg.settings.proxy_based);
}

TEST_CASE("seed helper example 2: '{proxy-based | kernel-helper-based}' keeps either mode in force")
{
    const std::string either = "    config system settings\n        set default-voip-alg-mode {proxy-based | kernel-helper-based}\n    end \n";
    auto r = run(base(), either);
    CHECK(r.cfg.settings.proxy_based);
    r = run(r.cfg, "config system settings\n    set default-voip-alg-mode kernel-helper-based\nend\n");
    r = run(r.cfg, either);
    CHECK_FALSE(r.cfg.settings.proxy_based);
    // Alternatives that are not values of the field are still errors.
    CHECK_FALSE(apply_cli(base(), "config system settings\n    set default-voip-alg-mode {fast | slow}\nend\n").ok());
}

TEST_CASE("seed SIP ALG example 1: a voipd profile on a policy made with edit 0")
{
    auto r = run(base(), sip_alg_profile);
    const auto* p = profile(r.cfg, "sip-alg-profile");
    REQUIRE(p != nullptr);
    CHECK((p->feature_set == "voipd" && p->sip_status && p->sip_rtp));
    CHECK(profile(r.cfg, "default") != nullptr); // the other profiles stay
    r = run(r.cfg, R"(    config firewall policy
        edit 0
            set name "VoIP-Proxy"
            set utm-status enable
            set voip-profile "sip-alg-profile"
        next
    end
)");
    REQUIRE(r.cfg.policies.size() == 1);
    CHECK((r.cfg.policies[0].id == 1 && r.cfg.policies[0].name == "VoIP-Proxy" && r.cfg.policies[0].utm_status));
    CHECK(r.cfg.policies[0].voip_profile == "sip-alg-profile");
    // A second edit 0 takes the next id.
    r = run(r.cfg, "config firewall policy\n edit 0\n  set name \"second\"\n next\nend\n");
    REQUIRE(r.cfg.policies.size() == 2);
    CHECK(r.cfg.policies[1].id == 2);
}

TEST_CASE("seed SIP ALG example 3 and helper example 1: an empty voip-profile")
{
    auto r = run(base(), R"(    config firewall policy
        edit 0
            set name "VoIP-session-helper"
            set utm-status enable
            set voip-profile ""
        next
    end
)");
    CHECK(r.cfg.policies.at(0).voip_profile.empty());
}

TEST_CASE("seed: session helpers edited, deleted and added with edit 0")
{
    auto r = run(base(), R"(    config system session-helper
        edit 13
            set name sip
            set protocol 17
            set port 5060
        next
    end
)");
    REQUIRE(helper(r.cfg, 13) != nullptr);
    CHECK(helper(r.cfg, 13)->port == 5060);
    CHECK(r.cfg.session_helpers.size() == 20); // the others stay
    r = run(r.cfg, "config system session-helper\n    edit 13\n        set name sip\n        set protocol 17\n"
                   "        set port 5065\n    next\nend\n");
    CHECK(helper(r.cfg, 13)->port == 5065);
    r = run(r.cfg, "    config system session-helper\n        delete 13\n    end\n");
    CHECK(helper(r.cfg, 13) == nullptr);
    r = run(r.cfg, "config system session-helper\n    edit 0\n        set name sip\n        set port 5064\n    next\nend\n");
    const auto* added = helper(r.cfg, 21);
    REQUIRE(added != nullptr);
    CHECK((added->name == "sip" && added->port == 5064 && added->protocol == 0));
}

TEST_CASE("seed: SIP ports, one or two")
{
    auto r = run(base(), "config system settings\n    set sip-tcp-port 5064\n    set sip-udp-port 5065\n"
                         "    set sip-ssl-port 5066\nend\n");
    CHECK(r.cfg.settings.sip_tcp_port == std::vector<std::uint16_t>{5064});
    CHECK(r.cfg.settings.sip_ssl_port == 5066);
    r = run(r.cfg, "config system settings\n    set sip-tcp-port 5060 5064\n    set sip-udp-port 5061 5065\nend\n");
    CHECK(r.cfg.settings.sip_tcp_port == std::vector<std::uint16_t>{5060, 5064});
    CHECK(r.cfg.settings.sip_udp_port == std::vector<std::uint16_t>{5061, 5065});
    CHECK(r.cfg.settings.sip_ssl_port == 5066); // set fields only: the rest stays
}

TEST_CASE("seed helper example 3: the policy as shown, the default profile disabled, voip-profile unset")
{
    auto r = run(base(), R"(    # show firewall policy 1
    config firewall policy
        edit 1
            set name "voip to internet"
            set srcintf "port1" 
            set dstintf "wan1"
            set action accept
            set srcaddr "all"
            set dstaddr "all"
            set schedule "always"
            set service "ALL"
            set utm-status enable
            set voip-profile "default"
            set logtraffic all
            set nat enable
        next
    end
)");
    REQUIRE(r.cfg.policies.size() == 1);
    const auto& p = r.cfg.policies[0];
    CHECK((p.name == "voip to internet" && p.nat && p.logtraffic == "all" && p.voip_profile == "default"));
    CHECK(p.srcintf == std::vector<std::string>{"port1"});
    REQUIRE(r.commands.size() == 1);
    CHECK(r.commands[0].words == std::vector<std::string>{"show", "firewall", "policy", "1"});
    r = run(r.cfg, R"(      config voip profile
          edit default
              config sip
                  set status disable
                  set rtp disable
              end
          next
      end
)");
    CHECK_FALSE(profile(r.cfg, "default")->sip_status);
    CHECK_FALSE(profile(r.cfg, "default")->sip_rtp);
    r = run(r.cfg, "      config firewall policy\n          edit 1\n              unset voip-profile \n          next\n      end\n");
    CHECK(r.cfg.policies[0].voip_profile.empty());
    CHECK(r.cfg.policies[0].name == "voip to internet");
}

TEST_CASE("diagnose lines are kept as commands, prompt or not")
{
    const auto r = run(base(), "# diagnose sys session filter dport 5060\n# diagnose sys session clear\n"
                               "diagnose sys session list\n");
    REQUIRE(r.commands.size() == 3);
    CHECK(r.commands[0].words == std::vector<std::string>{"diagnose", "sys", "session", "filter", "dport", "5060"});
    CHECK(r.commands[2].line == 3);
    CHECK_FALSE(r.changed);
}

TEST_CASE("append adds to a list; quotes group words")
{
    auto r = run(base(), "config firewall address\n edit \"a b\"\n  set subnet 10.0.1.0 255.255.255.0\n next\n"
                         " edit c\n  set subnet 10.0.1.128/25\n next\nend\n"
                         "config firewall policy\n edit 5\n  set srcaddr \"a b\"\n  append srcaddr c\n next\nend\n");
    CHECK(r.cfg.policies.at(0).srcaddr == std::vector<std::string>{"a b", "c"});
}

TEST_CASE("errors name the CLI line; nothing is applied")
{
    const auto r = apply_cli(base(), "config firewall policy\n    edit 1\n        set srcaddr nowhere\n"
                                     "        set action maybe\n        set bogus 1\n    next\nend\n");
    INFO(dump(r));
    REQUIRE_FALSE(r.ok());
    const auto at = [&](int line, const std::string& what) {
        return std::any_of(r.errors.begin(), r.errors.end(), [&](const config_error& e) {
            return e.where.line == line && e.message.find(what) != std::string::npos;
        });
    };
    CHECK(at(3, "nowhere"));
    CHECK(at(4, "maybe"));
    CHECK(at(5, "bogus"));
    CHECK_FALSE(apply_cli(base(), "config firewall policy\n edit 1\n").ok());             // end missing
    CHECK_FALSE(apply_cli(base(), "set name x\n").ok());                                  // outside a block
    CHECK_FALSE(apply_cli(base(), "config firewall policy\n edit 1\n set name \"x\nend\n").ok()); // open quote
    CHECK_FALSE(apply_cli(base(), "config system session-helper\n delete 99\nend\n").ok());
    CHECK_FALSE(apply_cli(base(), "reboot now\n").ok());
}

TEST_CASE("an error in what the text kept of the running configuration is put at the line that caused it")
{
    // Policy 1 of the running configuration names the address the text deletes: the error is at the
    // delete, not at "line 0" of some other text.
    const auto running = run(base(), "config firewall address\n    edit lan\n        set subnet 10.0.1.0/24\n    next\nend\n"
                                     "config firewall policy\n    edit 1\n        set srcaddr lan\n    next\nend\n").cfg;
    const auto r = apply_cli(running, "# comment\nconfig firewall address\n    delete lan\nend\n");
    INFO(dump(r));
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].where.line == 3);
    CHECK(r.errors[0].message.find("lan") != std::string::npos);
    CHECK(r.errors[0].message.find("running configuration") != std::string::npos);
    // An unset likewise.
    const auto u = apply_cli(running, "config firewall address\n    edit lan\n        unset subnet\n        set type fqdn\n"
                                      "    next\nend\n");
    if (!u.ok()) {
        for (const auto& e : u.errors) {
            CHECK(e.where.line != 0);
        }
    }
    // The route plan's errors, made in the check, come back at the line that made the route.
    const auto routed = apply_cli(running, "config router static\n    edit 7\n        set dst 0.0.0.0/0\n"
                                           "        set device nowhere\n    next\nend\n",
                                  [](const config& next) { return build_plan(next).errors; });
    REQUIRE(routed.errors.size() == 1);
    CHECK(routed.errors[0].where.line == 2);
    CHECK(routed.errors[0].message.find("nowhere") != std::string::npos);
    // The caller's own check of the result is put at CLI lines too.
    const auto checked = apply_cli(running, "config firewall policy\n    edit 1\n        set name x\n    next\nend\n",
                                   [](const config&) { return std::vector<config_error>{{{}, "no"}}; });
    REQUIRE(checked.errors.size() == 1);
    CHECK(checked.errors[0].where.line == 3);
}

TEST_CASE("a large table is edited by name: new, existing, deleted and made again")
{
    // Over 32 entries the table is looked up by a hash of the names; deletes move the others.
    std::string text = "config firewall address\n";
    for (int i = 0; i < 100; ++i) {
        text += fmt::format("    edit a{}\n        set subnet 10.{}.0.0/16\n    next\n", i, i);
    }
    text += "    delete a3\n    delete a50\n    edit a51\n        set subnet 10.200.0.0/16\n    next\n"
            "    edit a3\n        set subnet 10.201.0.0/16\n    next\n    edit a99\n        set subnet 10.202.0.0/16\n"
            "    next\nend\n";
    const auto r = run(base(), text);
    REQUIRE(r.cfg.addresses.size() == 99);
    const auto subnet_of = [&](std::string_view name) {
        for (const auto& a : r.cfg.addresses) {
            if (a.name == name) {
                return format_ipv4(a.first);
            }
        }
        return std::string("none");
    };
    CHECK(subnet_of("a3") == "10.201.0.0");
    CHECK(subnet_of("a50") == "none");
    CHECK(subnet_of("a51") == "10.200.0.0");
    CHECK(subnet_of("a99") == "10.202.0.0");
    CHECK(subnet_of("a98") == "10.98.0.0");
    // The same through a second text on the result: the table is found again after the edits.
    const auto again = run(r.cfg, "config firewall address\n    delete a0\n    edit a98\n        set subnet 10.203.0.0/16\n"
                                  "    next\nend\n");
    CHECK(again.cfg.addresses.size() == 98);
}

TEST_CASE("one set of text rules: a value for every set, UTF-8 without NUL, a member once")
{
    auto r = apply_cli(base(), "config firewall policy\n    edit 1\n        set name\n    next\nend\n");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].where.line == 3);
    CHECK(r.errors[0].message.find("needs a value") != std::string::npos);
    CHECK(run(base(), "config firewall policy\n    edit 1\n        set name \"\"\n    next\nend\n").cfg.policies.size() == 1);
    r = apply_cli(base(), "config firewall policy\n    edit 1\n        set name caf\xc3\n    next\nend\n");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].where.line == 3);
    CHECK(r.errors[0].message.find("UTF-8") != std::string::npos);
    std::string with_nul = "config firewall policy\n    edit 1\n        set name a";
    with_nul += '\0';
    with_nul += "b\n    next\nend\n";
    r = apply_cli(base(), with_nul);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].where.line == 3);
    // A member named twice is there once, as FortiOS keeps its member tables (YAML the same).
    const auto merged = run(base(), "config firewall address\n    edit a\n        set subnet 10.0.0.0/8\n    next\nend\n"
                                    "config firewall addrgrp\n    edit g\n        set member a a\n    next\nend\n"
                                    "config firewall policy\n    edit 1\n        set srcaddr g a g\n    next\nend\n");
    REQUIRE(merged.cfg.addrgrps.size() == 1);
    CHECK(merged.cfg.addrgrps[0].member == std::vector<std::string>{"a"});
    CHECK(merged.cfg.policies[0].srcaddr == std::vector<std::string>{"g", "a"});
    const auto yaml = load_yaml("firewall:\n  policy:\n    1: {service: [SIP, ALL, SIP]}\n");
    REQUIRE(yaml.ok());
    CHECK(yaml.cfg.policies[0].service == std::vector<std::string>{"SIP", "ALL"});
}

TEST_CASE("show prints a list of numbers as FortiOS does, unquoted")
{
    const auto r = run(base(), "config system settings\n    set sip-tcp-port 5060 5064\nend\n");
    std::string out;
    REQUIRE(show_cli(r.cfg, {"system", "settings"}, out));
    CHECK(out.find("    set sip-tcp-port 5060 5064\n") != std::string::npos);
    CHECK(out.find("    set sip-udp-port 5060\n") != std::string::npos);
}

TEST_CASE("the running configuration survives a CLI round of no changes")
{
    const auto running = base();
    const auto r = run(running, "config firewall policy\nend\n");
    CHECK(to_yaml(r.cfg) == to_yaml(running));
}

TEST_CASE("show prints CLI that reads back to the same configuration")
{
    auto r = run(base(), std::string(sip_alg_profile) + R"(config firewall address
    edit "lan"
        set subnet 10.0.1.0 255.255.255.0
    next
end
config firewall policy
    edit 4
        set name "voip to internet"
        set srcintf "port1"
        set dstintf "wan1"
        set srcaddr "lan"
        set voip-profile "sip-alg-profile"
        set nat enable
    next
end
)");
    std::string text;
    REQUIRE(show_cli(r.cfg, {"full-configuration"}, text));
    INFO(text);
    CHECK(text.find("config system session-helper\n    edit 1\n") != std::string::npos);
    CHECK(text.find("    edit 13\n        set name sip\n        set protocol 17\n        set port 5060\n    next\n") !=
          std::string::npos);
    CHECK(text.find("set name \"voip to internet\"") != std::string::npos);
    // Applied onto the same configuration, and onto an empty one: the same configuration either way.
    const auto same = run(r.cfg, text);
    CHECK(to_yaml(same.cfg) == to_yaml(r.cfg));
    const auto fresh = run(config{}, text);
    CHECK(to_yaml(fresh.cfg) == to_yaml(r.cfg));
    std::string one;
    REQUIRE(show_cli(r.cfg, {"firewall", "policy", "4"}, one));
    CHECK(one.starts_with("config firewall policy\n    edit 4\n"));
    CHECK_FALSE(show_cli(r.cfg, {"firewall", "nothing"}, one));
}

TEST_CASE("a VoIP profile pasted from a FortiGate, every option off its default, loads, shows the same and applies back unchanged")
{
    // test/control/fortigate-voip-profile.conf: FortiOS's show full-configuration of a profile with each
    // of the 113 config sip options set to a value other than FortiOS's default (but for status, and
    // ssl-mode, whose full is refused here with the status enable of config sccp and config msrp).
    const char* root = std::getenv("SIPALG_SOURCE_ROOT");
    std::ifstream in(std::string(root != nullptr ? root : SIPALG_SOURCE_ROOT_DEFAULT) + "/test/control/fortigate-voip-profile.conf");
    REQUIRE(in);
    const std::string pasted((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto r = run(base(), pasted);
    const voip_profile_config* p = profile(r.cfg, "fortigate-full");
    REQUIRE(p != nullptr);
    // Every value it sets is the model's now: each of its set lines is shown back as it was written.
    std::string shown;
    REQUIRE(show_cli(r.cfg, {"voip", "profile", "fortigate-full"}, shown));
    std::size_t sets = 0;
    std::istringstream lines(pasted);
    for (std::string line; std::getline(lines, line);) {
        if (line.find("set ") != std::string::npos) {
            ++sets;
            INFO(line);
            CHECK(shown.find(line + "\n") != std::string::npos);
        }
    }
    CHECK(sets == 2 + 113 + 6 + 4);
    CHECK(p->max_line_length == 1024);
    CHECK(p->malformed_header_via == "respond");
    CHECK(p->bye_rate_track == "dest-ip");
    // Applied back, shown text and all: no change.
    const auto again = run(r.cfg, shown);
    CHECK(to_yaml(again.cfg) == to_yaml(r.cfg));
    std::string full;
    REQUIRE(show_cli(r.cfg, {"full-configuration"}, full));
    CHECK(to_yaml(run(config{}, full).cfg) == to_yaml(r.cfg));
}

TEST_CASE("show says where sipalg's default differs from FortiOS's on purpose: nat-trace")
{
    const auto r = run(base(), "");
    std::string text;
    REQUIRE(show_cli(r.cfg, {"voip", "profile", "default"}, text));
    const auto note = text.find("            # nat-trace: disable by default here (FortiOS: enable)");
    REQUIRE(note != std::string::npos);
    CHECK(text.find("\n            set nat-trace disable\n", note) != std::string::npos);
    // A comment line, which the CLI reads back as such: the same configuration.
    CHECK(to_yaml(run(r.cfg, text).cfg) == to_yaml(r.cfg));
    CHECK(to_yaml(r.cfg).find("# nat-trace: disable by default here") != std::string::npos);
}

TEST_CASE("log syslogd setting as a FortiGate shows it loads; what sipalg cannot do is refused at its line")
{
    const std::string fortigate = "config log syslogd setting\n"
                                  "    set status enable\n"
                                  "    set server \"192.0.2.10\"\n"
                                  "    set mode reliable\n"
                                  "    set port 6514\n"
                                  "    set facility local0\n"
                                  "    set source-ip 192.0.2.1\n"
                                  "    set format rfc5424\n"
                                  "    set priority low\n"
                                  "    set max-log-rate 0\n"
                                  "    set enc-algorithm disable\n"
                                  "    set ssl-min-proto-version default\n"
                                  "    set interface-select-method auto\n"
                                  "end\n";
    const auto r = apply_cli(base(), fortigate);
    REQUIRE(r.ok());
    CHECK(r.cfg.syslogd.status);
    CHECK(r.cfg.syslogd.server == 0xc000020a);
    CHECK(r.cfg.syslogd.mode == "reliable");
    CHECK(r.cfg.syslogd.port == 6514);
    CHECK(r.cfg.syslogd.format == "rfc5424");
    const auto legacy = apply_cli(base(), "config log syslogd setting\n    set server 192.0.2.10\n    set mode legacy-reliable\nend\n");
    REQUIRE_FALSE(legacy.ok());
    CHECK(legacy.errors[0].where.line == 3);
    CHECK(legacy.errors[0].message.find("legacy-reliable (RFC 3195, BEEP) is not supported") != std::string::npos);
    const auto no_server = apply_cli(base(), "config log syslogd setting\n    set status enable\nend\n");
    REQUIRE_FALSE(no_server.ok());
    CHECK(no_server.errors[0].message.find("status enable needs a server") != std::string::npos);
}
