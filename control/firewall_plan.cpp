// See firewall_plan.hpp.
#include "control/firewall_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace sipalg::control {

namespace {

class compiler {
public:
    explicit compiler(const config& cfg) : cfg_(cfg)
    {
        for (std::size_t i = 0; i < cfg.vips.size(); ++i) {
            vip_index_[cfg.vips[i].name] = static_cast<std::int32_t>(i);
        }
        for (std::size_t i = 0; i < cfg.schedules.size(); ++i) {
            schedule_index_[cfg.schedules[i].name] = static_cast<std::int32_t>(i);
        }
    }

    std::uint64_t interfaces(const std::vector<std::string>& names) const
    {
        std::uint64_t mask = 0;
        for (const auto& n : names) {
            if (n == "any") {
                return ~std::uint64_t{0};
            }
            for (std::size_t i = 0; i < cfg_.interfaces.size() && i < 64; ++i) {
                if (cfg_.interfaces[i].name == n) {
                    mask |= std::uint64_t{1} << i;
                }
            }
        }
        return mask;
    }

    // Adds the addresses a name stands for (through groups); VIPs go to `vips` instead.
    void resolve(const std::string& name, nat::address_set& out, std::vector<std::int32_t>* vips,
                 std::set<std::string>& seen) const
    {
        if (!seen.insert(name).second) {
            return;
        }
        if (name == "all") {
            out.add({0, 0xffffffffu});
            return;
        }
        for (const auto& a : cfg_.addresses) {
            if (a.name == name) {
                out.add({a.first, a.last});
                return;
            }
        }
        if (const auto v = vip_index_.find(name); v != vip_index_.end()) {
            if (vips != nullptr) {
                vips->push_back(v->second);
            }
            return;
        }
        for (const auto& g : cfg_.addrgrps) {
            if (g.name == name) {
                for (const auto& m : g.member) {
                    resolve(m, out, vips, seen);
                }
                return;
            }
        }
    }

    std::vector<nat::service_entry> service(const std::vector<std::string>& names) const
    {
        std::vector<nat::service_entry> out;
        for (const auto& n : names) {
            // A custom service replaces a predefined one of the same name.
            const service_config* sv = nullptr;
            for (const auto& c : cfg_.services) {
                if (c.name == n) {
                    sv = &c;
                }
            }
            if (sv == nullptr) {
                for (const auto& c : predefined_services()) {
                    if (c.name == n) {
                        sv = &c;
                    }
                }
            }
            if (sv == nullptr) {
                continue; // reported by the reader
            }
            if (sv->protocol == "IP") {
                out.push_back({sv->protocol_number, 0, 65535, 0, 65535, -1});
                continue;
            }
            if (sv->protocol == "ICMP") {
                out.push_back({ip_proto::icmp, 0, 65535, 0, 65535, sv->icmptype});
                continue;
            }
            const auto ranges = [&out](const std::vector<port_range_config>& rs, std::uint8_t proto) {
                for (const auto& r : rs) {
                    out.push_back({proto, r.dst_first, r.dst_last, r.src_first, r.src_last, -1});
                }
            };
            ranges(sv->tcp, ip_proto::tcp);
            ranges(sv->udp, ip_proto::udp);
            ranges(sv->sctp, 132);
        }
        return out;
    }

    std::int32_t schedule(const std::string& name) const
    {
        const auto it = schedule_index_.find(name);
        return it == schedule_index_.end() ? -1 : it->second;
    }

    std::int32_t interface_or_any(const std::string& name) const
    {
        for (std::size_t i = 0; i < cfg_.interfaces.size(); ++i) {
            if (cfg_.interfaces[i].name == name) {
                return static_cast<std::int32_t>(i);
            }
        }
        return -1;
    }

private:
    const config& cfg_;
    std::map<std::string, std::int32_t> vip_index_;
    std::map<std::string, std::int32_t> schedule_index_;
};

std::uint8_t vip_protocol(const std::string& p)
{
    if (p == "udp") {
        return ip_proto::udp;
    }
    if (p == "icmp") {
        return ip_proto::icmp;
    }
    if (p == "sctp") {
        return 132;
    }
    return ip_proto::tcp;
}

} // namespace

