#pragma once
// The configuration model: FortiOS objects with FortiOS key names (ARCHITECTURE.md "Names"), read from
// YAML with every error reported at once, each with its line and column: interfaces, static routes,
// static ARP entries, firewall objects (addresses, groups, services, schedules, VIPs), policies and
// session timers; later issues add settings, session helpers and VoIP profiles to the same structure.
#include "nat/ipv4.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sipalg::control {

// 1-based; 0 means "no position" (an error about the document as a whole).
struct source_position {
    int line = 0;
    int column = 0;
};

// Where each key's value of an object was, for errors found after reading (dangling references). A few
// keys per object, so a flat list (no allocation per key: the names fit std::string's small buffer).
struct field_positions : std::vector<std::pair<std::string, source_position>> {};

// Whether the field was written.
inline bool has_field(const field_positions& fields, std::string_view key)
{
    return std::any_of(fields.begin(), fields.end(), [key](const auto& f) { return f.first == key; });
}

// The position of a field's value, or of the object when the field was not written.
inline source_position where_of(const field_positions& fields, std::string_view key, source_position object)
{
    for (const auto& [k, where] : fields) {
        if (k == key) {
            return where;
        }
    }
    return object;
}

struct config_error {
    source_position where;
    std::string message;
};

// "line:column: message", or the message alone without a position.
std::string format_error(const config_error& e);

// config system interface / edit <name>
struct interface_config {
    std::string name;
    std::string dpdk_port;            // sipalg's binding of the interface to a DPDK port
    ipv4_prefix ip;                   // set ip 10.0.1.1 255.255.255.0 (or 10.0.1.1/24)
    std::optional<mac_address> macaddr;
    std::uint16_t mtu = 1500;
    std::vector<std::string> allowaccess; // ping, https, ssh, ...: only ping has an effect here
    source_position where;
};

// config router static / edit <id>
struct static_route_config {
    std::uint32_t id = 0;
    ipv4_prefix dst;
    ipv4_address gateway = 0;
    std::string device;
    std::uint8_t distance = 10; // FortiOS default administrative distance of static routes
    bool enabled = true;        // set status enable|disable
    bool blackhole = false;     // set blackhole enable
    source_position where;
};

// config system arp-table / edit <id>
struct arp_entry_config {
    std::uint32_t id = 0;
    std::string interface;
    ipv4_address ip = 0;
    mac_address mac{};
    source_position where;
};

// config firewall address / edit <name>: type ipmask (subnet) or iprange (start-ip, end-ip).
struct address_config {
    std::string name;
    std::string type = "ipmask";
    ipv4_prefix subnet{0, 0};
    ipv4_address start_ip = 0;
    ipv4_address end_ip = 0;
    std::string comment;
    ipv4_address first = 0; // what the fields above cover, made by the reader
    ipv4_address last = 0;
    source_position where;
};

// config firewall addrgrp / edit <name>: members are addresses or other groups (or VIPs, in dstaddr).
struct addrgrp_config {
    std::string name;
    std::vector<std::string> member;
    std::string comment;
    source_position where;
    field_positions fields;
    source_position where_of(std::string_view key) const
    {
        return sipalg::control::where_of(fields, key, where);
    }
};

// A port range of a service: destination low-high, optionally ":" source low-high.
struct port_range_config {
    std::uint16_t dst_first = 0;
    std::uint16_t dst_last = 0;
    std::uint16_t src_first = 0;
    std::uint16_t src_last = 65535;
};

// config firewall service custom / edit <name>.
struct service_config {
    std::string name;
    std::string protocol = "TCP/UDP/SCTP"; // or ICMP, or IP
    std::vector<port_range_config> tcp;
    std::vector<port_range_config> udp;
    std::vector<port_range_config> sctp;
    std::int16_t icmptype = -1;      // ICMP: -1 any
    std::uint8_t protocol_number = 0; // IP: 0 any
    std::string category;
    std::string comment;
    source_position where;
};

// config firewall schedule recurring / edit <name>.
struct schedule_config {
    std::string name;
    std::uint8_t days = 0x7f; // bit 0 Sunday .. bit 6 Saturday; FortiOS: every day unless told otherwise
    std::uint16_t start = 0; // minutes after midnight
    std::uint16_t end = 0;
    std::uint8_t color = 0;
    source_position where;
};

