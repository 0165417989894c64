// See config.hpp (to_yaml). The running configuration as a YAML document the reader takes back
// unchanged: every section, FortiOS key names, strings double-quoted (YAML's double-quoted form is
// JSON's), values in the forms the reader accepts.
#include "control/config.hpp"
#include "control/json.hpp"

#include <fmt/format.h>

#include <array>
#include <string>

namespace sipalg::control {

namespace {

std::string q(std::string_view s)
{
    return json_string(s);
}

std::string list(const std::vector<std::string>& words)
{
    std::string out = "[";
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (i != 0) {
            out += ", ";
        }
        out += q(words[i]);
    }
    return out + "]";
}

const char* flag(bool on)
{
    return on ? "enable" : "disable";
}

std::string range(std::uint32_t first, std::uint32_t last)
{
    return first == last ? std::to_string(first) : fmt::format("{}-{}", first, last);
}

std::string address_range(ipv4_address first, ipv4_address last)
{
    return first == last ? format_ipv4(first) : fmt::format("{}-{}", format_ipv4(first), format_ipv4(last));
}

std::string clock(std::uint16_t minutes)
{
    return fmt::format("\"{:02}:{:02}\"", minutes / 60, minutes % 60);
}

// A port range of a service: dst[-dst][:src[-src]], the source part only when it is not every port.
std::string port_range(const port_range_config& r)
{
    if (r.src_first != 0 || r.src_last != 65535) {
        return fmt::format("{}:{}", range(r.dst_first, r.dst_last), range(r.src_first, r.src_last));
    }
    return range(r.dst_first, r.dst_last);
}

std::string port_ranges(const std::vector<port_range_config>& rs)
{
    std::string s;
    for (const auto& r : rs) {
        if (!s.empty()) {
            s += ' ';
        }
        s += port_range(r);
    }
    return q(s);
}

// The prefix whose range [first, last] is exactly, if there is one.
std::optional<ipv4_prefix> as_prefix(ipv4_address first, ipv4_address last)
{
    for (unsigned len = 0; len <= 32; ++len) {
        const ipv4_prefix p{first, static_cast<std::uint8_t>(len)};
        if (p.network() == first && p.broadcast() == last) {
            return p;
        }
    }
    return std::nullopt;
}

} // namespace

