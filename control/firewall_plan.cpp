// See firewall_plan.hpp.
#include "control/firewall_plan.hpp"

#include "sip/checks.hpp"
#include "sip/message.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <string_view>
#include <unordered_map>

namespace sipalg::control {

namespace {

nat::sip_action action_of(const std::string& word)
{
    return word == "discard" ? nat::sip_action::discard : word == "respond" ? nat::sip_action::respond : nat::sip_action::pass;
}

nat::rate_track track_of(const std::string& word)
{
    return word == "src-ip" ? nat::rate_track::src_ip : word == "dest-ip" ? nat::rate_track::dest_ip : nat::rate_track::none;
}

// A VoIP profile's config sip as the data path reads it (nat/firewall.hpp, sip/engine.hpp).
nat::sip_profile_limits sip_limits_of(const voip_profile_config& v)
{
    nat::sip_profile_limits l;
    l.max_dialogs = v.max_dialogs;
    l.call_keepalive_s = v.call_keepalive * 60; // minutes
    l.max_idle_dialogs = v.max_idle_dialogs;
    l.invite_expiry_s = v.provisional_invite_expiry_time;
    l.register_expiry_max_s = v.register_expiry_max;
    l.privileged_ports = v.open_privileged_pinhole;
    static_assert(sip::check_count <= std::tuple_size_v<decltype(l.check_actions)>);
    const auto set = [&](sip::check c, nat::sip_action a) { l.check_actions[static_cast<std::size_t>(c)] = a; };
    set(sip::check::unknown_header, action_of(v.unknown_header));
    set(sip::check::malformed_request_line, action_of(v.malformed_request_line));
    set(sip::check::malformed_header_via, action_of(v.malformed_header_via));
    set(sip::check::malformed_header_from, action_of(v.malformed_header_from));
    set(sip::check::malformed_header_to, action_of(v.malformed_header_to));
    set(sip::check::malformed_header_call_id, action_of(v.malformed_header_call_id));
    set(sip::check::malformed_header_cseq, action_of(v.malformed_header_cseq));
    set(sip::check::malformed_header_rack, action_of(v.malformed_header_rack));
    set(sip::check::malformed_header_rseq, action_of(v.malformed_header_rseq));
    set(sip::check::malformed_header_contact, action_of(v.malformed_header_contact));
    set(sip::check::malformed_header_record_route, action_of(v.malformed_header_record_route));
    set(sip::check::malformed_header_route, action_of(v.malformed_header_route));
    set(sip::check::malformed_header_expires, action_of(v.malformed_header_expires));
    set(sip::check::malformed_header_content_type, action_of(v.malformed_header_content_type));
    set(sip::check::malformed_header_content_length, action_of(v.malformed_header_content_length));
    set(sip::check::malformed_header_max_forwards, action_of(v.malformed_header_max_forwards));
    set(sip::check::malformed_header_allow, action_of(v.malformed_header_allow));
    set(sip::check::malformed_header_p_asserted_identity, action_of(v.malformed_header_p_asserted_identity));
    set(sip::check::malformed_header_no_require, action_of(v.malformed_header_no_require));
    set(sip::check::malformed_header_no_proxy_require, action_of(v.malformed_header_no_proxy_require));
    set(sip::check::malformed_header_sdp_v, action_of(v.malformed_header_sdp_v));
    set(sip::check::malformed_header_sdp_o, action_of(v.malformed_header_sdp_o));
    set(sip::check::malformed_header_sdp_s, action_of(v.malformed_header_sdp_s));
    set(sip::check::malformed_header_sdp_i, action_of(v.malformed_header_sdp_i));
    set(sip::check::malformed_header_sdp_c, action_of(v.malformed_header_sdp_c));
    set(sip::check::malformed_header_sdp_b, action_of(v.malformed_header_sdp_b));
    set(sip::check::malformed_header_sdp_z, action_of(v.malformed_header_sdp_z));
    set(sip::check::malformed_header_sdp_k, action_of(v.malformed_header_sdp_k));
    set(sip::check::malformed_header_sdp_a, action_of(v.malformed_header_sdp_a));
    set(sip::check::malformed_header_sdp_t, action_of(v.malformed_header_sdp_t));
    set(sip::check::malformed_header_sdp_r, action_of(v.malformed_header_sdp_r));
    set(sip::check::malformed_header_sdp_m, action_of(v.malformed_header_sdp_m));
    // A line over max-line-length is answered 413 with block-long-lines (FortiOS), else passed; a body
    // over max-body-length is answered 413 too (RFC 3261 §21.4.11: FortiOS names no code); a method not
    // known is dropped with block-unknown.
    l.max_line_length = v.max_line_length;
    set(sip::check::max_line_length, v.block_long_lines ? nat::sip_action::respond : nat::sip_action::pass);
    l.max_body_length = v.max_body_length;
    set(sip::check::max_body_length, v.max_body_length != 0 ? nat::sip_action::respond : nat::sip_action::pass);
    set(sip::check::unknown_method, v.block_unknown ? nat::sip_action::discard : nat::sip_action::pass);
    const auto bit = [](sip::method m) { return 1u << static_cast<unsigned>(m); };
    const std::pair<bool, sip::method> blocks[] = {
        {v.block_ack, sip::method::ack},         {v.block_bye, sip::method::bye},
        {v.block_cancel, sip::method::cancel},   {v.block_info, sip::method::info},
        {v.block_invite, sip::method::invite},   {v.block_message, sip::method::message},
        {v.block_notify, sip::method::notify},   {v.block_options, sip::method::options},
        {v.block_geo_red_options, sip::method::options}, {v.block_prack, sip::method::prack},
        {v.block_publish, sip::method::publish}, {v.block_refer, sip::method::refer},
        {v.block_register, sip::method::register_}, {v.block_subscribe, sip::method::subscribe},
        {v.block_update, sip::method::update}};
    for (const auto& [on, m] : blocks) {
        l.blocked_methods |= on ? bit(m) : 0u;
    }
    const std::tuple<std::uint32_t, const std::string&, sip::method> rates[] = {
        {v.register_rate, v.register_rate_track, sip::method::register_},
        {v.invite_rate, v.invite_rate_track, sip::method::invite},
        {v.subscribe_rate, v.subscribe_rate_track, sip::method::subscribe},
        {v.message_rate, v.message_rate_track, sip::method::message},
        {v.notify_rate, v.notify_rate_track, sip::method::notify},
        {v.refer_rate, v.refer_rate_track, sip::method::refer},
        {v.update_rate, v.update_rate_track, sip::method::update},
        {v.options_rate, v.options_rate_track, sip::method::options},
        {v.ack_rate, v.ack_rate_track, sip::method::ack},
        {v.prack_rate, v.prack_rate_track, sip::method::prack},
        {v.info_rate, v.info_rate_track, sip::method::info},
        {v.publish_rate, v.publish_rate_track, sip::method::publish},
        {v.bye_rate, v.bye_rate_track, sip::method::bye},
        {v.cancel_rate, v.cancel_rate_track, sip::method::cancel}};
    for (const auto& [rate, track, m] : rates) {
        l.rates[static_cast<std::size_t>(m)] = {rate, track_of(track)};
    }
    l.log_call_summary = v.log_call_summary;
    l.log_violations = v.log_violations;
    l.derive((std::uint64_t{1} << sip::check_count) - 1);
    return l;
}


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
        // By name, so that thousands of policies over thousands of objects compile in linear time. The
        // first of a name wins, as the walks this replaces found it (the reader refuses duplicates).
        for (const auto& a : cfg.addresses) {
            addresses_.emplace(a.name, &a);
        }
        for (const auto& g : cfg.addrgrps) {
            groups_.emplace(g.name, &g);
        }
        for (const auto& c : predefined_services()) {
            services_[c.name] = &c;
        }
        for (const auto& c : cfg.services) {
            services_[c.name] = &c; // a custom service replaces a predefined one of the same name (the last)
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
        if (const auto a = addresses_.find(name); a != addresses_.end()) {
            out.add({a->second->first, a->second->last});
            return;
        }
        if (const auto v = vip_index_.find(name); v != vip_index_.end()) {
            if (vips != nullptr) {
                vips->push_back(v->second);
            }
            return;
        }
        if (const auto g = groups_.find(name); g != groups_.end()) {
            for (const auto& m : g->second->member) {
                resolve(m, out, vips, seen);
            }
        }
    }

