// The worker's session slow paths (worker.hpp): who owns a packet, what a packet without a session
// becomes (a probe of another worker, a new session through the firewall and NAT, or a drop with its
// reason), ICMP errors translated back through their session, policy re-checks after a configuration
// change, SNAT port choice, and the control core's session lists and clears. The per-packet path of
// known sessions is in worker.cpp.
#include "dataplane/worker.hpp"

#include <rte_ip.h>
#include <rte_lpm.h>

#include <algorithm>
#include <cstring>

namespace sipalg::dp {

namespace {

constexpr std::size_t eth_len = sizeof(ether_header);

constexpr be16 be(std::uint16_t v) noexcept
{
    return be16::from_host(v);
}

nat::flow_view view_of(const flow_key& k, std::uint16_t in_interface, std::int16_t icmp_type) noexcept
{
    nat::flow_view f;
    f.in_interface = in_interface;
    f.src = k.src.to_host();
    f.dst = k.dst.to_host();
    f.proto = k.proto;
    f.sport = k.sport.to_host();
    f.dport = k.dport.to_host();
    f.icmp_type = icmp_type;
    return f;
}

} // namespace

worker::ownership worker::owner_of(const flow_key& k, std::uint16_t in_interface) const noexcept
{
    const std::uint16_t dport = k.dport.to_host();
    if (!snap_->firewall.vips.empty() && snap_->firewall.is_vip_external(k.dst.to_host(), k.proto, dport)) {
        const nat::vip_target t = snap_->firewall.match_vip(view_of(k, in_interface, -1));
        if (t.vip >= 0) {
            return {owner_of_address(be32::from_host(t.address)), false};
        }
    }
    if (has_ports(k.proto) && dport >= nat_port_first && snap_->is_ours(k.dst.to_host())) {
        return {owner_of_port(dport), false};
    }
    return {owner_of_address(k.src), true};
}

std::uint16_t worker::interface_index(std::uint16_t port) const noexcept
{
    return static_cast<std::uint16_t>(std::max<std::int16_t>(snap_->interface_of_port[port], 0));
}

unsigned worker::owner_of(const ipv4_header& ip, const rte_mbuf* m) const noexcept
{
    if (is_fragment(ip)) {
        return owner_of_address(ip.src); // only the first fragment has ports: reassembled at the source's
    }
    const unsigned ihl = ip.header_length();
    const auto* l4 = reinterpret_cast<const std::uint8_t*>(&ip) + ihl;
    const std::size_t l4_len =
        std::min<std::size_t>(ip.total_length.to_host() - ihl, m->data_len - eth_len - ihl);
    const lookup_key k = lookup_key_of(ip, l4, l4_len);
    if (!k.ok) {
        return owner_of_address(ip.src);
    }
    return owner_of(k.key, interface_index(m->port)).worker;
}

// Protocols other than UDP and TCP: ICMP echo (identifier as port), ICMP errors (the quoted packet's
// key, reversed), anything else by addresses and protocol.
bool worker::flow_key_of_other(pending& p) noexcept
{
    const lookup_key k = lookup_key_of(*p.ip, p.l4, p.l4_len);
    if (!k.ok) {
        drop(p.m, counter::drop_l4_truncated);
        return false;
    }
    p.key = k.key;
    p.icmp_error = k.icmp_error;
    return true;
}

void worker::update_clock() noexcept
{
    // (elapsed cycles * 32.32 ticks per cycle) >> 32, in two halves so nothing overflows.
    const std::uint64_t elapsed = now_ - clock_start_;
    table_now_ = static_cast<std::uint32_t>((elapsed >> 32) * clock_mul_ + (((elapsed & 0xffffffffu) * clock_mul_) >> 32));
}

// No session here. With several workers a packet that came by its source's hash may belong to a
// session its destination's worker made (the reply of a flow that flow's source started, without
// NAT): that worker looks too, and sends it back when it has nothing, so that the source's worker
// creates the session.
void worker::session_miss(pending& p, forward_run& r) noexcept
{
    // A pinhole a SIP engine opened here lets the packet in (the probe of another worker finds it too).
    if (!p.icmp_error && from_pinhole(p, r)) {
        return;
    }
    if (workers_ > 1) {
        if (p.kind == handoff_kind::ipv4 && owner_of(p.key, interface_index(p.m->port)).by_source) {
            const unsigned other = owner_of_address(p.key.dst);
            if (other != id_) {
                counters_.add(counter::handoff_probes);
                handoff(p.m, other, handoff_kind::probe, 0);
                return;
            }
        } else if (p.kind == handoff_kind::probe) {
            handoff(p.m, owner_of_address(p.key.src), handoff_kind::fresh, 0);
            return;
        }
    }
    if (p.icmp_error) {
        drop(p.m, counter::drop_icmp_error_no_session);
        return;
    }
    new_flow(p, r);
}

// A new flow (FortiOS order): destination NAT by a VIP, route to the translated destination, the
// first matching policy for the incoming and outgoing interfaces, a TCP flow only from a SYN, source
// NAT to the outgoing interface's address, then the session both directions will find.
void worker::new_flow(pending& p, forward_run& r) noexcept
{
    const interface_rt* in = snap_->interface_on(p.m->port);
    if (in == nullptr) {
        drop(p.m, counter::drop_no_interface);
        return;
    }
    const nat::firewall& fw = snap_->firewall;
    nat::flow_view f = view_of(p.key, in->index, p.key.proto == ip_proto::icmp ? p.l4[0] : -1);
    nat::vip_target vip;
    if (!snap_->firewall.vips.empty()) {
        vip = fw.match_vip(f);
    }
    const ipv4_address dst = vip.vip >= 0 ? vip.address : f.dst;
    std::uint32_t index = 0;
    if (rte_lpm_lookup(snap_->lpm, dst, &index) != 0) {
        icmp_error(p.m, p.ip, icmp_type::dest_unreachable, icmp_code::net_unreachable, 0);
        drop(p.m, counter::drop_no_route);
        return;
    }
    const nexthop_rt& hop = snap_->nexthops[index];
    if (hop.kind > nexthop_kind::gateway) {
        // For the appliance itself (echo, or a NAT port with no session), or never forwarded.
        route_exception(p.m, p.ip, hop, dst, nullptr, p.l4, p.l4_len);
        return;
    }
    f.out_interface = hop.interface;
    if (vip.vip >= 0) {
        f.dport = vip.port;
    }
    const std::int32_t pi = snap_->classifier->match(f, vip.vip, active_schedules_);
    if (pi < 0) {
        drop(p.m, counter::drop_no_policy);
        return;
    }
    const nat::policy_rule& policy = fw.policies[static_cast<std::size_t>(pi)];
    if (!policy.accept) {
        drop(p.m, counter::drop_policy_deny);
        return;
    }
    if (p.key.proto == ip_proto::tcp && !nat::opens_tcp(p.l4[13])) {
        drop(p.m, counter::drop_tcp_no_syn);
        return;
    }
    flow_key translated = p.key;
    translated.dst = be32::from_host(dst);
    if (vip.vip >= 0 && p.key.proto != ip_proto::icmp) {
        translated.dport = be(vip.port);
    }
    std::uint8_t flags = vip.vip >= 0 ? nat::session_flag::dnat : 0;
    // The SIP engine, chosen once for the session's life (seed table; nat/voip.hpp). The port is the
    // destination after a VIP, as the session helper and the ALG see it. A SIP session's public port is
    // its own: a registration pinhole may open on it.
    const nat::sip_engine engine = fw.sip.choose(policy.voip, p.key.proto, translated.dport.to_host());
    if (policy.nat) {
        translated.src = be32::from_host(snap_->interfaces[hop.interface].address.address);
        flags |= nat::session_flag::snat;
        if (has_ports(p.key.proto)) {
            const std::uint64_t owner = engine != nat::sip_engine::none
                                            ? nat::port_ledger::owner_of(p.key.src.to_host(), p.key.sport.to_host())
                                            : 0;
            const std::uint16_t port = nat_port(translated, owner);
            if (port == 0) {
                drop(p.m, counter::drop_nat_ports_exhausted);
                return;
            }
            if (port != p.key.sport.to_host()) {
                counters_.add(counter::nat_port_changed);
            }
            translated.sport = be(port);
            if (p.key.proto == ip_proto::icmp) {
                translated.dport = translated.sport;
            }
        }
    }
    const nat::session_state state = nat::initial_state(p.key.proto);
    const auto ins = sessions_->insert(p.key, translated.reversed(), translated, state, table_now_,
                                       timeout_ticks_[static_cast<unsigned>(state)]);
    switch (ins.error) {
    case nat::session_table::insert_error::none:
        break;
    case nat::session_table::insert_error::full:
    case nat::session_table::insert_error::index_full:
        drop(p.m, counter::drop_session_table_full);
        return;
    case nat::session_table::insert_error::exists:
        // The reply key is taken: another session of the same public address, port and peer (only
        // without NAT, where the port was not chosen here).
        drop(p.m, counter::drop_nat_ports_exhausted);
        return;
    }
    nat::session& s = sessions_->at(ins.index);
    s.policy_id = policy.id;
    s.generation = generation_;
    s.flags |= flags;
    s.in_interface = in->index;
    s.out_interface = hop.interface;
    s.packets[0] = 1;
    s.bytes[0] = p.ip->total_length.to_host();
    s.policy_slot = static_cast<std::uint16_t>(policy_counters_->slot_of(policy.id));
    policy_counters_->opened(s.policy_slot, now_);
    policy_counters_->count(s.policy_slot, 0, p.ip->total_length.to_host());
    counters_.add(counter::sessions_created);
    if ((flags & nat::session_flag::snat) != 0) {
        hold_port(s, engine != nat::sip_engine::none);
    }
    s.engine = engine;
    if (s.engine != nat::sip_engine::none) [[unlikely]] {
        s.voip_profile = policy.voip.profile;
        s.sip_options = s.engine == nat::sip_engine::alg ? policy.voip.options : nat::sip_option::defaults;
        s.voip_flags = static_cast<std::uint8_t>((policy.voip.ips && s.engine == nat::sip_engine::alg ? nat::voip_flag::ips : 0) |
                                                 (s.engine == nat::sip_engine::helper || policy.voip.rtp ? nat::voip_flag::rtp : 0));
        counters_.add(s.engine == nat::sip_engine::alg ? counter::sip_sessions_alg : counter::sip_sessions_helper);
        if ((s.voip_flags & nat::voip_flag::ips) != 0) {
            counters_.add(counter::sip_sessions_ips);
        }
        if (sip_packet(p, s, ins.index, 0, r)) {
            return;
        }
    }
    route_slow(p.m, p.ip, p.plain, r, &s.rewrite[0], p.l4, p.l4_len);
}

// The source port (or ICMP identifier) of a new SNAT session: the original when it is free, else the
// next free one of this worker's slice, so the replies, steered by port, come back here. Free means no
// session of ours has the reply key it would give (endpoint-dependent: one port serves many peers) and
// no VIP forwards it.
std::uint16_t worker::nat_port(const flow_key& translated, std::uint64_t owner) noexcept
{
    const ipv4_address nat_address = translated.src.to_host();
    const auto usable = [&](std::uint16_t port) {
        if (port < nat_port_first || owner_of_port(port) != id_) {
            return false;
        }
        if (!snap_->firewall.vips.empty() && snap_->firewall.is_vip_external(nat_address, translated.proto, port)) {
            return false;
        }
        // Nor a port a SIP pinhole holds (media, or a registered phone's).
        if (pinholes_->size() != 0 && pinholes_->find_public(translated.proto, nat_address, port) != nat::pinhole_table::none) {
            return false;
        }
        // A SIP endpoint's port is its alone (for all its peers); other sessions share a port with peers
        // of their own only.
        if (owner != 0 ? !ports_->free_for(translated.proto, port, owner) : ports_->exclusive(translated.proto, port)) {
            return false;
        }
        flow_key k = translated;
        k.sport = be(port);
        if (k.proto == ip_proto::icmp) {
            k.dport = k.sport;
        }
        return !sessions_->find(k.reversed()).found();
    };
    const std::uint16_t original = translated.sport.to_host();
    if (usable(original)) {
        return original;
    }
    const unsigned first = nat_port_first + id_ * port_span_;
    const unsigned tries = std::min<unsigned>(port_span_, 4096);
    for (unsigned i = 0; i < tries; ++i) {
        const auto port = static_cast<std::uint16_t>(first + port_cursor_);
        port_cursor_ = static_cast<std::uint16_t>((port_cursor_ + 1u) % port_span_);
        if (usable(port)) {
            return port;
        }
    }
    return 0;
}

void worker::hold_port(nat::session& s, bool exclusive) noexcept
{
    const std::uint16_t port = (s.flags & nat::session_flag::snat) != 0 ? s.rewrite[0].sport.to_host() : s.key.dport.to_host();
    ports_->take(s.key.proto, port, exclusive ? nat::port_ledger::owner_of(s.key.src.to_host(), s.key.sport.to_host()) : 0);
    s.flags |= nat::session_flag::port_held;
}

void worker::release_port(const nat::session& s) noexcept
{
    if ((s.flags & nat::session_flag::port_held) != 0) {
        ports_->give(s.key.proto, (s.flags & nat::session_flag::snat) != 0 ? s.rewrite[0].sport.to_host() : s.key.dport.to_host());
    }
}

void worker::end_session(std::uint32_t index, log_session_end why) noexcept
{
    forget_session(sessions_->at(index), index, why);
    sessions_->remove(index);
}

// What a session holds beyond its slot, given back as it ends (removed, or expired): its NAT port, its
// place among its pinhole's live sessions.
void worker::forget_session(const nat::session& s, std::uint32_t index, log_session_end why) noexcept
{
    log_traffic(s, index, why);
    policy_counters_->closed(s.policy_slot);
    release_port(s);
    if ((s.voip_flags & nat::voip_flag::child) != 0 && pinholes_->alive(s.pinhole, s.pinhole_generation)) {
        nat::pinhole& p = pinholes_->at(s.pinhole);
        p.sessions = static_cast<std::uint16_t>(p.sessions - (p.sessions != 0 ? 1 : 0));
    }
}

bool worker::pinhole_port_free(std::uint8_t proto, ipv4_address address, std::uint16_t port) const noexcept
{
    const nat::firewall& fw = snap_->firewall;
    return port >= nat_port_first && owner_of_port(port) == id_ && port < sip_ports_end() &&
           ports_->users(proto, port) == 0 && pinholes_->find_public(proto, address, port) == nat::pinhole_table::none &&
           (fw.vips.empty() || !fw.forwards_port(address, proto, port));
}

// A session made under an older configuration: its policy must still accept its flow (FortiOS drops a
// session whose policy was deleted or changed to deny at its next packet). Schedules are not
// re-checked: a session outlives its schedule's window, as on FortiOS. The publish decided once per
// policy whether its sessions need matching again (snapshot::policies_kept); most need not.
bool worker::revalidate(nat::session& s) noexcept
{
    const std::uint64_t t0 = rte_rdtsc();
    counters_.add(counter::sessions_rechecked);
    if (snap_->keeps(s.generation, s.policy_id)) {
        // Its policy and every one ahead of it are as they were: the same first match (no re-match).
        s.generation = generation_;
        counters_.add(counter::recheck_cycles, rte_rdtsc() - t0);
        return true;
    }
    counters_.add(counter::sessions_rematched);
    const bool ok = rematch(s);
    counters_.add(counter::recheck_cycles, rte_rdtsc() - t0);
    return ok;
}

bool worker::rematch(nat::session& s) noexcept
{
    const nat::firewall& fw = snap_->firewall;
    // An ICMP session was opened by an echo request (a service such as PING names its type).
    nat::flow_view f = view_of(s.key, s.in_interface, s.key.proto == ip_proto::icmp ? icmp_type::echo_request : -1);
    f.out_interface = s.out_interface;
    nat::vip_target vip;
    if (!snap_->firewall.vips.empty()) {
        vip = fw.match_vip(f);
        if (vip.vip >= 0) {
            f.dport = vip.port;
        }
    }
    const std::int32_t pi = snap_->classifier->match(f, vip.vip, nat::schedule_set::all());
    if (pi < 0 || !fw.policies[static_cast<std::size_t>(pi)].accept) {
        return false;
    }
    if (const std::uint32_t id = fw.policies[static_cast<std::size_t>(pi)].id; id != s.policy_id) {
        // Another policy takes it now: its counters from here on.
        policy_counters_->closed(s.policy_slot);
        s.policy_id = id;
        s.policy_slot = static_cast<std::uint16_t>(policy_counters_->slot_of(id));
        policy_counters_->opened(s.policy_slot, now_);
    }
    s.generation = generation_;
    return true;
}

// An ICMP error about a packet of a session (RFC 5508 §4.2, RFC 4787 §9): its destination becomes the
// one the session's rewrite gives (the inside host), its source too when the error comes from the
// session's peer itself, and the quoted packet is translated back to what that host sent, so the host
// can match the error to its socket. Checksums: the quoted headers' by their deltas, the outer IP and
// ICMP ones anew.
void worker::translate_icmp_error(pending& p, nat::session_ref ref, forward_run& r) noexcept
{
    const nat::session& s = sessions_->at(ref.index);
    const nat_rewrite& rw = s.rewrite[ref.dir];
    const flow_key from = ref.dir == 0 ? s.key : s.reply_key();
    ipv4_header* ip = p.ip;
    if (ip->src == from.src) {
        ip->src = rw.src;
    }
    ip->dst = rw.dst;
    set_ipv4_checksum(*ip);

    auto* inner = reinterpret_cast<ipv4_header*>(p.l4 + sizeof(icmp_header));
    const unsigned inner_ihl = inner->header_length();
    const flow_key quoted = from.reversed();
    const flow_key wanted{rw.dst, rw.src, rw.dport, rw.sport, from.proto, {0, 0, 0}};
    const nat_rewrite inner_rw = make_rewrite(quoted, wanted);
    const std::size_t inner_l4_len = p.l4_len - sizeof(icmp_header) - inner_ihl;
    apply_rewrite(*inner, reinterpret_cast<std::uint8_t*>(inner) + inner_ihl, inner_l4_len, inner_rw);

    auto* icmp = reinterpret_cast<icmp_header*>(p.l4);
    icmp->checksum = be16{0};
    const std::uint32_t off = static_cast<std::uint32_t>(reinterpret_cast<std::uint8_t*>(icmp) - rte_pktmbuf_mtod(p.m, std::uint8_t*));
    std::uint16_t sum = 0;
    rte_raw_cksum_mbuf(p.m, off, static_cast<std::uint32_t>(ip->total_length.to_host() - ip->header_length()), &sum);
    icmp->checksum = be16{static_cast<std::uint16_t>(~sum)};
    counters_.add(counter::icmp_errors_translated);
    route_slow(p.m, ip, p.plain, r, nullptr, p.l4, p.l4_len);
}

bool worker::post(session_query& q) noexcept
{
    session_query* expected = nullptr;
    return query_.compare_exchange_strong(expected, &q, std::memory_order_acq_rel);
}

// Serves the posted query a slice of the table at a time (from the timer tick), so a large table never
// stalls the packets.
void worker::serve_query() noexcept
{
    session_query* q = query_.load(std::memory_order_acquire);
    if (q == nullptr) {
        return;
    }
    q->table_now = table_now_;
    if (q->cursor == 0) {
        if (q->end_calls != nullptr) {
            calls_->for_each_slot([&](std::uint32_t slot, nat::call_entry& c) {
                if (c.state != nat::call_state::ended &&
                    std::binary_search(q->end_calls->begin(), q->end_calls->end(), std::pair{id_, c.key})) {
                    pinholes_->remove_call(c.key);
                    calls_->end(slot, table_now_);
                    c.updated = table_now_;
                    log_call_end(c, static_cast<std::uint8_t>(call_end_reason::cleared));
                    ++q->calls_ended;
                }
            });
            counters_.add(counter::sip_calls_cleared, q->calls_ended);
        }
        // The SIP tables in one go (they are small next to the session table), within what was reserved.
        if (q->calls != nullptr) {
            calls_->for_each([&](const nat::call_entry& c) {
                if (q->calls->size() < q->calls->capacity()) {
                    q->calls->push_back(c);
                    bool media = false;
                    pinholes_->for_each_in_call(c.key, [&](std::uint32_t, const nat::pinhole& p) {
                        media = media || (p.kind == nat::pinhole_kind::media && p.sessions != 0);
                    });
                    q->calls->back().media = media;
                }
            });
        }
        if (q->pinholes != nullptr) {
            pinholes_->for_each([&](std::uint32_t, const nat::pinhole& p) {
                if (q->pinholes->size() < q->pinholes->capacity()) {
                    q->pinholes->push_back(p);
                }
            });
        }
    }
    q->cursor = sessions_->for_each(q->cursor, 65536, [&](std::uint32_t index) {
        const nat::session& s = sessions_->at(index);
        if (!q->filter.matches(s)) {
            return;
        }
        ++q->matched;
        if (q->out != nullptr && q->out->size() < q->out->capacity()) {
            nat::session_info info;
            info.key = s.key;
            info.rewrite[0] = s.rewrite[0];
            info.rewrite[1] = s.rewrite[1];
            info.state = s.state;
            info.flags = s.flags;
            info.policy_id = s.policy_id;
            const auto left = static_cast<std::int32_t>(s.expires - table_now_);
            info.expires_in = left > 0 ? static_cast<std::uint32_t>(left) / nat::ticks_per_second : 0;
            info.age = (table_now_ - s.created) / nat::ticks_per_second;
            std::copy_n(s.packets, 2, info.packets);
            std::copy_n(s.bytes, 2, info.bytes);
            info.in_interface = s.in_interface;
            info.out_interface = s.out_interface;
            info.engine = s.engine;
            info.voip_flags = s.voip_flags;
            info.worker = id_;
            q->out->push_back(info); // within the reserved capacity: no allocation
        }
        if (q->clear) {
            end_session(index, log_session_end::cleared);
            ++q->cleared;
        }
    });
    if (q->cursor >= sessions_->capacity()) {
        counters_.add(counter::sessions_cleared, q->cleared);
        sessions_active_.store(sessions_->size(), std::memory_order_relaxed);
        query_.store(nullptr, std::memory_order_release);
        q->done.store(true, std::memory_order_release);
    }
}

} // namespace sipalg::dp