// config firewall vip / edit <name>.
struct vip_config {
    std::string name;
    std::string type = "static-nat"; // the only type sipalg has (FortiOS has load balancing, DNS, ...)
    std::string extintf = "any";
    ipv4_address extip_first = 0;
    ipv4_address extip_last = 0;
    ipv4_address mappedip_first = 0;
    ipv4_address mappedip_last = 0;
    bool portforward = false;
    std::string protocol = "tcp"; // tcp, udp, sctp, icmp
    std::uint16_t extport_first = 0;
    std::uint16_t extport_last = 0;
    std::uint16_t mappedport_first = 0;
    std::uint16_t mappedport_last = 0;
    std::string comment;
    source_position where;
    field_positions fields;
    source_position where_of(std::string_view key) const
    {
        return sipalg::control::where_of(fields, key, where);
    }
};

// config firewall policy / edit <id>. The fields FortiOS insists on default to the open values, so
// the short policies of the SIP documentation (a name and a VoIP profile) work as written: interfaces
// any, addresses all, service ALL, schedule always, action accept.
struct policy_config {
    std::uint32_t id = 0;
    std::string name;
    std::vector<std::string> srcintf{"any"};
    std::vector<std::string> dstintf{"any"};
    std::vector<std::string> srcaddr{"all"};
    std::vector<std::string> dstaddr{"all"};
    std::vector<std::string> service{"ALL"};
    std::string schedule = "always";
    bool accept = true;
    bool nat = false;
    bool enabled = true;    // set status
    bool utm_status = false;
    std::string logtraffic = "utm";
    std::string voip_profile;
    std::string ips_voip_filter;
    std::string comments;
    std::string uuid; // kept as given (FortiOS makes one; sipalg does not need it)
    source_position where;
    field_positions fields;
    source_position where_of(std::string_view key) const
    {
        return sipalg::control::where_of(fields, key, where);
    }
};

// Session timers (config system global *-timer, config system session-ttl default), in seconds.
struct session_timers {
    std::uint32_t tcp_halfopen = 10;
    std::uint32_t tcp_halfclose = 120;
    std::uint32_t tcp_timewait = 1;
    std::uint32_t udp_idle = 180;
    std::uint32_t session_ttl = 3600;
    std::string hostname; // config system global: shown, no effect
};

// config system settings: the VoIP engine choice and the SIP ALG's ports (FortiOS defaults).
struct settings_config {
    bool proxy_based = true; // default-voip-alg-mode proxy-based (the SIP ALG) | kernel-helper-based
    std::vector<std::uint16_t> sip_tcp_port{5060}; // one or two ports
    std::vector<std::uint16_t> sip_udp_port{5060};
    std::uint16_t sip_ssl_port = 5061;
    // What SIP may take of each worker, under both engines (sipalg's own; FortiOS names no such limits):
    // media and Contact pinholes per inside address (0: no limit), and the share of each worker's NAT
    // ports, in percent, that pinholes never take (kept for ordinary sessions).
    std::uint32_t sip_pinholes_per_address = 1024;
    std::uint32_t sip_nat_port_reserve = 25;
};

// The syslog facilities by their RFC 5424 numbers (§6.2.1), as FortiOS names them.
inline constexpr std::array<std::string_view, 24> syslog_facilities{
    "kernel", "user",  "mail",  "daemon", "auth",   "syslog", "lpr",    "news",   "uucp",   "cron",   "authpriv", "ftp",
    "ntp",    "audit", "alert", "clock",  "local0", "local1", "local2", "local3", "local4", "local5", "local6",   "local7"};

// config log syslogd setting (FortiOS's defaults): where log lines go to a syslog server.
struct syslogd_config {
    bool status = false;
    ipv4_address server = 0;                 // FortiOS takes a name too; sipalg an IPv4 address (0: none)
    std::uint16_t port = 514;
    std::string mode = "udp";                // udp | reliable (TCP, RFC 6587 octet counting)
    std::string facility = "local7";
    std::string format = "default";          // default | csv | cef | rfc5424
    ipv4_address source_ip = 0;              // the address lines are sent from (0: the host's choice)
    // Stored as FortiOS writes them, so that its configuration loads: priority and max-log-rate (0: no
    // limit) shape nothing here; enc-algorithm other than disable (TLS) is refused.
    std::string priority = "default";
    std::uint32_t max_log_rate = 0;
    std::string enc_algorithm = "disable";
    std::string ssl_min_proto_version = "default";
    std::string certificate;
    std::string interface_select_method = "auto";
    std::string interface;
};