    std::vector<nat::service_entry> service(const std::vector<std::string>& names) const
    {
        std::vector<nat::service_entry> out;
        for (const auto& n : names) {
            const auto found = services_.find(n);
            if (found == services_.end()) {
                continue; // reported by the reader
            }
            const service_config* sv = found->second;
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
    std::unordered_map<std::string_view, const address_config*> addresses_;
    std::unordered_map<std::string_view, const addrgrp_config*> groups_;
    std::unordered_map<std::string_view, const service_config*> services_;
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
    if (cfg.schedules.size() > nat::max_schedules && !cfg.policies.empty()) {
        errors.push_back({cfg.schedules[nat::max_schedules].where,
                          fmt::format("policies can tell at most {} recurring schedules apart", nat::max_schedules)});
        return errors;
    }
    compiler c(cfg);
    nat::firewall& fw = plan.firewall;
    fw = nat::firewall{};
    for (const auto& sc : cfg.schedules) {
        fw.schedules.push_back({sc.days, sc.start, sc.end});
    }
    for (const auto& v : cfg.vips) {
        nat::vip_rule r;
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
    fw.finish();
    std::uint64_t rules = 0;
    for (const auto& p : cfg.policies) {
        if (!p.enabled) {
            continue; // a disabled policy matches nothing; its sessions go at their next packet
        }
        nat::policy_rule r;
        r.id = p.id;
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
                (profile->hnt_restrict_source_ip ? nat::sip_option::hnt_restrict_source_ip : 0) |
                (profile->open_record_route_pinhole ? nat::sip_option::open_record_route : 0) |
                (profile->open_via_pinhole ? nat::sip_option::open_via : 0) |
                (profile->register_contact_trace ? nat::sip_option::register_contact_trace : 0) |
                (profile->rfc2543_branch ? nat::sip_option::rfc2543_branch : 0));
        }
        const std::uint8_t log = p.logtraffic == "all" ? 2 : p.logtraffic == "utm" ? 1 : 0;
        fw.traffic_log.emplace_back(p.id, log);
        fw.traffic_logging = fw.traffic_logging || log != 0;
        // The workers' classifier holds the policies as rules; beyond its limit the apply is refused
        // here, at the policy that crossed it.
        rules += nat::classifier_rules(r);
        if (rules > nat::max_classifier_rules) {
            errors.push_back({p.where, fmt::format("firewall policy {}: the policies up to here make {} classifier rules, "
                                                   "more than {} (one per interface run, source prefix, destination prefix "
                                                   "or VIP and service entry of each policy)",
                                                   p.id, rules, nat::max_classifier_rules)});
            return errors;
        }
        fw.policies.push_back(std::move(r));
    }
    std::sort(fw.traffic_log.begin(), fw.traffic_log.end());
    fw.sip.udp = {cfg.settings.sip_udp_port.empty() ? std::uint16_t{0} : cfg.settings.sip_udp_port[0],
                  cfg.settings.sip_udp_port.size() > 1 ? cfg.settings.sip_udp_port[1] : std::uint16_t{0}};
    fw.sip.tcp = {cfg.settings.sip_tcp_port.empty() ? std::uint16_t{0} : cfg.settings.sip_tcp_port[0],
                  cfg.settings.sip_tcp_port.size() > 1 ? cfg.settings.sip_tcp_port[1] : std::uint16_t{0}};
    for (const auto& v : cfg.voip_profiles) {
        fw.media_port_ranges.push_back(v.nat_port_range.value_or(std::pair<std::uint16_t, std::uint16_t>{0, 0}));
        fw.sip_limits.push_back(sip_limits_of(v));
        fw.sip_dialog_timers = fw.sip_dialog_timers || v.call_keepalive != 0 || v.max_idle_dialogs != 0;
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