std::vector<config_error> add_firewall(const config& cfg, dp::plan& plan)
{
    std::vector<config_error> errors;
    if (cfg.interfaces.size() > 64 && !cfg.policies.empty()) {
        errors.push_back({cfg.interfaces[64].where, "policies can tell at most 64 interfaces apart"});
        return errors;
    }
    compiler c(cfg);
    nat::firewall& fw = plan.firewall;
    fw = nat::firewall{};
    for (const auto& sc : cfg.schedules) {
        fw.schedules.push_back({sc.name, sc.days, sc.start, sc.end});
    }
    for (const auto& v : cfg.vips) {
        nat::vip_rule r;
        r.name = v.name;
        r.extintf = v.extintf == "any" ? -1 : c.interface_or_any(v.extintf);
        r.extip = {v.extip_first, v.extip_last};
        r.mappedip = v.mappedip_first;
        r.portforward = v.portforward;
        r.proto = vip_protocol(v.protocol);
        r.extport_first = v.extport_first;
        r.extport_last = v.extport_last;
        r.mappedport = v.mappedport_first;
        fw.vips.push_back(r);
    }
    for (const auto& p : cfg.policies) {
        if (!p.enabled) {
            continue; // a disabled policy matches nothing; its sessions go at their next packet
        }
        nat::policy_rule r;
        r.id = p.id;
        r.name = p.name;
        r.srcintf = c.interfaces(p.srcintf);
        r.dstintf = c.interfaces(p.dstintf);
        std::set<std::string> seen;
        for (const auto& a : p.srcaddr) {
            c.resolve(a, r.srcaddr, nullptr, seen);
        }
        r.srcaddr.finish();
        seen.clear();
        for (const auto& a : p.dstaddr) {
            c.resolve(a, r.dstaddr, &r.vips, seen);
        }
        r.dstaddr.finish();
        r.service = c.service(p.service);
        r.schedule = c.schedule(p.schedule);
        r.accept = p.accept;
        r.nat = p.nat;
        r.utm_status = p.utm_status;
        r.logtraffic = p.logtraffic;
        r.voip_profile = p.voip_profile;
        r.ips_voip_filter = p.ips_voip_filter;
        // The profile in force: the named one, or "default" (FortiOS always has it; a configuration
        // that deleted it gets its factory settings).
        const std::string& profile_name = p.voip_profile.empty() ? std::string("default") : p.voip_profile;
        const auto profile = std::find_if(cfg.voip_profiles.begin(), cfg.voip_profiles.end(),
                                          [&](const voip_profile_config& v) { return v.name == profile_name; });
        const bool found = profile != cfg.voip_profiles.end();
        r.voip = nat::resolve_voip(!p.voip_profile.empty(), !p.ips_voip_filter.empty(), cfg.settings.proxy_based,
                                   found ? profile->sip_status : true, found ? profile->sip_rtp : true,
                                   found ? static_cast<std::int16_t>(profile - cfg.voip_profiles.begin()) : -1);
        if (found) {
            r.voip.options = static_cast<std::uint16_t>(
                (profile->open_register_pinhole ? nat::sip_option::open_register : 0) |
                (profile->open_contact_pinhole ? nat::sip_option::open_contact : 0) |
                (profile->strict_register ? nat::sip_option::strict_register : 0) |
                (profile->contact_fixup ? nat::sip_option::contact_fixup : 0) |
                (profile->no_sdp_fixup ? 0 : nat::sip_option::sdp_fixup) |
                (profile->nat_trace ? nat::sip_option::nat_trace : 0) |
                (profile->preserve_override ? nat::sip_option::preserve_override : 0) |
                (profile->hosted_nat_traversal ? nat::sip_option::hosted_nat_traversal : 0) |
                (profile->hnt_restrict_source_ip ? nat::sip_option::hnt_restrict_source_ip : 0));
        }
        fw.policies.push_back(std::move(r));
    }
    fw.sip.udp = {cfg.settings.sip_udp_port.empty() ? std::uint16_t{0} : cfg.settings.sip_udp_port[0],
                  cfg.settings.sip_udp_port.size() > 1 ? cfg.settings.sip_udp_port[1] : std::uint16_t{0}};
    fw.sip.tcp = {cfg.settings.sip_tcp_port.empty() ? std::uint16_t{0} : cfg.settings.sip_tcp_port[0],
                  cfg.settings.sip_tcp_port.size() > 1 ? cfg.settings.sip_tcp_port[1] : std::uint16_t{0}};
    for (const auto& v : cfg.voip_profiles) {
        fw.media_port_ranges.push_back(v.nat_port_range.value_or(std::pair<std::uint16_t, std::uint16_t>{0, 0}));
        fw.sip_limits.push_back({v.max_dialogs, v.provisional_invite_expiry_time, v.register_expiry_max, v.open_privileged_pinhole});
    }
    fw.sip_global = {cfg.settings.sip_pinholes_per_address, cfg.settings.sip_nat_port_reserve};
    fw.sip.helpers.clear();
    for (const auto& h : cfg.session_helpers) {
        if (h.name == "sip") {
            fw.sip.helpers.push_back({h.protocol, h.port});
        }
    }
    nat::session_timeouts& t = plan.timeouts;
    t.tcp_halfopen = cfg.timers.tcp_halfopen;
    t.tcp_halfclose = cfg.timers.tcp_halfclose;
    t.tcp_timewait = cfg.timers.tcp_timewait;
    t.tcp_established = cfg.timers.session_ttl;
    t.udp = cfg.timers.udp_idle;
    t.other = cfg.timers.session_ttl;
    return errors;
}

} // namespace sipalg::control
