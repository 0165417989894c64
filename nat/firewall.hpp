#pragma once
// The firewall as the workers evaluate it for a new flow: virtual IPs (destination NAT and port
// forwarding) and policies matched in their configured order, no match being an implicit deny (FortiOS
// semantics). Compiled by control/ from the configuration model into plain values: address sets as
// sorted disjoint ranges, services as protocol and port ranges, interfaces as bit masks. Pure: no DPDK.
#include "nat/ipv4.hpp"
#include "nat/voip.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace sipalg::nat {

struct address_range {
    ipv4_address first = 0;
    ipv4_address last = 0;
    friend bool operator==(const address_range&, const address_range&) = default;
};

// Addresses as sorted, disjoint, non-adjacent ranges.
class address_set {
public:
    void add(address_range r);
    // Sorts and merges; call once after the last add().
    void finish();
    bool contains(ipv4_address a) const noexcept;
    const std::vector<address_range>& ranges() const noexcept
    {
        return ranges_;
    }
    bool empty() const noexcept
    {
        return ranges_.empty();
    }

private:
    std::vector<address_range> ranges_;
};

// One entry of a service: an IP protocol (0: any) and, for TCP/UDP/SCTP, destination and source port
// ranges; for ICMP a type (-1: any).
struct service_entry {
    std::uint8_t proto = 0;
    std::uint16_t dport_first = 0;
    std::uint16_t dport_last = 65535;
    std::uint16_t sport_first = 0;
    std::uint16_t sport_last = 65535;
    std::int16_t icmp_type = -1;
    friend bool operator==(const service_entry&, const service_entry&) = default;
};

// What a new flow looks like to the firewall; addresses and ports in host order.
struct flow_view {
    std::uint16_t in_interface = 0;
    std::uint16_t out_interface = 0; // after routing the (translated) destination
    ipv4_address src = 0;
    ipv4_address dst = 0; // as the packet carries it (a VIP's external address, not the mapped one)
    std::uint8_t proto = 0;
    std::uint16_t sport = 0;
    std::uint16_t dport = 0;
    std::int16_t icmp_type = -1;
};

bool service_matches(const std::vector<service_entry>& service, const flow_view& f) noexcept;

// config firewall vip: traffic for extip (and extport, with portforward) arriving on extintf goes to
// mappedip (and mappedport). Ranges map one to one by offset.
struct vip_rule {
    std::int32_t extintf = -1; // interface index, -1: any
    address_range extip;
    ipv4_address mappedip = 0; // the first mapped address
    bool portforward = false;
    std::uint8_t proto = 0; // with portforward: TCP, UDP, SCTP or ICMP (FortiOS protocol)
    std::uint16_t extport_first = 0;
    std::uint16_t extport_last = 0;
    std::uint16_t mappedport = 0; // the first mapped port
    friend bool operator==(const vip_rule&, const vip_rule&) = default;
};

// VIPs by external address, so that a look-up costs a binary search however many there are: the
// intervals that the VIPs' extip ranges cut the address space into, sorted, each with the VIPs that
// cover it in configured order (a range-keyed table: extip may be a range, so a hash of addresses would
// not do, and the order among overlapping VIPs is FortiOS's first match).
class vip_index {
public:
    void build(const std::vector<vip_rule>& vips);
    // The VIPs whose extip holds `a`, in configured order.
    std::pair<const std::int32_t*, const std::int32_t*> at(ipv4_address a) const noexcept
    {
        const auto it = std::upper_bound(starts_.begin(), starts_.end(), a);
        if (it == starts_.begin()) {
            return {nullptr, nullptr};
        }
        const auto k = static_cast<std::size_t>(it - starts_.begin()) - 1;
        return {members_.data() + offsets_[k], members_.data() + offsets_[k + 1]};
    }

private:
    std::vector<ipv4_address> starts_;   // interval k runs from starts_[k] to starts_[k + 1] - 1
    std::vector<std::uint32_t> offsets_; // interval k's VIPs: members_[offsets_[k]] .. members_[offsets_[k + 1]]
    std::vector<std::int32_t> members_;
};

// The destination a VIP gives a flow.
struct vip_target {
    std::int32_t vip = -1; // index into firewall::vips, -1: none
    ipv4_address address = 0;
    std::uint16_t port = 0;
};

// A policy as the firewall matches and applies it. No names or other strings: the workers read these
// (the compiled classifier's answer is an index here), and what only logs and show commands need stays
// in the configuration model on the control core.
struct policy_rule {
    std::uint32_t id = 0; // FortiOS policyid
    std::uint64_t srcintf = 0; // bit per interface index
    std::uint64_t dstintf = 0;
    address_set srcaddr;
    address_set dstaddr;
    std::vector<std::int32_t> vips; // VIPs named in dstaddr (directly or through a group)
    std::vector<service_entry> service;
    std::int32_t schedule = -1; // index into firewall::schedules, -1: always
    bool accept = false;
    bool nat = false;
    voip_policy voip; // what SIP on this policy gets (nat/voip.hpp)
};

