#pragma once
// Every worker counter, declared once (STYLE.md item 21): the X-macro yields the enum, the names that
// telemetry and the exit report print, and the help text. Drop reasons start with "drop_", so a sum over
// them is the number of packets the appliance refused, and each refusal has a name.
#include "nat/ipv4.hpp"
#include "sip/tcp_stream.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

namespace sipalg::dp {

#define SIPALG_EVENT_COUNTERS(X)                                                                     \
    X(rx_packets, "packets received from the ports")                                               \
    X(busy_cycles, "TSC cycles of polls that found packets (the worker's load: over the TSC rate, the busy share)") \
    X(tx_packets, "packets handed to the ports")                                                   \
    X(forwarded, "IPv4 packets routed to a next hop")                                              \
    X(handoff_out, "packets handed to another worker")                                             \
    X(handoff_in, "packets received from another worker")                                          \
    X(arp_requests_in, "ARP requests received")                                                    \
    X(arp_replies_in, "ARP replies received")                                                      \
    X(arp_requests_sent, "ARP requests sent to resolve or refresh a neighbour")                    \
    X(arp_replies_sent, "ARP replies sent for our addresses")                                      \
    X(arp_learned, "neighbour entries created or updated from ARP")                                \
    X(arp_expired, "neighbour entries aged out")                                                   \
    X(arp_held, "packets held while their next hop was being resolved")                            \
    X(icmp_echo_replies, "ICMP echo replies sent for our addresses")                               \
    X(icmp_errors_sent, "ICMP errors sent (time exceeded, unreachable, fragmentation needed)")     \
    X(fragments_in, "IPv4 fragments received")                                                     \
    X(reassembled, "IPv4 datagrams reassembled from fragments")                                    \
    X(fragmented, "IPv4 datagrams fragmented to the outgoing MTU")                                 \
    X(sessions_created, "sessions created (a new flow accepted by a policy)")                      \
    X(sessions_expired, "sessions removed by their idle or state timeout")                         \
    X(sessions_cleared, "sessions removed by the control core (session clear)")                    \
    X(sessions_rechecked, "sessions checked against a new configuration at their next packet")      \
    X(sessions_rematched, "of those, sessions matched against the policies again (policy changed)")\
    X(recheck_cycles, "TSC cycles the workers spent re-checking sessions")                          \
    X(nat_port_changed, "SNAT sessions whose source port could not be kept")                       \
    X(handoff_probes, "packets without a session sent to the destination's worker to look there")  \
    X(icmp_errors_translated, "ICMP errors about a session's packet translated back")              \
    X(sip_sessions_alg, "sessions the SIP ALG handles (FortiOS flags redir local)")               \
    X(sip_sessions_helper, "sessions the SIP session helper handles (helper=sip)")                \
    X(sip_sessions_ips, "SIP ALG sessions IPS SIP inspects too (ndr)")                            \
    X(sip_messages, "SIP messages the engines looked at")                                         \
    X(sip_rewritten, "SIP messages whose addresses or ports were translated")                     \
    X(sip_unparsed, "SIP session payloads that are not a SIP message: passed unchanged")          \
    X(sip_inside_address_left, "SIP messages from an inside party that still name its inside address after translation (a field the engine could not read)") \
    X(sip_not_rewritten, "SIP messages that could not be translated (edit limits): passed unchanged") \
    X(sip_tcp_connections, "SIP/TCP connections followed from their SYN as byte streams")          \
    X(sip_tcp_table_full, "SIP/TCP connections not followed (no room): passed unparsed")            \
    X(sip_tcp_untracked, "segments of SIP/TCP connections not followed from their SYN: passed unparsed") \
    X(sip_tcp_segments, "segments of followed SIP/TCP connections")                                 \
    X(sip_tcp_segments_held, "SIP/TCP segments whose bytes were held (a message not yet complete, or early)") \
    X(sip_tcp_segments_made, "SIP/TCP segments the appliance made: output split to the MSS, acknowledgements") \
    X(sip_tcp_segments_refused, "SIP/TCP segments whose new bytes were refused: more than a stream holds (sent again later)") \
    X(sip_tcp_taken_over, "SIP/TCP bytes of an incomplete message acknowledged by the appliance to a sender that waited") \
    X(sip_tcp_retransmitted, "SIP/TCP segments that sent translated output again for a retransmission") \
    SIPALG_STREAM_ENDS(X##_TCP_END)                                                                \
    X(sip_grown_to_chain, "translated SIP messages that no longer fitted their mbuf")             \
    X(sip_calls_ended, "calls whose pinholes a BYE, CANCEL or failure response closed")           \
    X(sip_calls, "calls started (an INVITE with a new Call-ID)")                                  \
    X(sip_hnt_rewritten, "messages of a remote phone behind its own NAT rewritten to where it is seen (hosted-nat-traversal)") \
    X(sip_call_table_full, "calls not listed because the worker's call table was full")           \
    X(sip_responses_unmatched, "SIP responses that answer no request their session carried (RFC 3261 17.1.3): translated, but they open, close and change nothing") \
    X(sip_transactions_evicted, "SIP requests forgotten before their lifetime because the transaction table was full") \
    X(sip_invites_expired, "calls whose INVITE was not answered within provisional-invite-expiry-time: ended, pinholes closed") \
    X(sip_dialogs_over_limit, "new calls beyond the policy's max-dialogs: the INVITE dropped") \
    X(sip_requests_other_dialog, "BYE, CANCEL and other requests with a known Call-ID but another dialog's tags: they change nothing") \
    X(sip_calls_keepalive_ended, "answered calls ended after call-keepalive without media, their pinholes closed") \
    X(sip_idle_dialogs_ended, "answered calls without media ended beyond their policy's max-idle-dialogs, their pinholes closed") \
    X(sip_calls_cleared, "calls ended by the control core (diagnose sys sip-proxy calls clear), their pinholes closed") \
    X(sip_malformed, "SIP messages an ALG syntax check found fault with (whatever its action: pass counts too)") \
    X(sip_responses_sent, "SIP error responses the ALG sent to a request's sender (an action of respond: 400, 413)") \
    X(log_records, "log records handed to the control core (VoIP logs)")                            \
    X(log_records_lost, "log records lost because the worker's log ring was full (the worker never waits)") \
    X(sip_tcp_taken_out, "SIP/TCP messages the ALG took out of their byte stream (a check, a block, a rate, max-dialogs): no bytes in their place, their sender acknowledged") \
    X(sip_tcp_answers_not_sent, "answers to SIP/TCP requests the ALG took out that could not be put in the stream back (it no longer parses, or no memory): taken out unanswered") \
    X(pinholes_opened, "media pinholes opened (one per RTP and per RTCP port)")                    \
    X(pinholes_expired, "pinholes closed by their timeout")                                        \
    X(pinholes_privileged_refused, "pinholes refused to an inside port below 1024 (open-privileged-pinhole disable)") \
    X(pinholes_address_limit, "pinholes refused because their inside address had sip-pinholes-per-address open") \
    X(pinholes_orphaned, "pinholes closed because their SIP session was cleared or expired")      \
    X(pinhole_peer_refused, "inbound packets a pinhole refused from another source than it admits (strict-register, hnt-restrict-source-ip)") \
    X(registrations_opened, "registration pinholes opened by a 2xx to an inside phone's REGISTER")    \
    X(contact_pinholes_opened, "pinholes opened for a Contact, Record-Route or Via port other than the session's (open-contact-pinhole, open-record-route-pinhole, open-via-pinhole)") \
    X(pinhole_sessions, "sessions created from a pinhole instead of a policy")                    \
    X(media_sessions_closed, "media sessions ended because their pinhole had closed (the call ended or its stream moved)") \
    X(sessions_taken_by_pinhole, "policy sessions of an inside endpoint ended for a pinhole opened since (media sent while held, then resumed)") \
    X(media_ports_exhausted, "SDP streams left untranslated: no pinhole or port pair was free")

#define SIPALG_DROP_COUNTERS(X)                                                                      \
    X(drop_l2_truncated, "frame shorter than an Ethernet header")                                   \
    X(drop_l2_other_host, "unicast frame for another MAC address")                                 \
    X(drop_l2_unsupported, "EtherType other than IPv4 and ARP")                                    \
    X(drop_no_interface, "frame from a port with no configured interface")                         \
    X(drop_arp_malformed, "ARP packet that is not IPv4 over Ethernet or is too short")             \
    X(drop_arp_conflict, "ARP from another host claiming one of our addresses")                   \
    X(drop_arp_unresolved, "packet whose next hop did not answer ARP")                             \
    X(drop_arp_hold_full, "packet beyond the hold queue of an unresolved next hop")                \
    X(drop_arp_table_full, "next hop that found no free neighbour entry")                          \
    SIPALG_IPV4_ERRORS(X##_DROP)                                                                   \
    X(drop_martian_destination, "destination 0/8, 127/8 or class E (RFC 1812 5.3.7)")            \
    X(drop_multicast, "multicast or broadcast IPv4 destination (not routed)")                      \
    X(drop_no_route, "no route to the destination")                                                \
    X(drop_blackhole, "route to a blackhole or a directed broadcast")                              \
    X(drop_ttl_exceeded, "TTL would reach zero")                                                   \
    X(drop_frag_failed, "fragment refused by reassembly (table full, overlap, too many fragments)") \
    X(drop_df_too_big, "larger than the outgoing MTU with Don't Fragment set")                     \
    X(drop_fragmentation_failed, "could not fragment to the outgoing MTU")                         \
    X(drop_local_not_allowed, "packet for our address that the interface's allowaccess refuses")  \
    X(drop_local_unhandled, "packet for our address with no local service")                        \
    X(drop_icmp_malformed, "ICMP for our address with a bad length or checksum")                   \
    X(drop_icmp_rate_limited, "ICMP error not sent because of the rate limit")                     \
    X(drop_handoff_ring_full, "handoff ring to another worker was full")                           \
    X(drop_tx_full, "port transmit queue was full")                                                \
    X(drop_no_mbuf, "mbuf pool empty while building a packet")                                     \
    X(drop_shutdown, "packet still held when the worker stopped")                                  \
    X(drop_l4_truncated, "UDP or TCP header shorter than its protocol needs")                      \
    X(drop_no_policy, "new flow that no firewall policy matches (implicit deny)")                 \
    X(drop_policy_deny, "new flow matched by a deny policy")                                       \
    X(drop_policy_gone, "packet of a session whose policy was removed or no longer accepts it")    \
    X(drop_tcp_no_syn, "TCP segment without a session that is not an opening SYN")                \
    X(drop_session_table_full, "new flow refused because the worker's session table is full")      \
    X(drop_nat_ports_exhausted, "new flow refused because no NAT port was free for it")            \
    X(drop_icmp_error_no_session, "ICMP error about a packet of no known session")                 \
    X(drop_sip_dialogs_over_limit, "INVITE over UDP of a new call beyond its policy's max-dialogs") \
    X(drop_sip_malformed, "SIP message a syntax check found fault with, its action discard or respond (malformed-*, unknown-header, max-line-length, max-body-length)") \
    X(drop_sip_method_blocked, "SIP request of a method the profile blocks (block-<method>)") \
    X(drop_sip_unknown_method, "SIP request of a method not known (block-unknown)") \
    X(drop_sip_rate, "SIP request over its method's rate (<method>-rate)")

// Each consumer X comes with X_DROP, which receives the IPv4 check reasons of nat/ipv4.hpp and names
// them drop_<reason>, and X_TCP_END, which receives the reasons a SIP/TCP stream stops being parsed
// (sip/tcp_stream.hpp) and names them sip_tcp_end_<reason>, so those lists are written once.
#define SIPALG_COUNTERS(X) SIPALG_EVENT_COUNTERS(X) SIPALG_DROP_COUNTERS(X)

enum class counter : std::uint16_t {
#define SIPALG_X(name, help) name,
#define SIPALG_X_DROP(name, help) drop_##name,
#define SIPALG_X_TCP_END(name, help) sip_tcp_end_##name,
    SIPALG_COUNTERS(SIPALG_X)
#undef SIPALG_X
#undef SIPALG_X_DROP
#undef SIPALG_X_TCP_END
        count_
};

inline constexpr std::size_t counter_count = static_cast<std::size_t>(counter::count_);

inline constexpr std::array<std::string_view, counter_count> counter_names{
#define SIPALG_X(name, help) #name,
#define SIPALG_X_DROP(name, help) "drop_" #name,
#define SIPALG_X_TCP_END(name, help) "sip_tcp_end_" #name,
    SIPALG_COUNTERS(SIPALG_X)
#undef SIPALG_X
#undef SIPALG_X_DROP
#undef SIPALG_X_TCP_END
};

inline constexpr std::array<std::string_view, counter_count> counter_help{
#define SIPALG_X(name, help) help,
#define SIPALG_X_DROP(name, help) help,
#define SIPALG_X_TCP_END(name, help) "SIP/TCP directions no longer parsed: " help,
    SIPALG_COUNTERS(SIPALG_X)
#undef SIPALG_X
#undef SIPALG_X_DROP
#undef SIPALG_X_TCP_END
};

// The drop counter for a failed IPv4 header check; both lists come from the same X-macros, in order.
constexpr counter ipv4_drop_counter(ipv4_error e) noexcept
{
    return static_cast<counter>(static_cast<unsigned>(counter::drop_ipv4_truncated) +
                                static_cast<unsigned>(e) - 1u);
}
static_assert(ipv4_error_count == static_cast<unsigned>(counter::drop_ipv4_martian_source) -
                                          static_cast<unsigned>(counter::drop_ipv4_truncated) + 1);

// One worker's counters. Only the owning worker writes; telemetry and the control core read at any time.
// The relaxed atomic_ref accesses compile to plain loads and stores (no lock prefix): a reader may see a
// value one burst old, never a torn one.
struct counter_block {
    alignas(64) std::array<std::uint64_t, counter_count> values{};

    void add(counter c, std::uint64_t n = 1) noexcept
    {
        auto& v = values[static_cast<std::size_t>(c)];
        std::atomic_ref<std::uint64_t>(v).store(v + n, std::memory_order_relaxed);
    }
    std::uint64_t get(counter c) const noexcept
    {
        auto& v = const_cast<std::uint64_t&>(values[static_cast<std::size_t>(c)]);
        return std::atomic_ref<std::uint64_t>(v).load(std::memory_order_relaxed);
    }
};

} // namespace sipalg::dp
