#pragma once
// One stateful session as a worker keeps it: the originator's flow key, both directions' rewrites, the
// protocol state that sets its timeout, and its statistics, in two cache lines (the first is all a
// forwarded packet needs). The TCP state machine is the few transitions that time a session correctly
// (RFC 793 §3.2: SYN, SYN-ACK, ACK, FIN each way, RST), as a stateful firewall needs, not a full TCP.
#include "nat/flow.hpp"
#include "nat/voip.hpp"

#include <cstdint>

namespace sipalg::nat {

// Timeouts in seconds, FortiOS names and defaults (config system global tcp-halfopen-timer,
// tcp-halfclose-timer, tcp-timewait-timer, udp-idle-timer; config system session-ttl default).
struct session_timeouts {
    std::uint32_t tcp_halfopen = 10;
    std::uint32_t tcp_established = 3600;
    std::uint32_t tcp_halfclose = 120;
    std::uint32_t tcp_timewait = 1;
    std::uint32_t udp = 180;
    std::uint32_t icmp = 60;
    std::uint32_t other = 3600;
};

enum class session_state : std::uint8_t {
    udp,
    icmp,
    other,
    tcp_syn_sent,     // the originator's SYN
    tcp_syn_received, // the responder's SYN-ACK
    tcp_established,
    tcp_closing,      // a FIN one way
    tcp_closed,       // FIN both ways, or a RST
};

// A first packet may open a TCP session only as a SYN without ACK (FortiOS tcp-session-without-syn
// disable, its default).
constexpr bool opens_tcp(std::uint8_t flags) noexcept
{
    return (flags & (tcp_flag::syn | tcp_flag::ack | tcp_flag::rst | tcp_flag::fin)) == tcp_flag::syn;
}

constexpr session_state initial_state(std::uint8_t proto) noexcept
{
    switch (proto) {
    case ip_proto::tcp:
        return session_state::tcp_syn_sent;
    case ip_proto::udp:
        return session_state::udp;
    case ip_proto::icmp:
        return session_state::icmp;
    default:
        return session_state::other;
    }
}

constexpr std::uint32_t timeout_of(session_state s, const session_timeouts& t) noexcept
{
    switch (s) {
    case session_state::udp:
        return t.udp;
    case session_state::icmp:
        return t.icmp;
    case session_state::other:
        return t.other;
    case session_state::tcp_syn_sent:
    case session_state::tcp_syn_received:
        return t.tcp_halfopen;
    case session_state::tcp_established:
        return t.tcp_established;
    case session_state::tcp_closing:
        return t.tcp_halfclose;
    case session_state::tcp_closed:
        return t.tcp_timewait;
    }
    return t.other;
}

// The state as session lists name it.
constexpr const char* state_name(session_state s) noexcept
{
    switch (s) {
    case session_state::udp:
        return "udp";
    case session_state::icmp:
        return "icmp";
    case session_state::other:
        return "other";
    case session_state::tcp_syn_sent:
        return "syn_sent";
    case session_state::tcp_syn_received:
        return "syn_received";
    case session_state::tcp_established:
        return "established";
    case session_state::tcp_closing:
        return "closing";
    case session_state::tcp_closed:
        return "closed";
    }
    return "?";
}

// session::flags
namespace session_flag {
inline constexpr std::uint8_t in_use = 0x01;
inline constexpr std::uint8_t fin_original = 0x02; // the originator has sent a FIN
inline constexpr std::uint8_t fin_reply = 0x04;    // the responder has sent a FIN
inline constexpr std::uint8_t snat = 0x08;
inline constexpr std::uint8_t dnat = 0x10;
inline constexpr std::uint8_t port_held = 0x20;      // counted on its public port (nat/port_ledger.hpp)
} // namespace session_flag

// session::voip_flags
namespace voip_flag {
inline constexpr std::uint8_t ips = 0x01; // IPS SIP inspects it (FortiOS flag ndr)
inline constexpr std::uint8_t rtp = 0x02; // its engine opens media pinholes (the profile's rtp)
inline constexpr std::uint8_t child = 0x04; // made from a pinhole (media, or a call to a registered phone)
// Made from a call's Contact pinhole: its SIP belongs to that call's session, which `pinhole` and
// `pinhole_generation` then name (in-dialog requests go to the Contact, RFC 3261 §12.2.1.1).
inline constexpr std::uint8_t call_of_parent = 0x08;
} // namespace voip_flag

// A session's TCP state and FIN bits after a segment with `tcp_flags` in direction `dir` (0: from the
// originator).
struct tcp_step {
    session_state state;
    std::uint8_t flags; // the session's flags, FIN bits updated
};

constexpr tcp_step tcp_next(session_state s, std::uint8_t session_flags, unsigned dir, std::uint8_t tcp_flags) noexcept
{
    if ((tcp_flags & tcp_flag::rst) != 0) {
        return {session_state::tcp_closed, session_flags};
    }
    if ((tcp_flags & tcp_flag::fin) != 0) {
        const auto f = static_cast<std::uint8_t>(session_flags | (dir == 0 ? session_flag::fin_original : session_flag::fin_reply));
        const bool both = (f & session_flag::fin_original) != 0 && (f & session_flag::fin_reply) != 0;
        return {both ? session_state::tcp_closed : session_state::tcp_closing, f};
    }
    constexpr std::uint8_t syn_ack = tcp_flag::syn | tcp_flag::ack;
    switch (s) {
    case session_state::tcp_syn_sent:
        return {dir == 1 && (tcp_flags & syn_ack) == syn_ack ? session_state::tcp_syn_received : s, session_flags};
    case session_state::tcp_syn_received:
        return {dir == 0 && (tcp_flags & syn_ack) == tcp_flag::ack ? session_state::tcp_established : s, session_flags};
    case session_state::tcp_closed:
        // A new SYN from the originator reuses the 4-tuple (RFC 793 TIME-WAIT reopening).
        if (dir == 0 && opens_tcp(tcp_flags)) {
            return {session_state::tcp_syn_sent,
                    static_cast<std::uint8_t>(session_flags & ~(session_flag::fin_original | session_flag::fin_reply))};
        }
        return {s, session_flags};
    default:
        return {s, session_flags};
    }
}

inline constexpr std::uint32_t no_index = 0xffffffffu;

struct alignas(64) session {
    // Line 0: what every packet of the session reads or writes.
    flow_key key;               // the originator's packets as they arrive (direction 0)
    nat_rewrite rewrite[2];     // [0]: originator -> responder, [1]: responder -> originator
    std::uint32_t expires = 0;  // in table time (1/16 s)
    std::uint32_t next = no_index; // timer wheel list, or the free list
    std::uint32_t prev = no_index;
    session_state state = session_state::other;
    std::uint8_t flags = 0;
    // Line 1: statistics and identity, for session lists and policy re-checks.
    std::uint64_t packets[2] = {0, 0};
    std::uint64_t bytes[2] = {0, 0};
    std::uint32_t policy_id = 0;  // the FortiOS policyid
    std::uint32_t generation = 0; // low bits of the snapshot generation the policy was checked in
    std::uint32_t created = 0;    // table time
    std::uint16_t in_interface = 0;  // where the originator's packets arrive
    std::uint16_t out_interface = 0; // where they leave
    sip_engine engine = sip_engine::none; // the SIP engine that handles it (nat/voip.hpp)
    std::uint8_t voip_flags = 0;          // voip_flag
    std::int16_t voip_profile = -1;       // the VoIP profile in force (index), -1 none
    std::uint32_t pinhole = no_index;     // a media session's pinhole: the session ends when it closes
    std::uint16_t pinhole_generation = 0;
    std::uint16_t slot_generation = 0;    // changes each time the slot is reused (pinholes name their SIP session by it)
    std::uint16_t sip_options = sip_option::defaults; // the ALG profile's options (nat/voip.hpp)
    std::uint16_t policy_slot = 0;        // its policy's entry in the worker's policy counters (nat/policy_counters.hpp)

    // The key of the responder's packets as they arrive (direction 1): the translated originator key,
    // reversed.
    flow_key reply_key() const noexcept
    {
        return flow_key{rewrite[0].dst, rewrite[0].src, rewrite[0].dport, rewrite[0].sport, key.proto, {0, 0, 0}};
    }
};
static_assert(sizeof(session) == 128);

} // namespace sipalg::nat