// config firewall schedule recurring: days of the week and a daily window (minutes after midnight,
// local time); a window whose end is not after its start runs over midnight.
struct schedule_rule {
    std::uint8_t days = 0x7f; // bit 0 Sunday .. bit 6 Saturday
    std::uint16_t start = 0;
    std::uint16_t end = 0;
    bool active(unsigned weekday, unsigned minute) const noexcept;
};

// Which recurring schedules are in their window: a bit per schedule index. The configuration refuses
// more than max_schedules (control/firewall_plan.cpp), so every index has its bit.
inline constexpr std::size_t max_schedules = 256;
struct schedule_set {
    std::array<std::uint64_t, max_schedules / 64> bits{};

    static schedule_set all() noexcept
    {
        schedule_set s;
        s.bits.fill(~std::uint64_t{0});
        return s;
    }
    bool has(std::size_t i) const noexcept
    {
        return i < max_schedules && (bits[i >> 6] >> (i & 63) & 1u) != 0;
    }
    void set(std::size_t i) noexcept
    {
        if (i < max_schedules) {
            bits[i >> 6] |= std::uint64_t{1} << (i & 63);
        }
    }
    friend bool operator==(const schedule_set&, const schedule_set&) = default;
};

// What a VoIP profile bounds (config voip profile / config sip), by profile index; the session helper,
// which has no profile, works with these defaults.
// What the SIP ALG does with a message a check finds fault with (FortiOS pass | discard | respond).
enum class sip_action : std::uint8_t { pass, discard, respond };
// Whom a rate limit counts (FortiOS <method>-rate-track): the policy, or each source or destination address.
enum class rate_track : std::uint8_t { none, src_ip, dest_ip };

struct sip_rate {
    std::uint32_t per_second = 0; // 0: no limit
    rate_track track = rate_track::none;
};

struct sip_profile_limits {
    std::uint32_t max_dialogs = 0;            // max-dialogs: calls at once per policy (0: no limit)
    std::uint32_t invite_expiry_s = 210;      // provisional-invite-expiry-time: an INVITE unanswered this long ends
    std::uint32_t register_expiry_max_s = 3600; // register-expiry-max: the longest a registration pinhole lasts
    bool privileged_ports = false;            // open-privileged-pinhole: media and Contact pinholes to inside ports below 1024
    // The ALG's protection (sip/engine screens with it). By sip::check: what a finding does. FortiOS's
    // defaults: every malformed-* and unknown-header pass, max-line-length 998 with block-long-lines
    // (respond 413), block-unknown (discard).
    std::array<sip_action, 40> check_actions{};
    std::uint64_t acted_checks = 0;      // derive(): a bit per check whose action is not pass
    std::uint32_t max_line_length = 998; // 0: no limit
    std::uint32_t max_body_length = 0;   // 0: no limit
    std::uint32_t blocked_methods = 0;   // a bit per sip::method: block-<method>
    std::array<sip_rate, 16> rates{};    // by sip::method: <method>-rate and -track
    bool rates_set = false;              // derive(): any of them
    std::uint32_t call_keepalive_s = 0;  // call-keepalive: an answered call without media ends after this (0: never)
    std::uint32_t max_idle_dialogs = 0;  // max-idle-dialogs: answered calls without media kept per policy (0: all)
    bool log_call_summary = true;        // log-call-summary: a log when a call starts and when it ends (44032)
    bool log_violations = false;         // log-violations: blocked (44033) and malformed (44034) messages logged
    std::uint64_t screened_checks = 0;   // derive(): the checks screen runs (acted on, or all when logged)

    // What the packet path reads instead of walking the arrays: set once the actions and rates are.
    // `all_checks`: a bit per check there is (sip::check_count of them).
    void derive(std::uint64_t all_checks = 0) noexcept
    {
        acted_checks = 0;
        for (std::size_t c = 0; c < check_actions.size(); ++c) {
            acted_checks |= check_actions[c] != sip_action::pass ? std::uint64_t{1} << c : 0;
        }
        // A malformed message is logged whatever its check's action (FortiOS: "even if the action is set
        // to pass"), so with log-violations every check runs.
        screened_checks = acted_checks | (log_violations ? all_checks : 0);
        rates_set = false;
        for (const sip_rate& r : rates) {
            rates_set = rates_set || r.per_second != 0;
        }
    }
};