std::string to_yaml(const config& cfg)
{
    std::string out;
    const auto line = [&out](int indent, std::string_view text) {
        out.append(static_cast<std::size_t>(indent), ' ');
        out.append(text);
        out += '\n';
    };
    // A list of numbers, as a sequence: shown as FortiOS shows it (set sip-tcp-port 5060 5064).
    const auto ports = [](const std::vector<std::uint16_t>& ps) {
        std::string s = "[";
        for (const auto p : ps) {
            if (s.size() > 1) {
                s += ", ";
            }
            s += std::to_string(p);
        }
        return s + "]";
    };
    line(0, "system:");
    line(2, "settings:");
    line(4, std::string("default-voip-alg-mode: ") + (cfg.settings.proxy_based ? "proxy-based" : "kernel-helper-based"));
    line(4, "sip-tcp-port: " + ports(cfg.settings.sip_tcp_port));
    line(4, "sip-udp-port: " + ports(cfg.settings.sip_udp_port));
    line(4, fmt::format("sip-ssl-port: {}", cfg.settings.sip_ssl_port));
    line(4, fmt::format("sip-pinholes-per-address: {}", cfg.settings.sip_pinholes_per_address));
    line(4, fmt::format("sip-nat-port-reserve: {}", cfg.settings.sip_nat_port_reserve));
    line(2, "session-helper:");
    if (cfg.session_helpers.empty()) {
        out.pop_back();
        out += " {}\n";
    }
    for (const auto& h : cfg.session_helpers) {
        line(4, fmt::format("{}: {{name: {}, protocol: {}, port: {}}}", h.id, q(h.name), h.protocol, h.port));
    }
    line(2, "interface:");
    if (cfg.interfaces.empty()) {
        out.pop_back();
        out += " {}\n";
    }
    for (const auto& i : cfg.interfaces) {
        line(4, q(i.name) + ":");
        line(6, "dpdk-port: " + q(i.dpdk_port));
        line(6, "ip: " + format_prefix(i.ip));
        if (!i.allowaccess.empty()) {
            line(6, "allowaccess: " + list(i.allowaccess));
        }
        if (i.macaddr) {
            line(6, "macaddr: " + q(format_mac(*i.macaddr)));
        }
        line(6, fmt::format("mtu: {}", i.mtu));
    }
    if (!cfg.arp_table.empty()) {
        line(2, "arp-table:");
        for (const auto& a : cfg.arp_table) {
            line(4, fmt::format("{}: {{interface: {}, ip: {}, mac: {}}}", a.id, q(a.interface), format_ipv4(a.ip),
                                q(format_mac(a.mac))));
        }
    }
    line(2, "global:");
    line(4, fmt::format("tcp-halfopen-timer: {}", cfg.timers.tcp_halfopen));
    line(4, fmt::format("tcp-halfclose-timer: {}", cfg.timers.tcp_halfclose));
    line(4, fmt::format("tcp-timewait-timer: {}", cfg.timers.tcp_timewait));
    line(4, fmt::format("udp-idle-timer: {}", cfg.timers.udp_idle));
    line(2, "session-ttl:");
    line(4, fmt::format("default: {}", cfg.timers.session_ttl));

    if (!cfg.static_routes.empty()) {
        line(0, "router:");
        line(2, "static:");
        for (const auto& r : cfg.static_routes) {
            line(4, fmt::format("{}:", r.id));
            line(6, "dst: " + format_prefix(r.dst));
            if (r.gateway != 0) {
                line(6, "gateway: " + format_ipv4(r.gateway));
            }
            if (!r.device.empty()) {
                line(6, "device: " + q(r.device));
            }
            line(6, fmt::format("distance: {}", r.distance));
            line(6, fmt::format("status: {}", flag(r.enabled)));
            if (r.blackhole) {
                line(6, "blackhole: enable");
            }
        }
    }

    line(0, "voip:");
    line(2, "profile:");
    if (cfg.voip_profiles.empty()) {
        out.pop_back();
        out += " {}\n";
    }
    for (const auto& v : cfg.voip_profiles) {
        line(4, q(v.name) + ":");
        line(6, "feature-set: " + v.feature_set);
        if (!v.comment.empty()) {
            line(6, "comment: " + q(v.comment));
        }
        std::string range;
        if (v.nat_port_range) {
            range = fmt::format(", nat-port-range: \"{}-{}\"", v.nat_port_range->first, v.nat_port_range->second);
        }
        line(6, fmt::format("sip: {{status: {}, rtp: {}, open-register-pinhole: {}, open-contact-pinhole: {}, "
                            "strict-register: {}, contact-fixup: {}, no-sdp-fixup: {}, nat-trace: {}, preserve-override: {}, "
                            "hosted-nat-traversal: {}, hnt-restrict-source-ip: {}, max-dialogs: {}, "
                            "provisional-invite-expiry-time: {}, register-expiry-max: {}, open-privileged-pinhole: {}{}}}",
                            flag(v.sip_status), flag(v.sip_rtp), flag(v.open_register_pinhole),
                            flag(v.open_contact_pinhole), flag(v.strict_register), flag(v.contact_fixup),
                            flag(v.no_sdp_fixup), flag(v.nat_trace), flag(v.preserve_override),
                            flag(v.hosted_nat_traversal), flag(v.hnt_restrict_source_ip), v.max_dialogs,
                            v.provisional_invite_expiry_time, v.register_expiry_max, flag(v.open_privileged_pinhole), range));
    }
    line(0, "firewall:");
    line(2, "address:");
    if (cfg.addresses.empty()) {
        out.pop_back();
        out += " {}\n";
    }
    for (const auto& a : cfg.addresses) {
        line(4, q(a.name) + ":");
        if (const auto p = as_prefix(a.first, a.last)) {
            line(6, "subnet: " + format_prefix(*p));
        } else {
            line(6, "type: iprange");
            line(6, "start-ip: " + format_ipv4(a.first));
            line(6, "end-ip: " + format_ipv4(a.last));
        }
    }
    line(2, "addrgrp:");
    if (cfg.addrgrps.empty()) {
        out.pop_back();
        out += " {}\n";
    }
    for (const auto& g : cfg.addrgrps) {
        line(4, q(g.name) + ":");
        line(6, "member: " + list(g.member));
    }
    line(2, "service:");
    line(4, "custom:");
    if (cfg.services.empty()) {
        out.pop_back();
        out += " {}\n";
    }
    for (const auto& s : cfg.services) {
        line(6, q(s.name) + ":");
        line(8, "protocol: " + q(s.protocol));
        if (s.protocol == "ICMP") {
            if (s.icmptype >= 0) {
                line(8, fmt::format("icmptype: {}", s.icmptype));
            }
        } else if (s.protocol == "IP") {
            line(8, fmt::format("protocol-number: {}", s.protocol_number));
        } else {
            if (!s.tcp.empty()) {
                line(8, "tcp-portrange: " + port_ranges(s.tcp));
            }
            if (!s.udp.empty()) {
                line(8, "udp-portrange: " + port_ranges(s.udp));
            }
            if (!s.sctp.empty()) {
                line(8, "sctp-portrange: " + port_ranges(s.sctp));
            }
        }
    }
    line(2, "schedule:");
    line(4, "recurring:");
    if (cfg.schedules.empty()) {
        out.pop_back();
        out += " {}\n";
    }
    static const std::array<const char*, 7> days{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday",
                                                 "saturday"};
    for (const auto& s : cfg.schedules) {
        std::string d;
        for (unsigned i = 0; i < 7; ++i) {
            if ((s.days >> i & 1u) != 0) {
                if (!d.empty()) {
                    d += ' ';
                }
                d += days[i];
            }
        }
        line(6, q(s.name) + ":");
        line(8, "day: " + q(d.empty() ? "none" : d));
        line(8, "start: " + clock(s.start));
        line(8, "end: " + clock(s.end));
    }
    line(2, "vip:");
    if (cfg.vips.empty()) {
        out.pop_back();
        out += " {}\n";
    }
    for (const auto& v : cfg.vips) {
        line(4, q(v.name) + ":");
        line(6, "extintf: " + q(v.extintf));
        line(6, "extip: " + address_range(v.extip_first, v.extip_last));
        line(6, "mappedip: " + address_range(v.mappedip_first, v.mappedip_last));
        line(6, fmt::format("portforward: {}", flag(v.portforward)));
        if (v.portforward) {
            line(6, "protocol: " + v.protocol);
            if (v.protocol != "icmp") {
                line(6, "extport: " + q(range(v.extport_first, v.extport_last)));
                line(6, "mappedport: " + q(range(v.mappedport_first, v.mappedport_last)));
            }
        }
    }
    line(2, "policy:");
    if (cfg.policies.empty()) {
        out.pop_back();
        out += " {}\n";
    }
    for (const auto& p : cfg.policies) {
        line(4, fmt::format("{}:", p.id));
        if (!p.name.empty()) {
            line(6, "name: " + q(p.name));
        }
        line(6, "srcintf: " + list(p.srcintf));
        line(6, "dstintf: " + list(p.dstintf));
        line(6, "srcaddr: " + list(p.srcaddr));
        line(6, "dstaddr: " + list(p.dstaddr));
        line(6, std::string("action: ") + (p.accept ? "accept" : "deny"));
        line(6, "schedule: " + q(p.schedule));
        line(6, "service: " + list(p.service));
        line(6, fmt::format("nat: {}", flag(p.nat)));
        line(6, fmt::format("status: {}", flag(p.enabled)));
        line(6, fmt::format("utm-status: {}", flag(p.utm_status)));
        line(6, "logtraffic: " + p.logtraffic);
        if (!p.voip_profile.empty()) {
            line(6, "voip-profile: " + q(p.voip_profile));
        }
        if (!p.ips_voip_filter.empty()) {
            line(6, "ips-voip-filter: " + q(p.ips_voip_filter));
        }
    }
    return out;
}

} // namespace sipalg::control
