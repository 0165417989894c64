// The schema walked field by field (control/schema.hpp): every field of every section is set through
// the CLI to its example, shown, read back through YAML and through the CLI, and unset; a required
// field cannot be unset, and a field that is fixed while sipalgd runs is refused by the running check.
#include "control/cli.hpp"
#include "control/config.hpp"
#include "control/schema.hpp"

#include "test/control/errors_text.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace sipalg;
using namespace sipalg::control;
using sipalg::test::dump;

namespace {

// One entry of every table, each naming what the examples refer to (port1, port2, lan, office).
constexpr const char* base_yaml = R"(system:
  interface:
    port1: {dpdk-port: net_pcap0, ip: 10.0.1.1/24}
    port2: {dpdk-port: net_pcap1, ip: 10.0.2.1/24}
  arp-table:
    1: {interface: port1, ip: 10.0.1.77, mac: "02:00:00:00:00:01"}
router:
  static:
    1: {gateway: 10.0.2.254, device: port2}
firewall:
  address:
    lan: {subnet: 10.0.1.0/24}
  addrgrp:
    grp: {member: lan}
  service:
    custom:
      svc: {tcp-portrange: "8000", udp-portrange: "8000"}
  schedule:
    recurring:
      office: {day: monday, start: "09:00", end: "17:00"}
  vip:
    vip1: {extip: 198.51.100.9, mappedip: 10.0.1.9}
  policy:
    1: {srcintf: port1, dstintf: port2}
)";

config base()
{
    const auto r = load_yaml(base_yaml);
    REQUIRE(r.ok());
    return r.cfg;
}

// The entry of the base configuration each table's fields are tried on (session helper 13 is the
// factory table's SIP entry; "default" the factory VoIP profile).
std::string entry_of(const section_spec& s, const config& cfg)
{
    if (s.key == entry_key::none) {
        return {};
    }
    REQUIRE(s.count(cfg) > 0);
    if (s.path == "system session-helper") {
        return "13";
    }
    std::string name;
    s.entry_name(s.entry(cfg, 0), name);
    return name;
}

const void* object_of(const section_spec& s, const config& cfg, const std::string& entry)
{
    if (s.key == entry_key::none) {
        return s.object(cfg);
    }
    for (std::size_t i = 0; i < s.count(cfg); ++i) {
        std::string name;
        s.entry_name(s.entry(cfg, i), name);
        if (name == entry) {
            return s.entry(cfg, i);
        }
    }
    FAIL("no entry " << entry << " in " << s.path);
    return nullptr;
}

// `config PATH / edit ENTRY / [config BLOCK] / LINES / [end] / next / end`.
std::string cli_text(const section_spec& s, const std::string& entry, std::string_view block,
                     const std::vector<std::string>& lines)
{
    std::string t = fmt::format("config {}\n", s.path);
    if (s.key != entry_key::none) {
        t += fmt::format("    edit \"{}\"\n", entry);
    }
    if (!block.empty()) {
        t += fmt::format("        config {}\n", block);
    }
    for (const auto& l : lines) {
        t += "            " + l + "\n";
    }
    if (!block.empty()) {
        t += "        end\n";
    }
    if (s.key != entry_key::none) {
        t += "    next\n";
    }
    return t + "end\n";
}

std::vector<std::string> words(std::string_view text)
{
    std::vector<std::string> w;
    REQUIRE(cli_words(text, w));
    return w;
}

std::string shown(const field_spec& f, const void* object)
{
    std::string out;
    if (!field_value(f, object, out, value_style::cli)) {
        return {};
    }
    return out;
}

// The fields whose only value other than the default is refused (research §2.7, issue 14: no SIP over
// TLS, SCCP or MSRP here), and that value.
struct refused_value {
    std::string_view block;
    std::string_view key;
    std::string_view value;
};
constexpr refused_value refused_values[] = {{"sip", "ssl-mode", "full"}, {"sccp", "status", "enable"}, {"msrp", "status", "enable"},
                                            {"", "enc-algorithm", "high"}};