// Bounds on what SIP may take of a worker, for both engines (config system settings).
struct sip_global_limits {
    std::uint32_t pinholes_per_address = 1024; // sip-pinholes-per-address: media and Contact pinholes per inside address
    std::uint32_t port_reserve_percent = 25;   // sip-nat-port-reserve: share of each worker's NAT ports pinholes never take
};

struct firewall {
    std::vector<policy_rule> policies; // in configured order
    std::vector<vip_rule> vips;
    vip_index vip_lookup; // finish() makes it from vips
    std::vector<schedule_rule> schedules;
    sip_listeners sip; // the ALG's ports and the session helper's entries
    // Per VoIP profile (by index): the nat-port-range media ports come from, {0, 0} when unset.
    std::vector<std::pair<std::uint16_t, std::uint16_t>> media_port_ranges;
    std::vector<sip_profile_limits> sip_limits; // by VoIP profile index
    bool sip_dialog_timers = false;             // some profile has call-keepalive or max-idle-dialogs
    sip_global_limits sip_global;
    // logtraffic per policy id, sorted by id (0 disable, 1 utm, 2 all); whether any policy logs.
    std::vector<std::pair<std::uint32_t, std::uint8_t>> traffic_log;
    bool traffic_logging = false;

    std::uint8_t traffic_log_of(std::uint32_t policy_id) const noexcept
    {
        const auto it = std::lower_bound(traffic_log.begin(), traffic_log.end(), std::pair<std::uint32_t, std::uint8_t>{policy_id, 0});
        return it != traffic_log.end() && it->first == policy_id ? it->second : 0;
    }

    // Call once the VIPs are all there: makes what the look-ups below read.
    void finish()
    {
        vip_lookup.build(vips);
    }

    // The VIP (if any) that rewrites a flow's destination: the first whose external interface, address,
    // protocol and port fit. Uses in_interface, dst, proto and dport of f.
    vip_target match_vip(const flow_view& f) const noexcept;
    // The first policy that matches, as an index, or -1 (implicit deny). With a VIP target only the
    // policies that name that VIP in dstaddr match (FortiOS: policies without the VIP do not see its
    // translated traffic); without one, dstaddr must hold the destination. `active` has a bit per
    // schedule index that is in its window now. f.dport is the port after the VIP: FortiOS checks a
    // policy's service against the mapped port of a port-forwarding VIP. A walk over the policies in
    // order: the definition the workers' compiled classifier (dataplane/classifier) is tested against.
    std::int32_t match_policy(const flow_view& f, std::int32_t vip, const schedule_set& active) const noexcept;
    // Whether ARP for `address` on interface `itf` is ours to answer: a VIP's external address there
    // (FortiOS arp-reply enable, the default).
    bool vip_answers_arp(ipv4_address address, std::uint16_t itf) const noexcept;
    // Whether `address`:`port` is a VIP's external side (no port: any VIP on the address).
    bool is_vip_external(ipv4_address address, std::uint8_t proto, std::uint16_t port) const noexcept;
    // Whether a port-forwarding VIP forwards `address`:`port` (a whole-address VIP forwards every port to
    // its one server, so a media port of that server on it collides with nothing).
    bool forwards_port(ipv4_address address, std::uint8_t proto, std::uint16_t port) const noexcept;
};

// How the workers' compiled classifier (dataplane/classifier) expands a policy into rules, kept here so
// that the configuration's plan can refuse a policy set that expands too far, at the policy's line.
// rte_acl keeps every rule (about 200 bytes each, in DPDK memory) and builds its tries from them.
inline constexpr std::size_t max_classifier_rules = 200'000;

struct value_range {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
};
struct address_prefix {
    std::uint32_t address = 0;
    unsigned length = 0;
};
// An interface mask as runs of consecutive indexes; every interface is one run over all of them.
std::vector<value_range> interface_runs(std::uint64_t mask);
// An address range as the fewest prefixes that cover exactly it: rte_acl builds prefixes of a 32-bit
// field into far smaller tries, far faster, than ranges; address objects are nearly always subnets.
std::vector<address_prefix> prefixes_of(std::uint64_t first, std::uint64_t last);
// The rules one policy becomes: one per interface run on each side, source prefix, destination prefix
// or VIP it names, and service entry.
std::uint64_t classifier_rules(const policy_rule& p);

// After a configuration change, the policies whose sessions keep their policy without being matched
// again (sorted ids): the policy matches and acts as before, and every policy now ahead of it was ahead
// of it before, unchanged, so none of them can now take a flow it had. Sessions of every other policy
// are matched again. Nothing is kept when the VIPs changed (policies name them by index).
std::vector<std::uint32_t> policies_kept(const firewall& before, const firewall& after);

} // namespace sipalg::nat