// config log disk setting: the local log file (sipalgd --log-dir, sipalg.log), rotated to sipalg.log.1
// beyond maxlogfilesize MB.
struct log_disk_config {
    bool status = false;
    std::uint32_t maxlogfilesize = 100; // MB (FortiOS: 1-1024, default 100)
};

// config system session-helper / edit <id>.
struct session_helper_config {
    std::uint32_t id = 0;
    std::string name;      // sip, ftp, ... (FortiOS's helper names)
    std::uint8_t protocol = 0; // 6, 17, or 0 (FortiOS's default when unset)
    std::uint16_t port = 0;
    source_position where;
};

// config voip profile / edit <name> (the SIP options the engines use come with the SIP issues).
struct voip_profile_config {
    std::string name;
    std::string feature_set = "voipd"; // voipd (the SIP ALG) or ips (flow-based, IPS SIP)
    std::string comment;
    bool sip_status = true; // config sip / set status
    bool sip_rtp = true;    // config sip / set rtp
    // config sip: the SIP ALG's options, FortiOS defaults (research §1.3).
    bool open_register_pinhole = true; // a 2xx to a REGISTER opens the Contact to inbound requests
    bool open_contact_pinhole = true;  // a Contact port other than the session's, in other messages, too
    bool strict_register = true;       // ... from the registrar only
    bool contact_fixup = true;         // Contact translated when its host is the party's even on another port
    bool no_sdp_fixup = false;         // enable: SDP left as written (the PBX already writes its public address)
    // nat-trace: the original address in the SDP i= line. FortiOS enables it by default; here it is off
    // by default, deliberately: it writes the inside address into what leaves, which the product
    // promises not to do unless asked (README, "SIP through the appliance").
    bool nat_trace = false;
    bool preserve_override = false; // with nat-trace: replace an existing i= line instead of appending
    // hosted-nat-traversal: a remote phone behind a NAT of its own (calling in through a VIP) writes its
    // private address; the ALG writes the address and port it is seen from instead. With
    // hnt-restrict-source-ip, its call's media is taken from that address only.
    bool hosted_nat_traversal = false;
    bool hnt_restrict_source_ip = false;
    // nat-port-range "low-high": where the ALG takes translated media ports from (unset: anywhere).
    std::optional<std::pair<std::uint16_t, std::uint16_t>> nat_port_range;
    std::uint32_t max_dialogs = 0;                   // calls at once per policy (0: no limit)
    std::uint32_t provisional_invite_expiry_time = 210; // seconds an INVITE may wait for its final answer
    // sipalg's own: the longest a registration pinhole lasts, whatever the registrar grants; and whether
    // pinholes may open to inside ports below 1024 (off: no phone needs one, NAT Slipstreaming did).
    std::uint32_t register_expiry_max = 3600;
    bool open_privileged_pinhole = false;
    // The ALG's syntax checks (research §2.6): what happens to a message whose start line or header (or SDP
    // line) is malformed: pass (forwarded), discard (dropped), respond (dropped, and the sender gets 400).
    std::string unknown_header = "pass";
    std::string malformed_request_line = "pass";
    std::string malformed_header_via = "pass";
    std::string malformed_header_from = "pass";
    std::string malformed_header_to = "pass";
    std::string malformed_header_call_id = "pass";
    std::string malformed_header_cseq = "pass";
    std::string malformed_header_rack = "pass";
    std::string malformed_header_rseq = "pass";
    std::string malformed_header_contact = "pass";
    std::string malformed_header_record_route = "pass";
    std::string malformed_header_route = "pass";
    std::string malformed_header_expires = "pass";
    std::string malformed_header_content_type = "pass";
    std::string malformed_header_content_length = "pass";
    std::string malformed_header_max_forwards = "pass";
    std::string malformed_header_allow = "pass";
    std::string malformed_header_p_asserted_identity = "pass";
    std::string malformed_header_no_require = "pass";
    std::string malformed_header_no_proxy_require = "pass";
    std::string malformed_header_sdp_v = "pass";
    std::string malformed_header_sdp_o = "pass";
    std::string malformed_header_sdp_s = "pass";
    std::string malformed_header_sdp_i = "pass";
    std::string malformed_header_sdp_c = "pass";
    std::string malformed_header_sdp_b = "pass";
    std::string malformed_header_sdp_z = "pass";
    std::string malformed_header_sdp_k = "pass";
    std::string malformed_header_sdp_a = "pass";
    std::string malformed_header_sdp_t = "pass";
    std::string malformed_header_sdp_r = "pass";
    std::string malformed_header_sdp_m = "pass";
    std::uint32_t max_line_length = 998; // a longer header line: logged; with block-long-lines, answered 413
    bool block_long_lines = true;
    std::uint32_t max_body_length = 0;   // 0: no limit
    bool block_unknown = true;           // requests of a method not known (RFC 3261 and its extensions)
    // Method blocking: requests of the method are dropped.
    bool block_ack = false;
    bool block_bye = false;
    bool block_cancel = false;
    bool block_info = false;
    bool block_invite = false;
    bool block_message = false;
    bool block_notify = false;
    bool block_options = false;
    bool block_prack = false;
    bool block_publish = false;
    bool block_refer = false;
    bool block_register = false;
    bool block_subscribe = false;
    bool block_update = false;
    bool block_geo_red_options = false; // OPTIONS dropped (still counted as heartbeats on a FortiGate)
    // Rate limits: requests of the method per second, per policy (0: none), or per source or destination
    // address with <method>-rate-track.
    std::uint32_t register_rate = 0;
    std::string register_rate_track = "none";
    std::uint32_t invite_rate = 0;
    std::string invite_rate_track = "none";
    std::uint32_t subscribe_rate = 0;
    std::string subscribe_rate_track = "none";
    std::uint32_t message_rate = 0;
    std::string message_rate_track = "none";
    std::uint32_t notify_rate = 0;
    std::string notify_rate_track = "none";
    std::uint32_t refer_rate = 0;
    std::string refer_rate_track = "none";
    std::uint32_t update_rate = 0;
    std::string update_rate_track = "none";
    std::uint32_t options_rate = 0;
    std::string options_rate_track = "none";
    std::uint32_t ack_rate = 0;
    std::string ack_rate_track = "none";
    std::uint32_t prack_rate = 0;
    std::string prack_rate_track = "none";
    std::uint32_t info_rate = 0;
    std::string info_rate_track = "none";
    std::uint32_t publish_rate = 0;
    std::string publish_rate_track = "none";
    std::uint32_t bye_rate = 0;
    std::string bye_rate_track = "none";
    std::uint32_t cancel_rate = 0;
    std::string cancel_rate_track = "none";
    std::uint32_t max_idle_dialogs = 0; // answered calls idle this long kept per policy (0: no limit)
    std::uint32_t call_keepalive = 0;   // minutes a call without media is still followed (0: until its end)
    bool open_via_pinhole = false;          // a Via port other than the session's opens for responses
    bool open_record_route_pinhole = true;  // a Record-Route port of the party opens for requests
    bool register_contact_trace = false;    // a REGISTER's Contact keeps the original address and port
    bool rfc2543_branch = false;            // accept Via branches without RFC 3261's magic cookie
    bool ips_rtp = true;                    // IPS may inspect the media (there is no IPS here: stored)
    bool log_violations = false;            // logging: stored here, acted on by the logging issue
    bool log_call_summary = true;
    // SIP over TLS (stored; ssl-mode full is refused until SIP over TLS exists).
    std::string ssl_mode = "off";
    std::string ssl_client_renegotiation = "allow";
    std::string ssl_algorithm = "high";
    std::string ssl_pfs = "allow";
    std::string ssl_min_version = "tls-1.1";
    std::string ssl_max_version = "tls-1.2";
    std::string ssl_client_certificate = "";
    std::string ssl_server_certificate = "";
    std::string ssl_auth_client = "";
    std::string ssl_auth_server = "";
    bool ssl_send_empty_frags = true;
    // config sccp and config msrp: accepted with status disable (neither protocol is inspected here).
    bool sccp_status = false;
    bool sccp_block_mcast = false;
    bool sccp_verify_header = false;
    bool sccp_log_call_summary = false;
    bool sccp_log_violations = false;
    std::uint32_t sccp_max_calls = 0;
    bool msrp_status = false;
    bool msrp_log_violations = false;
    std::uint32_t msrp_max_msg_size = 0;
    std::string msrp_max_msg_size_action = "pass";
    source_position where;
};