void walk(const section_spec& s, std::string_view block_key, const block_spec& b)
{
    const config running = base();
    const std::string entry = entry_of(s, running);
    for (const auto& f : b.fields) {
        INFO(s.path << " " << block_key << " " << f.key);
        CHECK_FALSE(f.help.empty());
        if (f.choices.size() == 1) {
            // One possible value (vip type static-nat): nothing to change it to; it reads and shows.
            CHECK(default_text(f) == f.choices[0]);
            continue;
        }
        if (f.example.empty()) {
            // A value FortiOS has and this appliance refuses (a protocol it does not inspect): its only
            // other value is refused at its line, with why.
            const auto refused = std::find_if(std::begin(refused_values), std::end(refused_values), [&](const auto& r) {
                return r.block == block_key && r.key == f.key;
            });
            REQUIRE(refused != std::end(refused_values));
            const auto set = apply_cli(running, cli_text(s, entry, block_key, {fmt::format("set {} {}", f.key, refused->value)}));
            REQUIRE_FALSE(set.ok());
            // The set line: after config (and edit, and the sub-block's config, when there are).
            const int set_line = 2 + (s.key != entry_key::none ? 1 : 0) + (block_key.empty() ? 0 : 1);
            INFO(dump(set));
            CHECK(std::any_of(set.errors.begin(), set.errors.end(), [&](const config_error& e) {
                return e.where.line == set_line && e.message.find("not supported") != std::string::npos;
            }));
            continue;
        }
        CHECK(words(f.example) != words(default_text(f)));

        // set: the example, with what it needs alongside.
        std::vector<std::string> lines;
        for (const auto setting : with_settings(f)) {
            lines.push_back(fmt::format("set {}", setting));
        }
        lines.push_back(fmt::format("set {} {}", f.key, f.example));
        const auto set = apply_cli(running, cli_text(s, entry, block_key, lines));
        INFO(dump(set));
        REQUIRE(set.ok());
        const void* o = object_of(s, set.cfg, entry);
        CHECK(words(shown(f, o)) == words(f.example));

        // show: the line as FortiOS prints it.
        std::string text;
        std::vector<std::string> path = words(s.path);
        if (s.key != entry_key::none) {
            path.push_back(entry);
        }
        REQUIRE(show_cli(set.cfg, path, text));
        CHECK(text.find(fmt::format("set {} {}\n", f.key, shown(f, o))) != std::string::npos);
        std::string got;
        REQUIRE(get_cli(set.cfg, path, got));
        std::string plain;
        REQUIRE(field_value(f, o, plain, value_style::cli_option));
        CHECK(got.find(fmt::format("{} ", f.key)) != std::string::npos);
        CHECK(got.find(fmt::format(": {}\n", plain)) != std::string::npos);

        // The same configuration back through YAML, and through the whole CLI onto an empty one.
        const auto yaml = load_yaml(to_yaml(set.cfg));
        REQUIRE(yaml.ok());
        CHECK(to_yaml(yaml.cfg) == to_yaml(set.cfg));
        std::string full;
        REQUIRE(show_cli(set.cfg, {"full-configuration"}, full));
        const auto again = apply_cli(config{}, full);
        INFO(dump(again));
        REQUIRE(again.ok());
        CHECK(to_yaml(again.cfg) == to_yaml(set.cfg));

        // Fixed while running: the running check refuses a change of it, and only of it.
        CHECK(check_interfaces_kept(running, set.cfg).empty() == f.live);

        // unset: back to the default, or refused at its line when the entry needs the field.
        const auto unset = apply_cli(running, cli_text(s, entry, block_key, {fmt::format("unset {}", f.key)}));
        const void* before = object_of(s, running, entry);
        if (f.required && (f.shown == nullptr || f.shown(before))) {
            REQUIRE_FALSE(unset.ok());
            const int line = s.key == entry_key::none ? 2 : block_key.empty() ? 3 : 4;
            CHECK(std::any_of(unset.errors.begin(), unset.errors.end(), [&](const config_error& e) {
                return e.where.line == line && e.message.find(std::string(f.key)) != std::string::npos;
            }));
        } else {
            INFO(dump(unset));
            REQUIRE(unset.ok());
            std::string def;
            const void* after = object_of(s, unset.cfg, entry);
            if (field_value(f, after, def, value_style::cli)) {
                CHECK(words(def) == words(default_text(f)));
            } else {
                // Not shown: its default shows nothing, or the field is not for this object.
                CHECK((default_text(f).empty() || (f.shown != nullptr && !f.shown(after))));
            }
        }
    }
    for (const auto& inner : b.blocks) {
        walk(s, inner.key, *inner.block);
    }
}

} // namespace

