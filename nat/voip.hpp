#pragma once
// Which SIP engine handles a new session (ARCHITECTURE.md "The FortiOS semantics that must hold exactly",
// from the seed's table): the SIP ALG, the ALG with IPS SIP, the SIP session helper, or none. Compiled per
// policy from its voip-profile and ips-voip-filter, default-voip-alg-mode and the profile's sip status,
// then decided per flow from its protocol and destination port: the ALG listens on sip-udp-port and
// sip-tcp-port (config system settings), the helper on the session-helper entries named sip.
#include "nat/flow.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace sipalg::nat {

enum class sip_engine : std::uint8_t { none, helper, alg };

constexpr const char* sip_engine_name(sip_engine e) noexcept
{
    switch (e) {
    case sip_engine::none:
        return "none";
    case sip_engine::helper:
        return "helper";
    case sip_engine::alg:
        return "alg";
    }
    return "?";
}

// The SIP ALG profile options the engines act on (config voip profile / config sip), as bits; the
// session helper, which has no profile, works with the FortiOS defaults.
namespace sip_option {
inline constexpr std::uint16_t open_register = 0x01;     // open-register-pinhole
inline constexpr std::uint16_t strict_register = 0x02;   // strict-register
inline constexpr std::uint16_t contact_fixup = 0x04;     // contact-fixup
inline constexpr std::uint16_t sdp_fixup = 0x08;         // no-sdp-fixup disable
inline constexpr std::uint16_t nat_trace = 0x10;         // nat-trace
inline constexpr std::uint16_t preserve_override = 0x20; // preserve-override
inline constexpr std::uint16_t open_contact = 0x40;      // open-contact-pinhole
inline constexpr std::uint16_t hosted_nat_traversal = 0x80; // hosted-nat-traversal
inline constexpr std::uint16_t hnt_restrict_source_ip = 0x100; // hnt-restrict-source-ip
inline constexpr std::uint16_t open_record_route = 0x200; // open-record-route-pinhole (the ALG's)
inline constexpr std::uint16_t open_via = 0x400;          // open-via-pinhole (the ALG's)
inline constexpr std::uint16_t register_contact_trace = 0x800; // register-contact-trace
inline constexpr std::uint16_t rfc2543_branch = 0x1000;   // rfc2543-branch
inline constexpr std::uint16_t defaults = open_register | strict_register | contact_fixup | sdp_fixup | open_contact;
} // namespace sip_option

// What a policy asks of SIP, resolved at compile time.
struct voip_policy {
    bool alg = false; // the SIP ALG takes SIP on its ports (a profile with sip enabled, explicit or default)
    bool ips = false; // IPS SIP (ips-voip-filter) inspects it: sessions marked ndr
    bool rtp = true;  // the profile opens media pinholes (config sip / set rtp)
    std::int16_t profile = -1; // index of the VoIP profile in force, -1 none
    std::uint16_t options = sip_option::defaults; // the profile's, for the ALG
};

// The seed's table. `has_profile`: the policy names a voip-profile; `has_ips`: an ips-voip-filter;
// `proxy_based`: default-voip-alg-mode; `profile_sip_enabled`: config sip / set status of the profile in
// force (the named one, or "default" when the mode puts it in force implicitly). A profile with SIP
// disabled hands SIP to the session helper (seed, session helper example 2).
constexpr voip_policy resolve_voip(bool has_profile, bool has_ips, bool proxy_based, bool profile_sip_enabled,
                                   bool profile_rtp, std::int16_t profile) noexcept
{
    voip_policy v;
    v.ips = has_ips;
    const bool profile_in_force = has_profile || (!has_ips && proxy_based);
    v.profile = profile_in_force ? profile : -1;
    v.alg = has_ips || (profile_in_force && profile_sip_enabled);
    v.rtp = profile_in_force ? profile_rtp : true;
    return v;
}

struct sip_helper_port {
    std::uint8_t proto = 0; // 6, 17, or 0: both (FortiOS: an entry without protocol)
    std::uint16_t port = 0;
};

struct sip_listeners {
    std::array<std::uint16_t, 2> udp{5060, 0}; // sip-udp-port (0: unused slot)
    std::array<std::uint16_t, 2> tcp{5060, 0}; // sip-tcp-port
    std::vector<sip_helper_port> helpers{{17, 5060}}; // session-helper entries named sip

    bool alg_port(std::uint8_t proto, std::uint16_t port) const noexcept
    {
        const auto& ports = proto == ip_proto::udp ? udp : tcp;
        return (proto == ip_proto::udp || proto == ip_proto::tcp) && port != 0 && (ports[0] == port || ports[1] == port);
    }
    bool helper_port(std::uint8_t proto, std::uint16_t port) const noexcept
    {
        if (proto != ip_proto::udp && proto != ip_proto::tcp) {
            return false;
        }
        for (const auto& h : helpers) {
            if (h.port == port && (h.proto == 0 || h.proto == proto)) {
                return true;
            }
        }
        return false;
    }
    // The engine of a new flow to `dport`. The ALG takes its own ports when the policy selects it; any
    // other SIP port of the helper table goes to the session helper (the kernel path, which the proxy
    // does not redirect).
    sip_engine choose(const voip_policy& v, std::uint8_t proto, std::uint16_t dport) const noexcept
    {
        if (v.alg && alg_port(proto, dport)) {
            return sip_engine::alg;
        }
        if (helper_port(proto, dport)) {
            return sip_engine::helper;
        }
        return sip_engine::none;
    }
};

} // namespace sipalg::nat