// FortiOS's factory session-helper table (id 13 is sip/17/5060) and VoIP profile ("default": SIP and
// RTP enabled), in force until a configuration says otherwise.
const std::vector<session_helper_config>& default_session_helpers();
const std::vector<voip_profile_config>& default_voip_profiles();

struct config {
    settings_config settings;
    std::vector<session_helper_config> session_helpers = default_session_helpers();
    std::vector<voip_profile_config> voip_profiles = default_voip_profiles();
    std::vector<interface_config> interfaces;
    std::vector<static_route_config> static_routes;
    std::vector<arp_entry_config> arp_table;
    std::vector<address_config> addresses;
    std::vector<addrgrp_config> addrgrps;
    std::vector<service_config> services;
    std::vector<schedule_config> schedules;
    std::vector<vip_config> vips;
    std::vector<policy_config> policies; // in configured order (the order they match in)
    session_timers timers;
    syslogd_config syslogd;
    log_disk_config log_disk;

    const interface_config* find_interface(std::string_view name) const;
};

// The services FortiOS defines without configuration (ALL, ALL_TCP, ALL_UDP, ALL_ICMP, SIP, HTTP, HTTPS,
// DNS, PING, SSH, NTP); a custom service of the same name replaces one.
const std::vector<service_config>& predefined_services();