TEST_CASE("every field of the schema: set, show, get, YAML and CLI round trips, unset")
{
    for (const auto& s : schema()) {
        walk(s, "", *s.block);
    }
}

TEST_CASE("a field the schema does not have is refused at its line, set or unset")
{
    const auto r = apply_cli(base(), "config firewall policy\n    edit 1\n        unset colour\n        set nosuch 1\n"
                                     "    next\nend\nconfig voip profile\n    edit default\n        config sip\n"
                                     "            unset bogus\n        end\n    next\nend\nconfig system nothing\nend\n");
    INFO(dump(r));
    REQUIRE(r.errors.size() == 4);
    CHECK(r.errors[0].where.line == 3);
    CHECK(r.errors[0].message.find("colour") != std::string::npos);
    CHECK(r.errors[1].where.line == 4);
    CHECK(r.errors[2].where.line == 10);
    CHECK(r.errors[3].where.line == 14);
}

TEST_CASE("names no longer than FortiOS takes, in YAML and in the CLI")
{
    const std::string long_name(16, 'p');
    const auto cli = apply_cli(base(), "config firewall address\n    edit " + std::string(80, 'a') +
                                           "\n        set subnet 10.9.0.0/16\n    next\nend\n");
    REQUIRE(cli.errors.size() == 1); // its set and next are not refused again
    CHECK(cli.errors[0].where.line == 2);
    CHECK(cli.errors[0].message.find("79") != std::string::npos);
    CHECK(apply_cli(base(), "config firewall address\n    edit " + std::string(79, 'a') +
                                "\n        set subnet 10.9.0.0/16\n    next\nend\n")
              .ok());
    const auto yaml = load_yaml("system:\n  interface:\n    " + long_name + ": {dpdk-port: net_pcap0, ip: 10.0.1.1/24}\n");
    REQUIRE_FALSE(yaml.ok());
    CHECK(yaml.errors[0].where.line == 3);
    CHECK(yaml.errors[0].message.find("15") != std::string::npos);
    const auto policy_name = apply_cli(base(), "config firewall policy\n    edit 1\n        set name " +
                                                   std::string(36, 'n') + "\n    next\nend\n");
    REQUIRE_FALSE(policy_name.ok());
    CHECK(policy_name.errors[0].where.line == 3);
}

TEST_CASE("the help of every field says what its value looks like and what it is by default")
{
    for (const auto& s : schema()) {
        CHECK_FALSE(s.help.empty());
        for (const auto& f : s.block->fields) {
            CHECK_FALSE(type_text(f).empty());
        }
    }
    const section_spec* policy = find_section("firewall policy");
    REQUIRE(policy != nullptr);
    CHECK(default_text(*policy->block->find("srcintf")) == "\"any\"");
    CHECK(default_text(*policy->block->find("action")) == "accept");
    CHECK(type_text(*policy->block->find("logtraffic")) == "all|utm|disable");
    CHECK(find_section("firewall nothing") == nullptr);
}

TEST_CASE("a name with a blank stays one name in a list, through the CLI and back")
{
    const auto r = apply_cli(base(), "config firewall address\n    edit \"LAN subnet\"\n        set subnet 10.0.1.0 "
                                     "255.255.255.0\n    next\nend\nconfig firewall policy\n    edit 1\n        set srcaddr "
                                     "\"LAN subnet\"\n        append srcaddr lan\n        set dstaddr \"LAN subnet\"\n    next\nend\n");
    INFO(dump(r));
    REQUIRE(r.ok());
    CHECK(r.cfg.policies[0].srcaddr == std::vector<std::string>{"LAN subnet", "lan"});
    CHECK(r.cfg.policies[0].dstaddr == std::vector<std::string>{"LAN subnet"});
    std::string text;
    REQUIRE(show_cli(r.cfg, {"firewall", "policy", "1"}, text));
    CHECK(text.find("set srcaddr \"LAN subnet\" \"lan\"\n") != std::string::npos);
    const auto again = apply_cli(r.cfg, text);
    REQUIRE(again.ok());
    CHECK(to_yaml(again.cfg) == to_yaml(r.cfg));
}
