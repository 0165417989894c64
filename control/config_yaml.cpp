// Reads the configuration model from YAML (control/yaml.hpp: a tree of nodes with positions). Problems
// become errors with positions (STYLE.md item 18); every problem is collected, so an operator fixes a
// file in one pass.
#include "control/config.hpp"
#include "control/config_reader.hpp"
#include "control/json.hpp"
#include "control/schema.hpp"
#include "control/yaml.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

namespace sipalg::control {

std::string format_error(const config_error& e)
{
    if (e.where.line == 0) {
        return e.message;
    }
    return fmt::format("{}:{}: {}", e.where.line, e.where.column, e.message);
}

const interface_config* config::find_interface(std::string_view name) const
{
    for (const auto& i : interfaces) {
        if (i.name == name) {
            return &i;
        }
    }
    return nullptr;
}

const std::vector<service_config>& predefined_services()
{
    static const std::vector<service_config> services = [] {
        const auto ports = [](std::uint16_t first, std::uint16_t last) { return port_range_config{first, last, 0, 65535}; };
        std::vector<service_config> v;
        service_config all;
        all.name = "ALL";
        all.protocol = "IP";
        v.push_back(all);
        service_config tcp;
        tcp.name = "ALL_TCP";
        tcp.tcp = {ports(1, 65535)};
        v.push_back(tcp);
        service_config udp;
        udp.name = "ALL_UDP";
        udp.udp = {ports(1, 65535)};
        v.push_back(udp);
        service_config icmp;
        icmp.name = "ALL_ICMP";
        icmp.protocol = "ICMP";
        v.push_back(icmp);
        service_config sip;
        sip.name = "SIP";
        sip.tcp = {ports(5060, 5060)};
        sip.udp = {ports(5060, 5060)};
        v.push_back(sip);
        service_config http;
        http.name = "HTTP";
        http.tcp = {ports(80, 80)};
        v.push_back(http);
        service_config https;
        https.name = "HTTPS";
        https.tcp = {ports(443, 443)};
        v.push_back(https);
        service_config dns;
        dns.name = "DNS";
        dns.tcp = {ports(53, 53)};
        dns.udp = {ports(53, 53)};
        v.push_back(dns);
        service_config ping;
        ping.name = "PING";
        ping.protocol = "ICMP";
        ping.icmptype = 8;
        v.push_back(ping);
        service_config ssh;
        ssh.name = "SSH";
        ssh.tcp = {ports(22, 22)};
        v.push_back(ssh);
        service_config ntp;
        ntp.name = "NTP";
        ntp.tcp = {ports(123, 123)};
        ntp.udp = {ports(123, 123)};
        v.push_back(ntp);
        return v;
    }();
    return services;
}

namespace {

using detail::reader;

// The fields of one object (and its blocks, as config sip of a voip profile) by the schema's table;
// the key of each field written, with its value's position, goes to `present`.
// A block's fields are named in `present` after it ("sip status", "sccp status").
void read_block(reader& r, const yaml::node& n, const block_spec& b, std::string_view what, void* object,
                field_positions& present, std::string_view block = {})
{
    r.each_entry(n, what, [&](const std::string& k, const yaml::node& key, const yaml::node& value) {
        if (const field_spec* f = b.find(k)) {
            // Each key once: duplicates were refused.
            present.emplace_back(block.empty() ? k : fmt::format("{} {}", block, k), value.where);
            f->read(r, value, *f, label(what, f->key), object);
            return;
        }
        if (const block_spec* inner = b.find_block(k)) {
            read_block(r, value, *inner, fmt::format("{} {}", what, k), object, present, k);
            return;
        }
        r.error(key, fmt::format("unknown key '{}' in {}", k, what));
    });
}

// A section: its one object, or its table of entries, which replaces the table in force (FortiOS's
// factory session helpers and VoIP profiles too).
void read_section(reader& r, const yaml::node& n, const section_spec& s, config& cfg)
{
    field_positions scratch;
    if (s.key == entry_key::none) {
        void* o = s.append(cfg);
        read_block(r, n, *s.block, s.path, o, scratch);
        if (s.finish != nullptr) {
            s.finish(r, n, std::string(s.path), o, scratch);
        }
        return;
    }
    s.clear(cfg);
    std::string what;
    r.each_entry(n, s.path, [&](const std::string& name, const yaml::node& key, const yaml::node& v) {
        void* e = s.append(cfg);
        s.where(e) = key.where;
        what.assign(s.path);
        what += ' ';
        what += name;
        if (s.key == entry_key::id) {
            const auto id = r.integer(key, label(s.path, "id"), 0, 4294967294u);
            s.set_name(e, name, static_cast<std::uint32_t>(id.value_or(0)));
        } else {
            if (s.name_max != 0 && name.size() > s.name_max) {
                r.error(key, fmt::format("{}: the name is longer than {} characters (FortiOS's limit)", what, s.name_max));
            }
            s.set_name(e, name, 0);
        }
        field_positions* kept = s.positions(e);
        field_positions& present = kept != nullptr ? *kept : scratch;
        present.clear();
        read_block(r, v, *s.block, what, e, present);
        for (const auto& f : s.block->fields) {
            // Required always, or while it is shown (subnet of an ipmask address, extport of a port forward).
            if (f.required && (f.shown == nullptr || f.shown(e)) && !has_field(present, f.key)) {
                r.error(key, fmt::format("{} needs {}", what, f.key));
            }
        }
        if (s.finish != nullptr) {
            s.finish(r, key, what, e, present);
        }
    });
    if (s.key == entry_key::id) {
        // edit 0 takes the next free id (FortiOS).
        std::uint32_t next = 1;
        for (std::size_t i = 0; i < s.count(cfg); ++i) {
            next = std::max(next, s.id_of(s.entry(cfg, i)) + 1);
        }
        for (std::size_t i = 0; i < s.count(cfg); ++i) {
            void* e = const_cast<void*>(s.entry(cfg, i));
            if (s.id_of(e) == 0) {
                s.set_name(e, {}, next++);
            }
        }
    }
}

// Firewall object names share one namespace (FortiOS refuses an address and a group of the same name);
// every reference must resolve; groups must not contain themselves.
void check_firewall_references(reader& r, const config& cfg)
{
    enum class kind { address, group, vip };
    std::map<std::string, std::pair<kind, source_position>, std::less<>> names{{"all", {kind::address, {}}}};
    const auto declare = [&](const std::string& name, kind k, source_position where, std::string_view what) {
        if (!names.emplace(name, std::make_pair(k, where)).second) {
            r.error_at(where, fmt::format("{} {}: the name is already used by another address, group or VIP", what, name));
        }
    };
    for (const auto& a : cfg.addresses) {
        declare(a.name, kind::address, a.where, "firewall address");
    }
    for (const auto& g : cfg.addrgrps) {
        declare(g.name, kind::group, g.where, "firewall addrgrp");
    }
    for (const auto& v : cfg.vips) {
        declare(v.name, kind::vip, v.where, "firewall vip");
        if (v.extintf != "any" && cfg.find_interface(v.extintf) == nullptr) {
            r.error_at(v.where_of("extintf"), fmt::format("firewall vip {}: extintf '{}' does not exist", v.name, v.extintf));
        }
    }
    for (const auto& g : cfg.addrgrps) {
        for (const auto& m : g.member) {
            if (!names.contains(m)) {
                r.error_at(g.where_of("member"), fmt::format("firewall addrgrp {}: member '{}' does not exist", g.name, m));
            }
        }
    }
    // Cycles: a depth-first walk from each group.
    std::map<std::string, const addrgrp_config*, std::less<>> groups;
    for (const auto& g : cfg.addrgrps) {
        groups[g.name] = &g;
    }
    for (const auto& g : cfg.addrgrps) {
        std::vector<std::string> stack{g.name};
        std::set<std::string> seen;
        bool cycle = false;
        while (!stack.empty() && !cycle) {
            const std::string at = stack.back();
            stack.pop_back();
            const auto it = groups.find(at);
            if (it == groups.end()) {
                continue;
            }
            for (const auto& m : it->second->member) {
                if (m == g.name) {
                    cycle = true;
                    break;
                }
                if (seen.insert(m).second) {
                    stack.push_back(m);
                }
            }
        }
        if (cycle) {
            r.error_at(g.where, fmt::format("firewall addrgrp {} contains itself", g.name));
        }
    }
    const auto interface_ok = [&](const std::string& name) { return name == "any" || cfg.find_interface(name) != nullptr; };
    std::set<std::string> service_names;
    for (const auto& sv : predefined_services()) {
        service_names.insert(sv.name);
    }
    for (const auto& sv : cfg.services) {
        service_names.insert(sv.name);
    }
    std::set<std::string> schedule_names{"always"};
    for (const auto& sc : cfg.schedules) {
        if (!schedule_names.insert(sc.name).second) {
            r.error_at(sc.where, fmt::format("firewall schedule recurring {}: the name is already used", sc.name));
        }
    }
    std::set<std::uint32_t> ids;
    for (const auto& p : cfg.policies) {
        const auto what = fmt::format("firewall policy {}", p.id);
        if (!ids.insert(p.id).second) {
            r.error_at(p.where, fmt::format("{}: the id is used twice", what));
        }
        for (const auto& i : p.srcintf) {
            if (!interface_ok(i)) {
                r.error_at(p.where_of("srcintf"), fmt::format("{}: srcintf '{}' does not exist", what, i));
            }
        }
        for (const auto& i : p.dstintf) {
            if (!interface_ok(i)) {
                r.error_at(p.where_of("dstintf"), fmt::format("{}: dstintf '{}' does not exist", what, i));
            }
        }
        for (const auto& a : p.srcaddr) {
            const auto it = names.find(a);
            if (it == names.end()) {
                r.error_at(p.where_of("srcaddr"), fmt::format("{}: srcaddr '{}' does not exist", what, a));
            } else if (it->second.first == kind::vip) {
                r.error_at(p.where_of("srcaddr"), fmt::format("{}: srcaddr '{}' is a VIP (VIPs go in dstaddr)", what, a));
            }
        }
        for (const auto& a : p.dstaddr) {
            if (!names.contains(a)) {
                r.error_at(p.where_of("dstaddr"), fmt::format("{}: dstaddr '{}' does not exist", what, a));
            }
        }
        for (const auto& sv : p.service) {
            if (!service_names.contains(sv)) {
                r.error_at(p.where_of("service"), fmt::format("{}: service '{}' does not exist", what, sv));
            }
        }
        for (const auto& ref : {std::pair<const char*, const std::string*>{"voip-profile", &p.voip_profile},
                                {"ips-voip-filter", &p.ips_voip_filter}}) {
            const std::string& name = *ref.second;
            if (!name.empty() && std::none_of(cfg.voip_profiles.begin(), cfg.voip_profiles.end(),
                                              [&name](const voip_profile_config& v) { return v.name == name; })) {
                r.error_at(p.where_of(ref.first), fmt::format("{}: {} '{}' does not exist", what, ref.first, name));
            }
        }
        if (!schedule_names.contains(p.schedule)) {
            r.error_at(p.where_of("schedule"), fmt::format("{}: schedule '{}' does not exist", what, p.schedule));
        }
    }
}

// References between objects and uniqueness, checked after every section was read.
void check_references(reader& r, const config& cfg)
{
    std::map<std::string, const interface_config*> by_port;
    for (const auto& i : cfg.interfaces) {
        const auto [it, inserted] = by_port.emplace(i.dpdk_port, &i);
        if (!inserted && !i.dpdk_port.empty()) {
            r.error_at(i.where, fmt::format("system interface {}: dpdk-port '{}' is already used by {}", i.name,
                                            i.dpdk_port, it->second->name));
        }
        for (const auto& j : cfg.interfaces) {
            if (&j == &i) {
                break;
            }
            const auto shorter = std::min(i.ip.length, j.ip.length);
            if (i.ip.length != 0 && j.ip.length != 0 &&
                ipv4_prefix{i.ip.address, shorter}.network() == ipv4_prefix{j.ip.address, shorter}.network()) {
                r.error_at(i.where, fmt::format("system interface {}: {} overlaps {} of {}", i.name,
                                                format_prefix(i.ip), format_prefix(j.ip), j.name));
            }
        }
    }
    // Ids are numbers: "8" and "08" are different keys but the same entry.
    const auto unique_ids = [&r](const auto& entries, std::string_view what) {
        std::set<std::uint32_t> ids;
        for (const auto& e : entries) {
            if (!ids.insert(e.id).second) {
                r.error_at(e.where, fmt::format("{} {}: the id is used twice", what, e.id));
            }
        }
    };
    unique_ids(cfg.arp_table, "system arp-table");
    unique_ids(cfg.static_routes, "router static");
    unique_ids(cfg.session_helpers, "system session-helper");
    for (const auto& a : cfg.arp_table) {
        if (!a.interface.empty() && cfg.find_interface(a.interface) == nullptr) {
            r.error_at(a.where,
                       fmt::format("system arp-table {}: interface '{}' does not exist", a.id, a.interface));
        }
    }
    for (const auto& s : cfg.static_routes) {
        if (!s.device.empty() && cfg.find_interface(s.device) == nullptr) {
            r.error_at(s.where, fmt::format("router static {}: device '{}' does not exist", s.id, s.device));
        }
    }
}

} // namespace

load_result load_yaml_sections(std::string_view text)
{
    auto parsed = yaml::parse(text);
    if (parsed.error) {
        load_result result;
        result.errors.push_back(std::move(*parsed.error));
        return result;
    }
    return load_node_sections(parsed.root);
}

load_result load_node_sections(const yaml::node& root)
{
    load_result result;
    reader r(result.errors);
    if (root.is_null()) {
        return result; // an empty document: no interfaces, no routes
    }
    // The sections by their paths: each word a level of mappings (firewall: service: custom:).
    const std::function<void(const yaml::node&, const std::string&)> level = [&](const yaml::node& n, const std::string& prefix) {
        const std::string what = prefix.empty() ? "the configuration" : prefix;
        r.each_entry(n, what, [&](const std::string& k, const yaml::node& key, const yaml::node& v) {
            const std::string path = prefix.empty() ? k : prefix + ' ' + k;
            if (const section_spec* s = find_section(path)) {
                result.sections |= s->bit;
                if (result.first_section.line == 0) {
                    result.first_section = v.where;
                }
                read_section(r, v, *s, result.cfg);
                return;
            }
            const auto& all = schema();
            if (std::any_of(all.begin(), all.end(), [&path](const section_spec& s) {
                    return s.path.size() > path.size() && s.path.starts_with(path) && s.path[path.size()] == ' ';
                })) {
                level(v, path);
                return;
            }
            r.error(key, fmt::format("unknown key '{}' in {}", k, what));
        });
    };
    level(root, "");
    return result;
}

std::vector<config_error> check_config(const config& cfg)
{
    std::vector<config_error> errors;
    reader r(errors);
    check_references(r, cfg);
    check_firewall_references(r, cfg);
    return errors;
}

load_result load_node(const yaml::node& root)
{
    load_result result = load_node_sections(root);
    for (auto& e : check_config(result.cfg)) {
        result.errors.push_back(std::move(e));
    }
    return result;
}

load_result load_yaml(std::string_view text)
{
    load_result result = load_yaml_sections(text);
    // Every error at once: the references too, even when some values were wrong.
    for (auto& e : check_config(result.cfg)) {
        result.errors.push_back(std::move(e));
    }
    return result;
}

const std::vector<session_helper_config>& default_session_helpers()
{
    // FortiOS's factory table (get system session-helper-info list).
    static const std::vector<session_helper_config> table{
        {1, "pptp", 6, 1723, {}},   {2, "h323", 6, 1720, {}},   {3, "ras", 17, 1719, {}},
        {4, "tns", 6, 1521, {}},    {5, "tftp", 17, 69, {}},    {6, "rtsp", 6, 554, {}},
        {7, "rtsp", 6, 7070, {}},   {8, "rtsp", 6, 8554, {}},   {9, "ftp", 6, 21, {}},
        {10, "mms", 6, 1863, {}},   {11, "pmap", 6, 111, {}},   {12, "pmap", 17, 111, {}},
        {13, "sip", 17, 5060, {}},  {14, "dns-udp", 17, 53, {}}, {15, "rsh", 6, 514, {}},
        {16, "rsh", 6, 512, {}},    {17, "dcerpc", 6, 135, {}}, {18, "dcerpc", 17, 135, {}},
        {19, "mgcp", 17, 2427, {}}, {20, "mgcp", 17, 2727, {}},
    };
    return table;
}

const std::vector<voip_profile_config>& default_voip_profiles()
{
    static const std::vector<voip_profile_config> profiles = [] {
        voip_profile_config v;
        v.name = "default";
        v.comment = "Default VoIP profile.";
        return std::vector<voip_profile_config>{v};
    }();
    return profiles;
}

config merge_sections(const config& running, const config& update, std::uint32_t sections)
{
    config out = running;
    if ((sections & section::settings) != 0) {
        out.settings = update.settings;
    }
    if ((sections & section::syslogd) != 0) {
        out.syslogd = update.syslogd;
    }
    if ((sections & section::log_disk) != 0) {
        out.log_disk = update.log_disk;
    }
    // A section kept from the running configuration keeps no positions: they were lines of another
    // text (the file, an earlier request), and an error about it must not point into this one.
    const auto take = [&](std::uint32_t bit, auto member) {
        if ((sections & bit) != 0) {
            out.*member = update.*member;
            return;
        }
        for (auto& object : out.*member) {
            object.where = {};
            if constexpr (requires { object.fields; }) {
                object.fields.clear();
            }
        }
    };
    take(section::interface, &config::interfaces);
    take(section::arp_table, &config::arp_table);
    take(section::router_static, &config::static_routes);
    take(section::address, &config::addresses);
    take(section::addrgrp, &config::addrgrps);
    take(section::service, &config::services);
    take(section::schedule, &config::schedules);
    take(section::vip, &config::vips);
    take(section::policy, &config::policies);
    take(section::session_helper, &config::session_helpers);
    take(section::voip_profile, &config::voip_profiles);
    if ((sections & section::global) != 0) {
        out.timers.tcp_halfopen = update.timers.tcp_halfopen;
        out.timers.tcp_halfclose = update.timers.tcp_halfclose;
        out.timers.tcp_timewait = update.timers.tcp_timewait;
        out.timers.udp_idle = update.timers.udp_idle;
        out.timers.hostname = update.timers.hostname;
    }
    if ((sections & section::session_ttl) != 0) {
        out.timers.session_ttl = update.timers.session_ttl;
    }
    return out;
}

std::vector<config_error> check_interfaces_kept(const config& running, const config& next)
{
    std::vector<config_error> errors;
    const auto& was = running.interfaces;
    const auto& now = next.interfaces;
    for (std::size_t i = 0; i < std::max(was.size(), now.size()); ++i) {
        if (i >= now.size()) {
            errors.push_back({now.empty() ? source_position{} : now.back().where,
                              fmt::format("interface {} cannot be removed while running (ports are bound at start)",
                                          was[i].name)});
        } else if (i >= was.size()) {
            errors.push_back({now[i].where, fmt::format("interface {} cannot be added while running (ports are bound "
                                                        "at start)",
                                                        now[i].name)});
        } else if (now[i].name != was[i].name) {
            errors.push_back({now[i].where, fmt::format("interface {} cannot become {} while running (the same "
                                                        "interfaces, in the same order)",
                                                        was[i].name, now[i].name)});
        } else if (now[i].dpdk_port != was[i].dpdk_port) {
            errors.push_back({now[i].where, fmt::format("interface {} cannot move from {} to {} while running",
                                                        now[i].name, was[i].dpdk_port, now[i].dpdk_port)});
        }
    }
    return errors;
}

load_result load_yaml_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        load_result result;
        result.errors.push_back({{}, fmt::format("cannot read configuration file '{}'", path)});
        return result;
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        load_result result;
        result.errors.push_back({{}, fmt::format("cannot read configuration file '{}'", path)});
        return result;
    }
    return load_yaml(text.str());
}

} // namespace sipalg::control