// The sections of a document (a bit each), so that a partial document replaces only what it holds.
namespace section {
inline constexpr std::uint32_t interface = 1u << 0;     // system interface
inline constexpr std::uint32_t arp_table = 1u << 1;     // system arp-table
inline constexpr std::uint32_t global = 1u << 2;        // system global
inline constexpr std::uint32_t session_ttl = 1u << 3;   // system session-ttl
inline constexpr std::uint32_t router_static = 1u << 4; // router static
inline constexpr std::uint32_t address = 1u << 5;       // firewall address
inline constexpr std::uint32_t addrgrp = 1u << 6;       // firewall addrgrp
inline constexpr std::uint32_t service = 1u << 7;       // firewall service custom
inline constexpr std::uint32_t schedule = 1u << 8;      // firewall schedule recurring
inline constexpr std::uint32_t vip = 1u << 9;           // firewall vip
inline constexpr std::uint32_t policy = 1u << 10;       // firewall policy
inline constexpr std::uint32_t settings = 1u << 11;     // system settings
inline constexpr std::uint32_t session_helper = 1u << 12; // system session-helper
inline constexpr std::uint32_t voip_profile = 1u << 13; // voip profile
inline constexpr std::uint32_t syslogd = 1u << 14;      // log syslogd setting
inline constexpr std::uint32_t log_disk = 1u << 15;     // log disk setting
} // namespace section

struct load_result {
    config cfg;
    std::vector<config_error> errors;
    std::uint32_t sections = 0; // which sections the document held
    source_position first_section; // where the first of them is
    bool ok() const
    {
        return errors.empty();
    }
};

// Parses and validates a YAML document. Unknown keys, wrong types, bad values and dangling references
// are all reported, in document order.
load_result load_yaml(std::string_view text);
// Parses a document without the checks across sections (references), for a partial document that is
// merged into the running configuration first.
load_result load_yaml_sections(std::string_view text);
// The checks across sections: names that must exist, cycles, duplicates.
std::vector<config_error> check_config(const config& cfg);
// The running configuration with the sections the update holds replaced by the update's.
config merge_sections(const config& running, const config& update, std::uint32_t sections);
// What a running appliance cannot take from `next`: its interfaces are bound to ports at start, so their
// number, order, names and DPDK ports must stay those of `running`. Errors at `next`'s positions.
std::vector<config_error> check_interfaces_kept(const config& running, const config& next);
// The configuration as a complete YAML document that load_yaml reads back to the same configuration.
std::string to_yaml(const config& cfg);
// The same for a file; an unreadable file is one error naming the path.
load_result load_yaml_file(const std::string& path);

} // namespace sipalg::control
