// The SIP engines in the worker (ARCHITECTURE.md "The packet path" step 4, "The SIP engine decides, the
// data path commits"): a message of a session the session helper or the ALG handles is parsed once, the
// engine (sip/engine) decides what it does, and its decision is committed whole or not at all: pinholes
// granted, the edit list written back into the packet with new lengths and checksums (before the
// session's own NAT rewrite, which then updates them incrementally as for any packet), state moved. The media ports its SDP announces become pinholes,
// closed with the call (BYE, CANCEL, a failure response) or by their timeout. A payload that is not a
// SIP message, or one the edit list cannot hold, passes unchanged and is counted: a call is never broken
// by what the engine does not understand.
#include "dataplane/sip_state.hpp"
#include "dataplane/worker.hpp"

#include "nat/checksum.hpp"
#include "nat/tcp_options.hpp"
#include "nat/ipv4.hpp"
#include "sip/message.hpp"
#include "sip/nat.hpp"

#include <rte_ip.h>
#include <rte_lpm.h>
#include <rte_mbuf.h>

#include <array>
#include <cstring>
#include <optional>
#include <string_view>

namespace sipalg::dp {

// The pinholes a decision asks for, granted for the worker (ARCHITECTURE.md "The SIP engine": the data
// path commits a decision whole or not at all): a port pair from its own slice (so the media of a call
// comes back to the core that has its SIP, "Processes and cores"), two pinholes per stream. Every public
// port is decided by worker::pinhole_port_free, and every pinhole is bounded: none to a privileged inside
// port unless the profile allows it, no more per inside address than sip-pinholes-per-address (all
// counted). What it inserts or refreshes is logged, so that a decision that cannot be committed after
// all (its message does not fit) leaves the table as it was.
class pinhole_granter {
public:
    pinhole_granter(worker& w, const nat::session& s, std::uint32_t index, std::uint64_t call, std::uint32_t stamp) noexcept
        : w_(w), s_(s), index_(index), call_(call), stamp_(stamp),
          expires_(w.table_now_ + w.timeout_ticks_[static_cast<unsigned>(nat::session_state::udp)])
    {
    }

    // The public port given to ask `a`, or nothing (the message then says what it said).
    std::optional<std::uint16_t> grant(const sip::pinhole_ask& a) noexcept
    {
        return a.kind == sip::ask_kind::media ? open(a.inside, a.rtcp, a.public_address, a.preferred, a.stream)
                                              : open_contact(a.inside, a.public_address);
    }
    // Takes back what grant() did.
    void undo() noexcept
    {
        nat::pinhole_table& t = *w_.pinholes_;
        for (unsigned k = inserted_; k > 0; --k) {
            t.remove(new_[k - 1]);
        }
        for (unsigned k = saved_; k > 0; --k) {
            const saved& o = old_[k - 1];
            nat::pinhole& p = t.at(o.slot);
            p.expires = o.expires;
            p.stamp = o.stamp;
            p.stream = o.stream;
        }
        inserted_ = saved_ = 0;
    }
    // Counts what was opened (once the decision is committed).
    void count() noexcept
    {
        w_.counters_.add(counter::pinholes_opened, media_);
        w_.counters_.add(counter::contact_pinholes_opened, contacts_);
    }

private:
    std::optional<std::uint16_t> open(sip::endpoint inside, std::uint16_t rtcp, ipv4_address public_address,
                                      std::uint16_t preferred, std::uint8_t stream) noexcept
    {
        nat::pinhole_table& t = *w_.pinholes_;
        // The same stream of the same call again (a re-INVITE or the answer's 200 retransmitted): the same
        // public port. The endpoint's pinholes of other calls stay: one phone port may serve several calls.
        const auto same_call = [&](const nat::pinhole& o) {
            return o.kind == nat::pinhole_kind::media && o.call == call_ && o.public_address == public_address;
        };
        const auto refresh = [&](std::uint32_t i) {
            nat::pinhole& p = t.at(i);
            if (saved_ < old_.size()) {
                old_[saved_++] = {i, p.expires, p.stamp, p.stream};
            }
            p.expires = expires_;
            p.stamp = stamp_;
            p.stream = stream;
        };
        if (const auto i = t.find_inside_if(ip_proto::udp, inside.address, inside.port, same_call); i != nat::pinhole_table::none) {
            refresh(i);
            if (const auto c = t.find_inside_if(ip_proto::udp, inside.address, rtcp, same_call); c != nat::pinhole_table::none) {
                refresh(c);
            }
            return t.at(i).public_port;
        }
        if (!allowed(inside.port) || !allowed(rtcp)) {
            return std::nullopt;
        }
        if (const std::uint32_t limit = w_.snap_->firewall.sip_global.pinholes_per_address;
            limit != 0 && t.count_of(inside.address) + 2 > limit) {
            w_.counters_.add(counter::pinholes_address_limit);
            return std::nullopt; // the pair, or nothing
        }
        nat::pinhole p;
        p.proto = ip_proto::udp;
        p.inside_address = inside.address;
        p.public_address = public_address;
        p.call = call_;
        p.expires = expires_;
        p.policy_id = s_.policy_id;
        p.voip_profile = s_.voip_profile;
        p.stamp = stamp_;
        p.stream = stream;
        p.parent = index_;
        p.parent_generation = s_.slot_generation;
        // hnt-restrict-source-ip: the media of a remote (hosted-NAT) caller only from where its SIP came.
        if ((s_.sip_options & nat::sip_option::hnt_restrict_source_ip) != 0 &&
            (s_.sip_options & nat::sip_option::hosted_nat_traversal) != 0 && (s_.flags & nat::session_flag::snat) == 0) {
            p.peer = s_.key.src.to_host();
        }
        if (public_address == inside.address) {
            // Routed without NAT: the pinhole is on the inside party's own ports (not ours to give out).
            return insert_pair(p, inside.port, rtcp, inside.port) ? std::optional<std::uint16_t>(inside.port) : std::nullopt;
        }
        if (preferred != 0) {
            // An SDP left as written (no-sdp-fixup): the ports it names, when they are free. (Such a port
            // may lie in another worker's slice: with several workers its media is then handed over.)
            const auto next = static_cast<std::uint16_t>(preferred + 1);
            const bool free = usable(public_address, ip_proto::udp, preferred, false) && usable(public_address, ip_proto::udp, next, false);
            return free && insert_pair(p, inside.port, rtcp, preferred) ? std::optional<std::uint16_t>(preferred) : std::nullopt;
        }
        return search([&](std::uint16_t port) { return insert_pair(p, inside.port, rtcp, port); }, public_address,
                      ip_proto::udp, true);
    }

    // open-contact-pinhole (and -record-route-, -via-): a Contact, Record-Route or Via of the party names
    // a port of its own other than the session's; requests (or, to a Via, responses) from anywhere to its
    // public side reach it, for as long as the call (FortiOS research §1.3).
    std::optional<std::uint16_t> open_contact(sip::endpoint inside, ipv4_address public_address) noexcept
    {
        nat::pinhole_table& t = *w_.pinholes_;
        const std::uint8_t proto = s_.key.proto;
        if (const auto i = t.find_inside(proto, inside.address, inside.port); i != nat::pinhole_table::none) {
            nat::pinhole& p = t.at(i);
            if (p.kind != nat::pinhole_kind::contact || p.public_address != public_address) {
                return std::nullopt; // the endpoint is another pinhole's (media, or a registration)
            }
            if (saved_ < old_.size()) {
                old_[saved_++] = {i, p.expires, p.stamp, p.stream};
            }
            p.expires = expires_;
            return p.public_port;
        }
        if (!allowed(inside.port)) {
            return std::nullopt;
        }
        nat::pinhole p;
        p.proto = proto;
        p.kind = nat::pinhole_kind::contact;
        p.inside_address = inside.address;
        p.inside_port = inside.port;
        p.public_address = public_address;
        p.engine = s_.engine;
        p.voip_flags = static_cast<std::uint8_t>(s_.voip_flags & (nat::voip_flag::ips | nat::voip_flag::rtp));
        p.call = call_;
        p.expires = expires_;
        p.policy_id = s_.policy_id;
        p.voip_profile = s_.voip_profile;
        p.parent = index_;
        p.parent_generation = s_.slot_generation;
        const auto insert = [&](std::uint16_t port) {
            p.public_port = port;
            const std::uint32_t slot = t.insert(p, w_.snap_->firewall.sip_global.pinholes_per_address);
            if (!inserted(slot)) {
                return false;
            }
            logged(slot);
            ++contacts_;
            return true;
        };
        // The Contact's own port when it is free on the public address, else one of the slice.
        if (usable(public_address, proto, inside.port, true) && insert(inside.port)) {
            return inside.port;
        }
        return search(insert, public_address, proto, false);
    }

    void logged(std::uint32_t slot) noexcept
    {
        new_[inserted_++] = slot; // at most two per ask
    }

    // A port of ours a pinhole may take (`sip_share`: within SIP's share of the slice, for ports chosen
    // here; a port the SDP names as written only needs to be free).
    bool usable(ipv4_address address, std::uint8_t proto, std::uint16_t port, bool sip_share) const noexcept
    {
        if (sip_share) {
            return w_.pinhole_port_free(proto, address, port);
        }
        const nat::firewall& fw = w_.snap_->firewall;
        return w_.ports_->users(proto, port) == 0 && w_.pinholes_->find_public(proto, address, port) == nat::pinhole_table::none &&
               (fw.vips.empty() || !fw.forwards_port(address, proto, port));
    }

    // Privileged inside ports (below 1024: SSH, SMB, a web console) get no pinhole unless the profile
    // allows it: no phone needs one, and NAT Slipstreaming asked for exactly those.
    bool allowed(std::uint16_t inside_port) const noexcept
    {
        if (inside_port >= 1024) {
            return true;
        }
        const auto& limits = w_.snap_->firewall.sip_limits;
        const bool allow = s_.voip_profile >= 0 && static_cast<std::size_t>(s_.voip_profile) < limits.size() &&
                           limits[static_cast<std::size_t>(s_.voip_profile)].privileged_ports && s_.engine == nat::sip_engine::alg;
        if (!allow) {
            w_.counters_.add(counter::pinholes_privileged_refused);
        }
        return allow;
    }

    // Whether an insertion took; a refusal for the inside address's allowance is counted.
    bool inserted(std::uint32_t slot) const noexcept
    {
        if (slot == nat::pinhole_table::none && w_.pinholes_->last_refusal() == nat::pinhole_table::refusal::address_limit) {
            w_.counters_.add(counter::pinholes_address_limit);
        }
        return slot != nat::pinhole_table::none;
    }

    // Tries `take(port)` on the even ports of this worker's slice (within the ALG profile's nat-port-range
    // when it has one) from the media cursor on, their odd neighbour free too when `pair`, until one is
    // taken.
    template <class Take>
    std::optional<std::uint16_t> search(Take&& take, ipv4_address address, std::uint8_t proto, bool pair) noexcept
    {
        unsigned lo = worker::nat_port_first + w_.id_ * w_.port_span_;
        unsigned hi = w_.sip_ports_end() - 1;
        const auto& ranges = w_.snap_->firewall.media_port_ranges;
        if (s_.engine == nat::sip_engine::alg && s_.voip_profile >= 0 &&
            static_cast<std::size_t>(s_.voip_profile) < ranges.size() && ranges[static_cast<std::size_t>(s_.voip_profile)].first != 0) {
            lo = std::max<unsigned>(lo, ranges[static_cast<std::size_t>(s_.voip_profile)].first);
            hi = std::min<unsigned>(hi, ranges[static_cast<std::size_t>(s_.voip_profile)].second);
        }
        lo = (lo + 1) & ~1u; // even (RFC 3550 §11: RTP even, RTCP the next odd port)
        if (hi < lo + 1) {
            return std::nullopt;
        }
        const unsigned count = (hi - lo + 1) / 2;
        for (unsigned tries = 0; tries < std::min(count, 4096u); ++tries) {
            const unsigned k = w_.media_cursor_ % count;
            w_.media_cursor_ = static_cast<std::uint16_t>((k + 1) % count);
            const auto port = static_cast<std::uint16_t>(lo + 2 * k);
            const auto next = static_cast<std::uint16_t>(port + 1);
            if (!usable(address, proto, port, true) || (pair && !usable(address, proto, next, true))) {
                continue;
            }
            if (take(port)) {
                // The next search starts at the cursor: its first ports are looked up now, so that
                // they are in the cache by the next SDP (ports are found free by a hash lookup each).
                const auto ahead = static_cast<std::uint16_t>(lo + 2 * w_.media_cursor_);
                w_.pinholes_->prefetch_public(proto, address, ahead);
                w_.pinholes_->prefetch_public(proto, address, static_cast<std::uint16_t>(ahead + 1));
                return port;
            }
            if (w_.pinholes_->last_refusal() == nat::pinhole_table::refusal::address_limit ||
                w_.pinholes_->last_refusal() == nat::pinhole_table::refusal::full) {
                break; // no other port would do better
            }
        }
        return std::nullopt;
    }

    // RTP at `public_rtp`, RTCP at the next port (RFC 3550 §11; the SDP says so with a=rtcp when the inside
    // RTCP port is not RTP + 1).
    bool insert_pair(nat::pinhole p, std::uint16_t rtp, std::uint16_t rtcp, std::uint16_t public_rtp) noexcept
    {
        nat::pinhole_table& t = *w_.pinholes_;
        if (t.find_public(ip_proto::udp, p.public_address, public_rtp) != nat::pinhole_table::none ||
            t.find_public(ip_proto::udp, p.public_address, static_cast<std::uint16_t>(public_rtp + 1)) != nat::pinhole_table::none) {
            return false;
        }
        const std::uint32_t limit = w_.snap_->firewall.sip_global.pinholes_per_address;
        p.inside_port = rtp;
        p.public_port = public_rtp;
        const std::uint32_t a = t.insert(p, limit);
        if (!inserted(a)) {
            return false;
        }
        logged(a);
        ++media_;
        p.inside_port = rtcp;
        p.public_port = static_cast<std::uint16_t>(public_rtp + 1);
        if (const std::uint32_t b = t.insert(p, limit); b != nat::pinhole_table::none) {
            logged(b);
            ++media_;
        }
        return true;
    }

    struct saved {
        std::uint32_t slot;
        std::uint32_t expires;
        std::uint32_t stamp;
        std::uint8_t stream;
    };

    worker& w_;
    const nat::session& s_;
    std::uint32_t index_;
    std::uint64_t call_;
    std::uint32_t stamp_;
    std::uint32_t expires_; // what a pinhole opened or refreshed now lasts until (udp-idle-timer)
    std::array<std::uint32_t, 2 * sip::pinhole_asks::capacity> new_;
    std::array<saved, 2 * sip::pinhole_asks::capacity> old_;
    unsigned inserted_ = 0;
    unsigned saved_ = 0;
    unsigned media_ = 0;
    unsigned contacts_ = 0;
};

namespace {

// How much of the L4 bytes the first segment holds (what the route stage's rewrite may touch).
std::uint16_t l4_in_first_segment(const rte_mbuf* m, const std::uint8_t* l4, unsigned l4_total) noexcept
{
    const auto before = static_cast<unsigned>(l4 - rte_pktmbuf_mtod(m, const std::uint8_t*));
    return static_cast<std::uint16_t>(std::min<unsigned>(l4_total, m->data_len - before));
}

// A new mbuf chain: `hdr_len` bytes of headers, then `length` payload bytes that copy(done, n, to)
// writes, segment by segment; nullptr when the pool runs dry (the caller counts it).
template <class Copy>
rte_mbuf* new_chain(rte_mempool* pool, const void* hdr, unsigned hdr_len, std::uint32_t length, Copy&& copy) noexcept
{
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) {
        return nullptr;
    }
    std::memcpy(rte_pktmbuf_append(m, static_cast<std::uint16_t>(hdr_len)), hdr, hdr_len);
    rte_mbuf* tail = m;
    for (std::uint32_t done = 0; done < length;) {
        const std::uint32_t room = rte_pktmbuf_tailroom(tail);
        if (room == 0) {
            rte_mbuf* seg = rte_pktmbuf_alloc(pool);
            if (seg == nullptr || rte_pktmbuf_chain(m, seg) != 0) {
                rte_pktmbuf_free(seg);
                rte_pktmbuf_free(m);
                return nullptr;
            }
            tail = seg;
            continue;
        }
        const std::uint32_t n = std::min(room, length - done);
        copy(done, n, rte_pktmbuf_mtod_offset(tail, char*, tail->data_len));
        tail->data_len = static_cast<std::uint16_t>(tail->data_len + n);
        m->pkt_len += n;
        done += n;
    }
    return m;
}

// What the engine knows of session `s` for a message in direction `dir` (sip/engine.hpp).
void view_of(const nat::session& s, unsigned dir, const nat::sip_profile_limits* limits, sip::session_view& v) noexcept
{
    v.n = 0;
    const nat_rewrite& o = s.rewrite[0];
    if ((s.flags & nat::session_flag::snat) != 0) {
        v.t[v.n] = {{s.key.src.to_host(), s.key.sport.to_host()}, {o.src.to_host(), o.sport.to_host()}};
        v.inside_is_originator[v.n++] = true;
    }
    if ((s.flags & nat::session_flag::dnat) != 0) {
        v.t[v.n] = {{o.dst.to_host(), o.dport.to_host()}, {s.key.dst.to_host(), s.key.dport.to_host()}};
        v.inside_is_originator[v.n++] = false;
    }
    if (v.n == 0) {
        v.t[0] = {{s.key.src.to_host(), s.key.sport.to_host()}, {s.key.src.to_host(), s.key.sport.to_host()}};
        v.inside_is_originator[v.n++] = true;
    }
    v.dir = dir;
    const std::uint16_t so = s.sip_options;
    v.options.contact_fixup = (so & nat::sip_option::contact_fixup) != 0;
    v.options.sdp_fixup = (so & nat::sip_option::sdp_fixup) != 0;
    v.options.nat_trace = (so & nat::sip_option::nat_trace) != 0;
    v.options.preserve_override = (so & nat::sip_option::preserve_override) != 0;
    v.options.rtp = (s.voip_flags & nat::voip_flag::rtp) != 0;
    v.options.open_contact = (so & nat::sip_option::open_contact) != 0;
    // The session helper has no profile: Contact pinholes only (FortiOS's defaults of its own).
    v.options.open_record_route = s.engine == nat::sip_engine::alg && (so & nat::sip_option::open_record_route) != 0;
    v.options.open_via = s.engine == nat::sip_engine::alg && (so & nat::sip_option::open_via) != 0;
    v.options.register_contact_trace = s.engine == nat::sip_engine::alg && (so & nat::sip_option::register_contact_trace) != 0;
    v.options.rfc2543_branch = s.engine == nat::sip_engine::alg && (so & nat::sip_option::rfc2543_branch) != 0;
    v.open_register = (so & nat::sip_option::open_register) != 0;
    v.strict_register = (so & nat::sip_option::strict_register) != 0;
    v.hosted_nat = (so & nat::sip_option::hosted_nat_traversal) != 0 && (s.flags & nat::session_flag::snat) == 0;
    v.seen = {s.key.src.to_host(), s.key.sport.to_host()};
    static constexpr nat::sip_profile_limits fortios_defaults{};
    const nat::sip_profile_limits& l = limits != nullptr ? *limits : fortios_defaults; // not copied per message
    v.invite_expiry_s = l.invite_expiry_s;
    v.register_expiry_max_s = l.register_expiry_max_s;
    v.max_dialogs = s.engine == nat::sip_engine::alg ? l.max_dialogs : 0;
    v.alg = s.engine == nat::sip_engine::alg ? limits : nullptr;
}

// The counter of each reason the engine takes a message out.
counter drop_counter(sip::drop_reason why) noexcept
{
    switch (why) {
    case sip::drop_reason::max_dialogs:
        return counter::drop_sip_dialogs_over_limit;
    case sip::drop_reason::malformed:
        return counter::drop_sip_malformed;
    case sip::drop_reason::method_blocked:
        return counter::drop_sip_method_blocked;
    case sip::drop_reason::unknown_method:
        return counter::drop_sip_unknown_method;
    case sip::drop_reason::rate:
    case sip::drop_reason::none:
        break;
    }
    return counter::drop_sip_rate;
}

} // namespace

// The message in `payload` through the SIP engine (either transport: a UDP datagram, or a whole
// message of a TCP stream), its decision committed whole or not at all: on success the new message is
// in sip_->out and its length is returned; nothing when nothing changes, or when it cannot be
// translated (counted; it then passes as it came and changes nothing), or when the decision (sip_->decision,
// its verdict and why) takes it out.
std::optional<std::uint32_t> worker::sip_translate(std::string_view payload, nat::session& s, std::uint32_t index,
                                                   unsigned dir) noexcept
{
    counters_.add(counter::sip_messages);
    // The decision is the message's outcome for the caller too (a drop, a response): made anew first, so
    // that one the parse refuses forwards the bytes as they came.
    sip::decision& d = sip_->decision;
    d.reset();
    sip::message& msg = sip_->message;
    // Parsed already when the TCP stream framed these very bytes from their parse (same place, same
    // length: a shorter message at the same place is parsed again).
    const bool parsed = sip_->parsed.data() == payload.data() && sip_->parsed.size() == payload.size();
    sip_->parsed = {};
    if (!parsed && !msg.parse(payload).ok()) {
        counters_.add(counter::sip_unparsed);
        return std::nullopt;
    }
    const auto& limits = snap_->firewall.sip_limits;
    const nat::sip_profile_limits* profile =
        s.voip_profile >= 0 && static_cast<std::size_t>(s.voip_profile) < limits.size() ? &limits[static_cast<std::size_t>(s.voip_profile)] : nullptr;
    sip::session_view& view = sip_->view;
    view_of(s, dir, profile, view);
    // A call belongs to the session it is signalled over (its slot and the slot's generation), or to the
    // session whose call opened the Contact pinhole this session came through.
    view.options.call_salt = (s.voip_flags & nat::voip_flag::call_of_parent) != 0
                                 ? (std::uint64_t{s.pinhole} << 16 | s.pinhole_generation) + 1
                                 : (std::uint64_t{index} << 16 | s.slot_generation) + 1;
    view.written.reset();
    if (view.hosted_nat && dir == 1) {
        if (const sip_session_entry* e = sip_->sessions.find(index, s.slot_generation); e != nullptr && e->hnt_written.address != 0) {
            view.written = e->hnt_written;
        }
    }
    sip::begin(msg, view, d);
    const sip::nat_summary& id = d.id;
    nat::sip_policy_counts& stats = sip_stats_->of(s.policy_id);
    nat::sip_policy_stats::add(stats.by_method[std::min<std::size_t>(static_cast<std::size_t>(id.method), 15)].received[id.request ? 0 : 1]);
    if (view.alg != nullptr) {
        sip::screen(msg, view, d);
        if (d.found != 0) {
            counters_.add(counter::sip_malformed);
            // A method not known is a block (44033), not a malformed message (44034).
            if ((d.found & ~(std::uint64_t{1} << static_cast<unsigned>(sip::check::unknown_method))) != 0) {
                log_violation(d, s, index, dir, log_kind::sip_malformed);
            }
        }
        if (d.action == sip::verdict::forward && view.alg->rates_set && over_rate(d, s, dir)) {
            sip::limit(d);
        }
        if (d.found != 0) {
            const std::uint64_t long_lines = std::uint64_t{1} << static_cast<unsigned>(sip::check::max_line_length);
            const std::uint64_t unknown = std::uint64_t{1} << static_cast<unsigned>(sip::check::unknown_method);
            nat::sip_policy_stats::add(stats.long_headers, (d.found & long_lines) != 0 ? 1 : 0);
            nat::sip_policy_stats::add(stats.malformed, (d.found & ~(long_lines | unknown)) != 0 ? 1 : 0);
        }
        if (d.action != sip::verdict::forward) {
            if (d.why != sip::drop_reason::malformed) {
                log_violation(d, s, index, dir, log_kind::sip_block);
            }
            count_blocked(d, stats);
            return std::nullopt; // taken out (the caller reads why in the decision)
        }
    }
    // What this message will look up is asked for now and read after its translation, a thousand
    // cycles later, from the cache: its transaction (a request's, to record; a response's request, to
    // match), and where the indexes keep its call and its call's pinholes (those entries themselves
    // are asked for once the translation is done, and read once its edits are applied).
    const nat::transaction_id transaction{id.transaction, id.call_key, index, s.slot_generation, static_cast<std::uint8_t>(dir)};
    const nat::transaction_id asked{id.transaction, id.call_key, index, s.slot_generation,
                                    static_cast<std::uint8_t>(dir ^ 1u)}; // a response's request went the other way
    transactions_->prefetch(id.request ? transaction : asked);
    calls_->prefetch_index(id.call_key);
    pinholes_->prefetch_call_index(id.call_key);
    sip::translate(msg, view, sip_->edits, d);
    if (!d.translated) {
        counters_.add(counter::sip_not_rewritten);
        return std::nullopt;
    }
    calls_->prefetch(id.call_key);
    pinholes_->prefetch_call(id.call_key);
    // The dialog as the tables know it. A response is believed only when it answers a request this
    // session carried the other way (RFC 3261 §17.1.3); one that does not is still translated, but
    // opens, closes and changes nothing.
    sip::dialog_view& dialog = sip_->dialog;
    dialog = {};
    if (!id.request) {
        const auto request = transactions_->match(asked, id.cseq, table_now_, id.method == sip::method::register_);
        dialog.response_matched = request.found;
        dialog.requested = request.requested;
        if (!request.found) {
            counters_.add(counter::sip_responses_unmatched);
        }
    }
    std::optional<std::uint32_t> call_slot; // the call's entry, once looked up
    if (view.max_dialogs != 0 && id.request && id.method == sip::method::invite) {
        // max-dialogs needs the call now (is this INVITE a new call?), not after the edits.
        call_slot = call_of(id.call_key, dialog);
        dialog.policy_calls = calls_->live_calls(s.policy_id);
    }
    sip::settle(view, dialog, d);
    if (d.why == sip::drop_reason::max_dialogs) {
        counters_.add(counter::sip_dialogs_over_limit);
        log_violation(d, s, index, dir, log_kind::sip_block);
        count_blocked(d, stats);
    }
    if (d.action == sip::verdict::drop) {
        return std::nullopt;
    }
    return commit(d, payload, s, index, dir, call_slot);
}

// What the call table says of call `key` (sip::dialog_view): its slot, or none.
std::uint32_t worker::call_of(std::uint64_t key, sip::dialog_view& dialog) noexcept
{
    const std::uint32_t slot = key != 0 ? calls_->find(key) : nat::call_table::none;
    if (slot != nat::call_table::none) {
        const nat::call_entry& c = calls_->at(slot);
        dialog.call_known = true;
        dialog.call_state = c.state;
        dialog.call_tag = c.tag;
    }
    return slot;
}

// The decision's pinholes, edits and state, all or none.
std::optional<std::uint32_t> worker::commit(sip::decision& d, std::string_view payload, nat::session& s,
                                            std::uint32_t index, unsigned dir, std::optional<std::uint32_t> call_slot) noexcept
{
    const sip::nat_summary& id = d.id;
    const sip::session_view& view = sip_->view;
    sip::edit_list& edits = sip_->edits;
    const std::uint32_t stamp = ++sdp_stamp_;
    // The call's step before the grants when there are any (what a message of an ended call asks for is
    // not granted); otherwise after the edits, when its entry, asked for after the translation, is in.
    const auto follow = [&] {
        if (!call_slot) {
            call_slot = call_of(id.call_key, sip_->dialog);
        }
        sip::follow(sip_->dialog, d);
    };
    const bool followed_first = d.believed && d.asks.n != 0;
    if (followed_first) {
        follow();
    }
    pinhole_granter pinholes(*this, s, index, id.call_key, stamp);
    unsigned refused = 0;
    bool fits = true;
    for (unsigned k = 0; k < d.asks.n && fits; ++k) {
        if (const auto port = pinholes.grant(d.asks.list[k])) {
            fits = sip::grant(edits, d.asks.list[k], *port) == sip::edit_error::ok;
        } else if (d.asks.list[k].kind == sip::ask_kind::media) {
            ++refused;
        }
    }
    std::optional<std::uint32_t> length;
    if (fits && !edits.empty()) {
        const sip::edit_list::applied a = edits.apply(sip_->message, sip_->out);
        fits = a.error == sip::edit_error::ok && a.length <= 65000;
        length = static_cast<std::uint32_t>(a.length);
    }
    if (!fits) {
        pinholes.undo();
        counters_.add(counter::sip_not_rewritten);
        return std::nullopt;
    }
    pinholes.count();
    counters_.add(counter::media_ports_exhausted, refused);
    // What leaves from the inside party must not name it any more (unless nat-trace writes it on
    // purpose): a field the engine could not read still carries it, and that is counted.
    if (!view.options.nat_trace && !id.traced) {
        const std::string_view leaving = length ? std::string_view(sip_->out.data(), *length) : payload;
        for (unsigned i = 0; i < view.n; ++i) {
            if (view.inside_is_originator[i] == (dir == 0) && view.t[i].inside.address != view.t[i].outside.address &&
                sip::mentions_address(leaving, view.t[i].inside.address)) {
                counters_.add(counter::sip_inside_address_left);
                break;
            }
        }
    }
    if (d.remember_written) {
        if (sip_session_entry* e = sip_->sessions.make(index, s.slot_generation)) {
            e->hnt_written = *d.remember_written;
        }
    }
    if (d.hosted_nat_rewritten) {
        counters_.add(counter::sip_hnt_rewritten);
    }
    if (d.believed) {
        if (!followed_first) {
            follow();
        }
        apply_call(d, s, index, dir, *call_slot, stamp);
        commit_registration(d, s, index);
    }
    const nat::transaction_id transaction{id.transaction, id.call_key, index, s.slot_generation, static_cast<std::uint8_t>(dir)};
    if (d.complete_transaction) {
        // A final response completes its transaction (RFC 3261 §17.1.1.2): its retransmissions, and a
        // second 2xx of a forked INVITE, are translated but change nothing more.
        transactions_->erase({id.transaction, id.call_key, index, s.slot_generation, static_cast<std::uint8_t>(dir ^ 1u)}, id.cseq);
    }
    if (d.record_transaction &&
        transactions_->record(transaction, id.cseq, d.requested,
                              table_now_ + d.transaction_lifetime_s * nat::ticks_per_second, table_now_)) {
        counters_.add(counter::sip_transactions_evicted);
    }
    return length;
}

// What a believed message does to its call: the call list moves on (the engine's call step), pinholes
// of streams moved, removed or rejected close, the call's end closes them all, anything else of the
// call refreshes them.
void worker::apply_call(const sip::decision& d, const nat::session& s, std::uint32_t index, unsigned dir, std::uint32_t slot,
                        std::uint32_t stamp) noexcept
{
    const sip::nat_summary& id = d.id;
    bool tracked = d.call != sip::call_step::none;
    switch (d.call) {
    case sip::call_step::none:
        break;
    case sip::call_step::start: {
        slot = calls_->upsert(id.call_key, table_now_, s.policy_id);
        if (slot == nat::call_table::none) {
            counters_.add(counter::sip_call_table_full);
            tracked = false;
            break;
        }
        nat::call_entry& c = calls_->at(slot);
        c.engine = s.engine;
        c.voip_profile = s.voip_profile;
        const flow_key k = dir == 0 ? s.key : s.reply_key(); // the INVITE as it arrived
        c.src = k.src.to_host();
        c.dst = k.dst.to_host();
        c.sport = k.sport.to_host();
        c.dport = k.dport.to_host();
        c.tag = id.from_tag;
        c.deadline = table_now_ + sip_->view.invite_expiry_s * nat::ticks_per_second;
        c.call_id_length = static_cast<std::uint8_t>(std::min(id.call_id.size(), c.call_id.size()));
        if (c.call_id_length != 0) { // an INVITE without a Call-ID has none to copy
            std::memcpy(c.call_id.data(), id.call_id.data(), c.call_id_length);
        }
        counters_.add(counter::sip_calls);
        log_call(c, log_kind::call_start, 0, &s, index, &sip_->message);
        break;
    }
    case sip::call_step::other_dialog:
        counters_.add(counter::sip_requests_other_dialog);
        break;
    case sip::call_step::ring:
    case sip::call_step::answer:
    case sip::call_step::end:
    case sip::call_step::touch: {
        nat::call_entry& c = calls_->at(slot);
        c.updated = table_now_;
        if (d.call == sip::call_step::ring) {
            calls_->set_state(c, nat::call_state::ringing);
        } else if (d.call == sip::call_step::answer) {
            if (c.state != nat::call_state::answered) {
                c.answered = table_now_;
            }
            calls_->set_state(c, nat::call_state::answered);
        } else if (d.call == sip::call_step::end && c.state != nat::call_state::ended) {
            calls_->end(slot, table_now_);
            log_call_end(c, static_cast<std::uint8_t>(call_end_reason::signalled));
        }
        break;
    }
    }
    if (id.call_key == 0) {
        return;
    }
    const sip::session_view& view = sip_->view;
    // A new SDP of the inside party (re-INVITE, UPDATE, a changed answer) describes all its media: the
    // call's pinholes it no longer asks for close (RFC 3264 §8: a moved or removed stream), and their
    // media sessions with them.
    // The other party's SDP rejecting or disabling a stream (port 0 in its m= line at the same place,
    // RFC 3264 §6, §8.2) closes the inside party's pinholes of that stream: no media is to flow there.
    if (view.options.rtp && (d.sdp_from_inside != 0 || (d.rejected[0] | d.rejected[1]) != 0)) {
        std::array<std::uint32_t, 32> stale;
        unsigned n = 0;
        pinholes_->for_each_in_call(id.call_key, [&](std::uint32_t ph_slot, const nat::pinhole& ph) {
            if (ph.kind != nat::pinhole_kind::media || n == stale.size()) {
                return;
            }
            bool rejected_here = false;
            for (unsigned i = 0; i < view.n; ++i) {
                rejected_here |= ph.inside_address == view.t[i].inside.address && ph.stream < 32 &&
                                 (d.rejected[i] >> ph.stream & 1u) != 0;
            }
            if ((ph.inside_address == d.sdp_from_inside && ph.stamp != stamp) || rejected_here) {
                stale[n++] = ph_slot;
            }
        });
        for (unsigned k = 0; k < n; ++k) {
            pinholes_->remove(stale[k]);
        }
    }
    // The other party's SDP says where its media of each stream is: the inside party's pinholes of
    // that stream learn it (the way out for a phone port in several calls).
    if (view.options.rtp && id.has_sdp) {
        pinholes_->for_each_in_call(id.call_key, [&](std::uint32_t, nat::pinhole& ph) {
            if (ph.kind == nat::pinhole_kind::media && ph.stream < id.remote_media.size() && id.remote_media[ph.stream].address != 0) {
                const sip::endpoint far = id.remote_media[ph.stream];
                ph.remote_address = far.address;
                ph.remote_port = static_cast<std::uint16_t>(far.port + (ph.public_port & 1u)); // RTCP: the next port
            }
        });
    }
    // The call's pinholes live as long as the call: a BYE or CANCEL (RFC 3261 §15, §9) or a failure
    // response to the INVITE (§13.2.2.3; not to a re-INVITE of an answered call, §14.1) closes them; any
    // other message of the call refreshes them.
    if (d.call == sip::call_step::end || (d.ending && !tracked)) {
        if (pinholes_->remove_call(id.call_key) != 0) {
            counters_.add(counter::sip_calls_ended);
        }
    } else if (d.call != sip::call_step::other_dialog) {
        pinholes_->refresh_call(id.call_key, table_now_ + timeout_ticks_[static_cast<unsigned>(nat::session_state::udp)]);
    }
}

// `length` bytes of sip_->out become the packet's payload from `offset` on: in place when they fit the
// first segment, else in a new chain (headers first); p's pointers follow.
bool worker::replace_payload(pending& p, std::uint32_t offset, std::uint32_t length) noexcept
{
    rte_mbuf* m = p.m;
    const auto l4_offset = static_cast<std::uint32_t>(p.l4 - rte_pktmbuf_mtod(m, std::uint8_t*));
    const auto l3_offset = static_cast<std::uint32_t>(reinterpret_cast<std::uint8_t*>(p.ip) - rte_pktmbuf_mtod(m, std::uint8_t*));
    if (rte_pktmbuf_is_contiguous(m) && offset + length <= static_cast<unsigned>(m->buf_len - m->data_off)) {
        std::memcpy(rte_pktmbuf_mtod_offset(m, char*, offset), sip_->out.data(), length);
        m->data_len = static_cast<std::uint16_t>(offset + length);
        m->pkt_len = offset + length;
        return true;
    }
    rte_mbuf* head = new_chain(pool_, rte_pktmbuf_mtod(m, char*), offset, length,
                               [&](std::uint32_t done, std::uint32_t n, char* to) { std::memcpy(to, sip_->out.data() + done, n); });
    if (head == nullptr) {
        counters_.add(counter::sip_not_rewritten);
        return false;
    }
    head->port = m->port;
    head->l2_len = m->l2_len;
    head->l3_len = m->l3_len;
    rte_pktmbuf_free(m);
    p.m = head;
    p.ip = rte_pktmbuf_mtod_offset(head, ipv4_header*, l3_offset);
    p.l4 = rte_pktmbuf_mtod_offset(head, std::uint8_t*, l4_offset);
    counters_.add(counter::sip_grown_to_chain);
    return true;
}

bool worker::sip_packet(pending& p, nat::session& s, std::uint32_t index, unsigned dir, forward_run& r) noexcept
{
    if (p.key.proto == ip_proto::tcp) {
        return sip_tcp(p, s, index, dir, r);
    }
    auto* udp = reinterpret_cast<udp_header*>(p.l4);
    const unsigned ihl = p.ip->header_length();
    const unsigned udp_len = udp->length.to_host();
    if (udp_len <= sizeof(udp_header) || udp_len > p.ip->total_length.to_host() - ihl) {
        return false; // empty (a keep-alive) or inconsistent: nothing to translate
    }
    const unsigned payload_len = udp_len - static_cast<unsigned>(sizeof(udp_header));
    const auto payload_offset = static_cast<std::uint32_t>(p.l4 - rte_pktmbuf_mtod(p.m, std::uint8_t*) + sizeof(udp_header));
    const auto* payload = static_cast<const char*>(rte_pktmbuf_read(p.m, payload_offset, payload_len, sip_->in.data()));
    if (payload == nullptr) {
        return false;
    }
    const auto length = sip_translate({payload, payload_len}, s, index, dir);
    if (const sip::decision& d = sip_->decision; d.action != sip::verdict::forward) {
        if (d.action == sip::verdict::respond) {
            sip_respond(p, d.status, r);
        }
        drop(p.m, drop_counter(d.why));
        return true;
    }
    if (!length || !replace_payload(p, payload_offset, *length)) {
        return false;
    }
    // Lengths and checksums for the new payload (RFC 768; RFC 791 §3.1). The UDP checksum is summed
    // over our copy of the payload; a datagram sent without one stays without one.
    udp = reinterpret_cast<udp_header*>(p.l4);
    const auto l4_total = static_cast<std::uint16_t>(sizeof(udp_header) + *length);
    p.ip->total_length = be16::from_host(static_cast<std::uint16_t>(ihl + l4_total));
    set_ipv4_checksum(*p.ip);
    udp->length = be16::from_host(l4_total);
    if (udp->checksum.raw != 0) {
        udp->checksum = be16{0};
        std::uint64_t sum = pseudo_header_sum(p.ip->src, p.ip->dst, ip_proto::udp, l4_total);
        sum = csum_partial(udp, sizeof(udp_header), sum);
        sum = csum_partial(sip_->out.data(), *length, sum);
        const auto c = static_cast<std::uint16_t>(~csum_fold(sum));
        udp->checksum = be16{c == 0 ? std::uint16_t{0xffff} : c};
    }
    p.l4_len = l4_in_first_segment(p.m, p.l4, l4_total);
    counters_.add(counter::sip_rewritten);
    return false;
}

// A request the ALG answers instead of forwarding (respond): the response (sip::write_response) goes back
// to its sender over the way the request came, from where the request was going (its addresses and
// ports swapped as they arrived, before any NAT: the sender sees it come from whom it addressed).
void worker::sip_respond(pending& p, unsigned status, forward_run& r) noexcept
{
    const std::size_t n = sip::write_response(sip_->message, status, {sip_->out.data(), sip_->out.size()});
    if (n == 0) {
        return; // a request the ALG cannot answer (a header it must copy is missing): only dropped
    }
    constexpr unsigned l3_off = sizeof(ether_header);
    std::array<std::uint8_t, sizeof(ether_header) + sizeof(ipv4_header) + sizeof(udp_header)> hdr{};
    reinterpret_cast<ether_header*>(hdr.data())->type = be16::from_host(ethertype::ipv4); // the route writes the addresses
    auto* ip = reinterpret_cast<ipv4_header*>(hdr.data() + l3_off);
    ip->version_ihl = 0x45;
    ip->ttl = 64;
    ip->protocol = ip_proto::udp;
    ip->src = p.ip->dst;
    ip->dst = p.ip->src;
    ip->total_length = be16::from_host(static_cast<std::uint16_t>(sizeof(ipv4_header) + sizeof(udp_header) + n));
    set_ipv4_checksum(*ip);
    auto* udp = reinterpret_cast<udp_header*>(hdr.data() + l3_off + sizeof(ipv4_header));
    const auto* in = reinterpret_cast<const udp_header*>(p.l4);
    udp->src_port = in->dst_port;
    udp->dst_port = in->src_port;
    udp->length = be16::from_host(static_cast<std::uint16_t>(sizeof(udp_header) + n));
    std::uint64_t sum = pseudo_header_sum(ip->src, ip->dst, ip_proto::udp, static_cast<std::uint16_t>(sizeof(udp_header) + n));
    sum = csum_partial(udp, sizeof(udp_header), sum);
    sum = csum_partial(sip_->out.data(), n, sum);
    const auto c = static_cast<std::uint16_t>(~csum_fold(sum));
    udp->checksum = be16{c == 0 ? std::uint16_t{0xffff} : c};
    rte_mbuf* m = new_chain(pool_, hdr.data(), hdr.size(), static_cast<std::uint32_t>(n),
                            [&](std::uint32_t done, std::uint32_t k, char* to) { std::memcpy(to, sip_->out.data() + done, k); });
    if (m == nullptr) {
        counters_.add(counter::drop_no_mbuf);
        return;
    }
    m->port = p.m->port;
    m->l2_len = l3_off;
    m->l3_len = sizeof(ipv4_header);
    auto* mip = rte_pktmbuf_mtod_offset(m, ipv4_header*, l3_off);
    auto* l4 = reinterpret_cast<std::uint8_t*>(mip) + sizeof(ipv4_header);
    counters_.add(counter::sip_responses_sent);
    route_slow(m, mip, true, r, nullptr, l4, l4_in_first_segment(m, l4, static_cast<unsigned>(sizeof(udp_header) + n)));
}

// A message the ALG took out, in its policy's statistics: blocked, and of unknown form when its method is
// not known.
void worker::count_blocked(const sip::decision& d, nat::sip_policy_counts& st) noexcept
{
    nat::sip_policy_stats::add(st.by_method[std::min<std::size_t>(static_cast<std::size_t>(d.id.method), 15)].blocked[d.id.request ? 0 : 1]);
    if (d.why == sip::drop_reason::unknown_method) {
        nat::sip_policy_stats::add(st.unknown_form);
    }
}

// Whether a request is over its method's rate (the ALG's <method>-rate), per policy or per tracked
// address (nat/rate_meter.hpp).
bool worker::over_rate(const sip::decision& d, const nat::session& s, unsigned dir) noexcept
{
    const nat::sip_rate& rate = sip_->view.alg->rates[static_cast<std::size_t>(d.id.method)];
    if (!d.id.request || rate.per_second == 0) {
        return false;
    }
    // The addresses as the request travels: its sender and where it goes, seen from the outside.
    const flow_key k = dir == 0 ? s.key : s.reply_key();
    const std::uint32_t address = rate.track == nat::rate_track::src_ip    ? k.src.to_host()
                                  : rate.track == nat::rate_track::dest_ip ? k.dst.to_host()
                                                                           : 0;
    // One bucket for every worker that meets this policy's (or this address's) requests.
    return !meters_->take(s.policy_id, static_cast<std::uint8_t>(d.id.method), address, rate.per_second, table_now_);
}

namespace {

// The engines as the TCP stream sees them: one whole message in, its translation out.
class stream_engine final : public sip::stream_translator {
public:
    using translate_fn = sip::stream_translation (*)(void*, std::string_view) noexcept;
    stream_engine(void* ctx, translate_fn fn, sip_state& sip) noexcept : ctx_(ctx), fn_(fn), sip_(sip) {}
    sip::stream_translation translate(std::string_view message) noexcept override
    {
        return fn_(ctx_, message);
    }
    // Into the message sip_translate parses into, remembered for it.
    const sip::message* parse(std::string_view bytes) noexcept override
    {
        if (!sip_.message.parse(bytes).ok()) {
            sip_.parsed = {};
            return nullptr;
        }
        sip_.parsed = bytes;
        return &sip_.message;
    }

private:
    void* ctx_;
    translate_fn fn_;
    sip_state& sip_;
};

constexpr unsigned max_tcp_headers = sizeof(ether_header) + 60 + 60;

// A segment's bytes from where the stream says they are (its output or original bytes, or the arriving
// segment's payload), `n` of them from `from` on. Output of the translation the segment just made
// (a.fresh) is copied from the translation itself.
void copy_emit(sip::stream_pool& pool, const sip::tcp_stream& c, unsigned d, const sip::stream_emit& e, const char* input,
               const sip::stream_actions& a, std::uint32_t from, std::uint32_t n, char* to) noexcept
{
    switch (e.source) {
    case sip::emit_source::output:
        if (const std::uint32_t at = e.seq + from - a.fresh_seq; d == a.fresh_dir && at <= a.fresh.size() && n <= a.fresh.size() - at) {
            std::memcpy(to, a.fresh.data() + at, n);
        } else {
            pool.read(pool.buffer(c.dir[d].buffer).out, e.seq + from, n, to);
        }
        break;
    case sip::emit_source::original:
        pool.read(pool.buffer(c.dir[d].buffer).orig, e.offset + from, n, to);
        break;
    case sip::emit_source::input:
        std::memcpy(to, input + e.offset + from, n);
        break;
    case sip::emit_source::none:
        break;
    }
}

} // namespace

// SIP over TCP (sip/tcp_stream.hpp): each segment of a followed connection goes through its stream,
// which says what leaves in its place: segments of translated output in the segment's direction
// (the first in the arriving mbuf when it fits), and segments back to its sender. Each is finished here
// with the connection's addresses before NAT and its own checksums, then routed and translated as any
// packet of the session. True when the packet was handled here (sent or held), false when it goes on
// as it is.
bool worker::sip_tcp(pending& p, nat::session& s, std::uint32_t index, unsigned dir, forward_run& r) noexcept
{
    auto* tcp = reinterpret_cast<tcp_header*>(p.l4);
    const unsigned ihl = p.ip->header_length();
    const unsigned thl = (tcp->data_offset >> 4) * 4u;
    const unsigned total = p.ip->total_length.to_host();
    if (thl < sizeof(tcp_header) || ihl + thl > total || thl > p.l4_len) {
        return false;
    }
    const std::uint8_t flags = tcp->flags;
    sip_session_entry* e = sip_->sessions.find(index, s.slot_generation);
    if (e == nullptr && dir == 0 && (flags & (tcp_flag::syn | tcp_flag::ack)) == tcp_flag::syn) {
        e = sip_->sessions.make(index, s.slot_generation);
        counters_.add(e != nullptr ? counter::sip_tcp_connections : counter::sip_tcp_table_full);
    }
    if (e == nullptr) {
        counters_.add(counter::sip_tcp_untracked);
        return false; // picked up mid-stream, or no room: never parsed
    }
    sip::tcp_stream& c = e->tcp;
    if (c.passing() && c.dir[0].delta == 0 && c.dir[1].delta == 0) {
        return false; // nothing changes any more
    }
    const unsigned l3_off = static_cast<unsigned>(reinterpret_cast<std::uint8_t*>(p.ip) - rte_pktmbuf_mtod(p.m, std::uint8_t*));
    const unsigned hdr_len = l3_off + ihl + thl;
    const unsigned payload_len = total - ihl - thl;
    const char* input = nullptr;
    if (payload_len != 0) {
        input = static_cast<const char*>(rte_pktmbuf_read(p.m, hdr_len, payload_len, sip_->segment.data()));
        if (input == nullptr) {
            return false;
        }
    }
    const nat::tcp_options opts = nat::parse_tcp_options({p.l4 + sizeof(tcp_header), thl - sizeof(tcp_header)});
    sip::tcp_segment seg;
    seg.seq = tcp->seq.to_host();
    seg.ack = tcp->ack.to_host();
    seg.window = tcp->window.to_host();
    seg.flags = flags;
    seg.options_length = static_cast<std::uint8_t>(thl - sizeof(tcp_header));
    seg.payload = {input, payload_len};
    seg.mss = opts.mss;
    seg.window_scale = opts.window_scale;
    seg.has_timestamps = opts.has_timestamps;
    seg.ts_val = opts.ts_val;
    seg.sack_blocks = std::min<std::uint8_t>(opts.sack_blocks, 4);
    for (unsigned k = 0; k < seg.sack_blocks; ++k) {
        seg.sack[2 * k] = nat::load_be32(p.l4 + sizeof(tcp_header) + opts.sack_offset + 8 * k);
        seg.sack[2 * k + 1] = nat::load_be32(p.l4 + sizeof(tcp_header) + opts.sack_offset + 8 * k + 4);
    }
    struct context {
        worker* w;
        nat::session* s;
        std::uint32_t index;
        unsigned dir;
    } ctx{this, &s, index, dir};
    stream_engine engine(&ctx, [](void* x, std::string_view m) noexcept -> sip::stream_translation {
        auto* k = static_cast<context*>(x);
        const auto n = k->w->sip_translate(m, *k->s, k->index, k->dir);
        using outcome = sip::stream_translation::outcome;
        if (const sip::decision& d = k->w->sip_->decision; d.action != sip::verdict::forward) {
            // Taken out of the stream, as a datagram would be dropped; an answer goes back in the
            // other direction's stream (sip/tcp_stream.hpp).
            k->w->counters_.add(drop_counter(d.why));
            k->w->counters_.add(counter::sip_tcp_taken_out);
            std::size_t answer = 0;
            if (d.action == sip::verdict::respond) {
                answer = sip::write_response(k->w->sip_->message, d.status, {k->w->sip_->out.data(), k->w->sip_->out.size()});
            }
            return {outcome::removed, {k->w->sip_->out.data(), answer}};
        }
        if (!n) {
            return {};
        }
        k->w->counters_.add(counter::sip_rewritten);
        return {outcome::translated, {k->w->sip_->out.data(), *n}};
    }, *sip_);
    sip::stream_actions& a = sip_->actions;
    c.on_segment(sip_->pool, dir, seg, engine, {sip_->in.data(), sip_->in.size()}, a);
    sip_->parsed = {}; // a parse the stream did not use: the bytes it names are the segment's, soon reused
    counters_.add(counter::sip_tcp_segments);
    count_stream(a);

    // The arriving segment's headers, its acknowledgement and SACK blocks mapped: the template of every
    // segment of its direction.
    std::array<std::uint8_t, max_tcp_headers> hdr;
    std::memcpy(hdr.data(), rte_pktmbuf_mtod(p.m, const std::uint8_t*), hdr_len);
    auto* ht = reinterpret_cast<tcp_header*>(hdr.data() + l3_off + ihl);
    ht->ack = be32::from_host(a.ack);
    if (opts.sack_blocks != 0) {
        std::uint8_t* option = hdr.data() + l3_off + ihl + sizeof(tcp_header) + opts.sack_offset - 2;
        const unsigned old_len = option[1];
        if (a.sack_blocks == 0) {
            std::memset(option, nat::tcp_option::nop, old_len);
        } else {
            option[1] = static_cast<std::uint8_t>(2 + 8 * a.sack_blocks);
            for (unsigned k = 0; k < a.sack_blocks; ++k) {
                nat::store_be32(option + 2 + 8 * k, a.sack[2 * k]);
                nat::store_be32(option + 6 + 8 * k, a.sack[2 * k + 1]);
            }
            std::memset(option + option[1], nat::tcp_option::nop, old_len - option[1]);
        }
    }
    const std::uint8_t base_flags = static_cast<std::uint8_t>(flags & ~(tcp_flag::fin | tcp_flag::rst));
    const nat_rewrite* rw = (s.flags & (nat::session_flag::snat | nat::session_flag::dnat)) != 0 ? &s.rewrite[dir] : nullptr;
    // Segments after the first are made first: the first may reuse the mbuf whose payload they read.
    std::array<rte_mbuf*, sip::stream_actions::max_emits> made{};
    for (unsigned k = 1; k < a.own_count; ++k) {
        made[k] = tcp_segment_mbuf(hdr.data(), hdr_len, l3_off, a.own[k], c, dir, input, base_flags, p.m->port);
    }
    rte_mbuf* first = nullptr;
    if (a.own_count != 0) {
        const sip::stream_emit& e0 = a.own[0];
        const std::uint8_t f0 = static_cast<std::uint8_t>(base_flags | (e0.fin ? tcp_flag::fin : 0) |
                                                          (a.rst ? tcp_flag::rst : 0));
        const bool in_place = rte_pktmbuf_is_contiguous(p.m) && hdr_len + e0.length <= static_cast<unsigned>(p.m->buf_len - p.m->data_off);
        if (in_place) {
            char* data = rte_pktmbuf_mtod_offset(p.m, char*, hdr_len);
            if (e0.source == sip::emit_source::input) {
                if (e0.offset != 0) {
                    std::memmove(data, input + e0.offset, e0.length);
                }
            } else if (e0.length != 0) {
                copy_emit(sip_->pool, c, dir, e0, input, a, 0, e0.length, data);
            }
            std::memcpy(rte_pktmbuf_mtod(p.m, std::uint8_t*), hdr.data(), hdr_len);
            p.m->data_len = static_cast<std::uint16_t>(hdr_len + e0.length);
            p.m->pkt_len = hdr_len + e0.length;
            finish_tcp_segment(p.m, l3_off, e0.seq, f0);
            first = p.m;
        } else {
            first = tcp_segment_mbuf(hdr.data(), hdr_len, l3_off, e0, c, dir, input, base_flags, p.m->port);
            if (first != nullptr && f0 != base_flags) {
                finish_tcp_segment(first, l3_off, e0.seq, f0);
            }
            rte_pktmbuf_free(p.m);
        }
    } else {
        rte_pktmbuf_free(p.m); // its bytes are held, and it says nothing new
        counters_.add(counter::sip_tcp_segments_held);
    }
    for (unsigned k = 0; k < a.own_count; ++k) {
        rte_mbuf* m = k == 0 ? first : made[k];
        if (m != nullptr) {
            auto* ip = rte_pktmbuf_mtod_offset(m, ipv4_header*, l3_off);
            auto* l4 = reinterpret_cast<std::uint8_t*>(ip) + ihl;
            route_slow(m, ip, true, r, rw, l4, l4_in_first_segment(m, l4, m->pkt_len - l3_off - ihl));
        }
    }
    if (a.back_count != 0) {
        send_back(s, c, dir, a, r);
    }
    return true;
}

// The counters of what one segment did to its stream.
void worker::count_stream(const sip::stream_actions& a) noexcept
{
    if (a.ended != sip::stream_end::none) {
        counters_.add(static_cast<counter>(static_cast<unsigned>(counter::sip_tcp_end_not_sip) + static_cast<unsigned>(a.ended) - 1u));
    }
    if (a.taken_over) {
        counters_.add(counter::sip_tcp_taken_over);
    }
    if (a.answered != 0) {
        counters_.add(counter::sip_responses_sent, a.answered);
    }
    if (a.unanswered != 0) {
        counters_.add(counter::sip_tcp_answers_not_sent, a.unanswered);
    }
    if (a.retransmitted) {
        counters_.add(counter::sip_tcp_retransmitted);
    }
    if (a.refused != 0) {
        counters_.add(counter::sip_tcp_segments_refused);
    }
    if (a.mid_stream) {
        counters_.add(counter::sip_tcp_untracked);
    }
}

// A new mbuf with the headers `hdr` (hdr_len bytes, the IPv4 header at l3_off) and the bytes of emit `e`,
// finished; nullptr (counted) without mbufs.
rte_mbuf* worker::tcp_segment_mbuf(const std::uint8_t* hdr, unsigned hdr_len, unsigned l3_off, const sip::stream_emit& e,
                                   const sip::tcp_stream& c, unsigned dir, const char* input, std::uint8_t flags,
                                   std::uint16_t port) noexcept
{
    rte_mbuf* m = new_chain(pool_, hdr, hdr_len, e.length, [&](std::uint32_t done, std::uint32_t n, char* to) {
        copy_emit(sip_->pool, c, dir, e, input, sip_->actions, done, n, to);
    });
    if (m == nullptr) {
        counters_.add(counter::drop_no_mbuf);
        return nullptr;
    }
    m->port = port;
    m->l2_len = l3_off & 0x7fu;
    m->l3_len = reinterpret_cast<const ipv4_header*>(hdr + l3_off)->header_length() & 0x1ffu;
    finish_tcp_segment(m, l3_off, e.seq, static_cast<std::uint8_t>(flags | (e.fin ? tcp_flag::fin : 0)));
    counters_.add(counter::sip_tcp_segments_made);
    return m;
}

// Sequence number, flags, lengths and checksums of a segment whose bytes are in place (the addresses
// still those before NAT: the session's rewrite follows, incrementally).
void worker::finish_tcp_segment(rte_mbuf* m, unsigned l3_off, std::uint32_t seq, std::uint8_t flags) noexcept
{
    auto* ip = rte_pktmbuf_mtod_offset(m, ipv4_header*, l3_off);
    ip->total_length = be16::from_host(static_cast<std::uint16_t>(m->pkt_len - l3_off));
    set_ipv4_checksum(*ip);
    auto* tcp = reinterpret_cast<tcp_header*>(reinterpret_cast<std::uint8_t*>(ip) + ip->header_length());
    tcp->seq = be32::from_host(seq);
    tcp->flags = flags;
    tcp->checksum = be16{0};
    const auto l4_off = static_cast<std::uint16_t>(l3_off + ip->header_length());
    if (m->nb_segs == 1) {
        // One segment (the usual case): summed as the UDP path sums (sixteen bytes a step), not by
        // DPDK's generic walk of a chain, which adds two bytes at a time.
        const auto l4_len = static_cast<std::uint16_t>(m->pkt_len - l4_off);
        const std::uint64_t sum = csum_partial(tcp, l4_len, pseudo_header_sum(ip->src, ip->dst, ip_proto::tcp, l4_len));
        tcp->checksum = be16{static_cast<std::uint16_t>(~csum_fold(sum))};
        return;
    }
    tcp->checksum = be16{rte_ipv4_udptcp_cksum_mbuf(m, reinterpret_cast<const rte_ipv4_hdr*>(ip), l4_off)};
}

// Segments back to the sender of direction `dir` (the stream acknowledges bytes it took over, or the
// other direction's output goes out as its window opened): made from the connection's addresses as
// they arrive in the other direction, then routed and translated as its packets are.
void worker::send_back(const nat::session& s, const sip::tcp_stream& c, unsigned dir, const sip::stream_actions& a,
                       forward_run& r) noexcept
{
    const unsigned back = dir ^ 1u;
    const flow_key k = back == 0 ? s.key : s.reply_key();
    const bool timestamps = c.dir[0].has_timestamps && c.dir[1].has_timestamps;
    const unsigned thl = sizeof(tcp_header) + (timestamps ? 12u : 0u);
    constexpr unsigned l3_off = sizeof(ether_header);
    std::array<std::uint8_t, sizeof(ether_header) + sizeof(ipv4_header) + 32> hdr{};
    reinterpret_cast<ether_header*>(hdr.data())->type = be16::from_host(ethertype::ipv4); // the route writes the addresses
    auto* ip = reinterpret_cast<ipv4_header*>(hdr.data() + l3_off);
    ip->version_ihl = 0x45;
    ip->ttl = 64;
    ip->protocol = ip_proto::tcp;
    ip->frag = be16::from_host(ipv4_frag::dont_fragment);
    ip->src = k.src;
    ip->dst = k.dst;
    auto* tcp = reinterpret_cast<tcp_header*>(hdr.data() + l3_off + sizeof(ipv4_header));
    tcp->src_port = k.sport;
    tcp->dst_port = k.dport;
    tcp->ack = be32::from_host(a.back_ack);
    tcp->data_offset = static_cast<std::uint8_t>((thl / 4) << 4);
    tcp->window = be16::from_host(a.back_window);
    if (timestamps) {
        // RFC 7323 §3.2: on the other side's behalf, its latest value, echoing the sender's latest.
        std::uint8_t* o = reinterpret_cast<std::uint8_t*>(tcp + 1);
        o[0] = nat::tcp_option::nop;
        o[1] = nat::tcp_option::nop;
        o[2] = nat::tcp_option::timestamps;
        o[3] = 10;
        nat::store_be32(o + 4, c.dir[back].ts_val);
        nat::store_be32(o + 8, c.dir[dir].ts_val);
    }
    const unsigned hdr_len = l3_off + sizeof(ipv4_header) + thl;
    const nat_rewrite* rw = (s.flags & (nat::session_flag::snat | nat::session_flag::dnat)) != 0 ? &s.rewrite[back] : nullptr;
    for (unsigned i = 0; i < a.back_count; ++i) {
        const sip::stream_emit& e = a.back[i];
        const std::uint8_t flags = static_cast<std::uint8_t>(tcp_flag::ack | (e.length != 0 ? tcp_flag::psh : 0));
        rte_mbuf* m = tcp_segment_mbuf(hdr.data(), hdr_len, l3_off, e, c, back, nullptr, flags, 0);
        if (m == nullptr) {
            continue;
        }
        auto* mip = rte_pktmbuf_mtod_offset(m, ipv4_header*, l3_off);
        auto* l4 = reinterpret_cast<std::uint8_t*>(mip) + sizeof(ipv4_header);
        route_slow(m, mip, true, r, rw, l4, l4_in_first_segment(m, l4, m->pkt_len - l3_off - static_cast<unsigned>(sizeof(ipv4_header))));
    }
}

std::size_t worker::sip_connection_bytes() const noexcept
{
    return sip_session_table::bytes_per_entry_of(std::max<std::uint32_t>(opts_.sip_connections, 8));
}

// The engine's registration step (sip::registration_step): a grant opens the registration pinhole
// (ARCHITECTURE.md; FortiOS open-register-pinhole), calls from anywhere reaching the phone's Contact
// through the public address and port it registered from, or refreshes it; a removal closes it.
void worker::commit_registration(const sip::decision& d, const nat::session& s, std::uint32_t index) noexcept
{
    const auto& r = d.registration;
    if (r.step == sip::registration_step::none) {
        return;
    }
    const std::uint8_t proto = s.key.proto;
    const std::uint32_t existing = pinholes_->find_inside(proto, r.at.inside.address, r.at.inside.port);
    const bool is_registration = existing != nat::pinhole_table::none &&
                                 pinholes_->at(existing).kind == nat::pinhole_kind::registration;
    if (r.step == sip::registration_step::remove) {
        if (is_registration) {
            pinholes_->remove(existing);
        }
        return;
    }
    const std::uint32_t until = table_now_ + r.seconds * nat::ticks_per_second;
    if (is_registration) {
        pinholes_->at(existing).expires = until;
        pinholes_->at(existing).parent = index; // the binding follows the session that refreshed it
        pinholes_->at(existing).parent_generation = s.slot_generation;
        return;
    }
    if (existing != nat::pinhole_table::none) {
        return; // the endpoint is a media pinhole's: leave it
    }
    nat::pinhole p;
    p.proto = proto;
    p.kind = nat::pinhole_kind::registration;
    p.inside_address = r.at.inside.address;
    p.inside_port = r.at.inside.port;
    p.public_address = r.at.outside.address;
    p.public_port = r.at.outside.port;
    p.engine = s.engine;
    p.voip_flags = static_cast<std::uint8_t>(s.voip_flags & (nat::voip_flag::ips | nat::voip_flag::rtp));
    p.expires = until;
    p.policy_id = s.policy_id;
    p.voip_profile = s.voip_profile;
    p.parent = index;
    p.parent_generation = s.slot_generation;
    // strict-register: only the registrar (the REGISTER's peer, after any VIP) may use the binding.
    if (r.strict) {
        p.peer = s.rewrite[0].dst.to_host();
    }
    if (pinholes_->insert(p) != nat::pinhole_table::none) {
        counters_.add(counter::registrations_opened);
    }
}

// The ALG's dialog timers, a few calls a millisecond: an answered call with no media session alive is
// idle from when the last one ended (the media sessions end at udp-idle-timer once the phones stop
// sending). call-keepalive ends one idle that long; max-idle-dialogs ends those beyond the first so many
// idle calls of a policy met in one pass over the table. Either closes the call's pinholes.
void worker::sweep_dialogs() noexcept
{
    const auto& limits = snap_->firewall.sip_limits;
    const bool wrapped = calls_->visit(64, [&](std::uint32_t slot, nat::call_entry& c) {
        if (c.engine != nat::sip_engine::alg || c.state != nat::call_state::answered || c.voip_profile < 0 ||
            static_cast<std::size_t>(c.voip_profile) >= limits.size()) {
            return;
        }
        const nat::sip_profile_limits& l = limits[static_cast<std::size_t>(c.voip_profile)];
        if (l.call_keepalive_s == 0 && l.max_idle_dialogs == 0) {
            return;
        }
        bool media = false;
        pinholes_->for_each_in_call(c.key, [&](std::uint32_t, const nat::pinhole& p) {
            media = media || (p.kind == nat::pinhole_kind::media && p.sessions != 0);
        });
        if (media) {
            c.idle_since = 0;
            return;
        }
        if (c.idle_since == 0) {
            c.idle_since = table_now_ == 0 ? 1 : table_now_;
        }
        std::uint32_t& idle = idle_in_pass_[nat::index_hash(c.policy_id) & (idle_in_pass_.size() - 1)];
        ++idle;
        const bool too_long = l.call_keepalive_s != 0 && table_now_ - c.idle_since >= l.call_keepalive_s * nat::ticks_per_second;
        const bool too_many = l.max_idle_dialogs != 0 && idle > l.max_idle_dialogs;
        if (!too_long && !too_many) {
            return;
        }
        counters_.add(too_long ? counter::sip_calls_keepalive_ended : counter::sip_idle_dialogs_ended);
        pinholes_->remove_call(c.key);
        calls_->end(slot, table_now_);
        c.updated = table_now_;
        log_call_end(c, static_cast<std::uint8_t>(too_long ? call_end_reason::keepalive : call_end_reason::idle_dialogs));
        --idle;
    });
    if (wrapped) {
        std::fill(idle_in_pass_.begin(), idle_in_pass_.end(), 0u);
    }
}

// A packet without a session: a pinhole's public endpoint from anywhere (media, or a call to a
// registered phone), or its inside endpoint going anywhere (the phone's own media, seen as the public
// port its SDP announced). The session it makes needs no policy: the SIP session's policy opened it.
bool worker::from_pinhole(pending& p, forward_run& r) noexcept
{
    if (pinholes_->size() == 0 || (p.key.proto != ip_proto::udp && p.key.proto != ip_proto::tcp)) {
        return false;
    }
    bool inbound = true;
    std::uint32_t i = pinholes_->find_public(p.key.proto, p.key.dst.to_host(), p.key.dport.to_host());
    if (i == nat::pinhole_table::none) {
        inbound = false;
        i = outbound_pinhole(p.key);
        if (i == nat::pinhole_table::none) {
            return false;
        }
    }
    const nat::pinhole& ph = pinholes_->at(i);
    if (inbound && ph.peer != 0 && p.key.src.to_host() != ph.peer) {
        counters_.add(counter::pinhole_peer_refused);
        return false; // strict-register: not the registrar
    }
    // Clearing or expiring the SIP session ends what it opened (seed: clearing SIP sessions ends calls).
    if (!sessions_->alive(ph.parent, ph.parent_generation)) {
        pinholes_->remove(i);
        counters_.add(counter::pinholes_orphaned);
        return false;
    }
    if (p.key.proto == ip_proto::tcp && !nat::opens_tcp(p.l4[13])) {
        return false; // the policy path counts it
    }
    flow_key translated = p.key;
    std::uint8_t flags = 0;
    if (inbound && (ph.inside_address != ph.public_address || ph.inside_port != ph.public_port)) {
        translated.dst = be32::from_host(ph.inside_address);
        translated.dport = be16::from_host(ph.inside_port);
        flags |= nat::session_flag::dnat;
    } else if (!inbound && (ph.inside_address != ph.public_address || ph.inside_port != ph.public_port)) {
        translated.src = be32::from_host(ph.public_address);
        translated.sport = be16::from_host(ph.public_port);
        flags |= nat::session_flag::snat;
    }
    std::uint32_t index = 0;
    if (rte_lpm_lookup(snap_->lpm, translated.dst.to_host(), &index) != 0 ||
        snap_->nexthops[index].kind > nexthop_kind::gateway) {
        return false;
    }
    const nat::session_state state = nat::initial_state(p.key.proto);
    const auto insert = [&] {
        return sessions_->insert(p.key, translated.reversed(), translated, state, table_now_,
                                 timeout_ticks_[static_cast<unsigned>(state)]);
    };
    auto ins = insert();
    // The other direction may still hold an older session of the endpoint (a stream resumed or moved
    // back to the same port): see clear_way_for_pinhole.
    if (ins.error == nat::session_table::insert_error::exists && clear_way_for_pinhole(translated.reversed())) {
        ins = insert();
    }
    if (ins.error != nat::session_table::insert_error::none) {
        return false;
    }
    nat::session& s = sessions_->at(ins.index);
    const interface_rt* in = snap_->interface_on(p.m->port);
    s.policy_id = ph.policy_id;
    s.generation = generation_;
    s.flags |= flags;
    s.in_interface = in != nullptr ? in->index : 0;
    s.out_interface = snap_->nexthops[index].interface;
    s.engine = ph.engine;
    s.voip_profile = ph.voip_profile;
    // Media lives and dies with its call's pinhole; a call to a registered phone outlives the binding.
    s.voip_flags = static_cast<std::uint8_t>(ph.voip_flags | (ph.kind == nat::pinhole_kind::media ? nat::voip_flag::child : 0));
    s.pinhole = i;
    s.pinhole_generation = ph.generation;
    if (ph.kind == nat::pinhole_kind::media) {
        ++pinholes_->at(i).sessions; // (forget_session counts it out)
    }
    // (Its public port is the pinhole's, held by the pinhole while it is open: a session made from a
    // pinhole is not counted in the port ledger, so that the media of ended calls, which lingers until
    // its next packet or its timeout, does not keep ports from new calls.)
    if (ph.kind == nat::pinhole_kind::contact) {
        s.voip_flags |= nat::voip_flag::call_of_parent;
        s.pinhole = ph.parent;
        s.pinhole_generation = ph.parent_generation;
    }
    s.packets[0] = 1;
    s.bytes[0] = p.ip->total_length.to_host();
    s.policy_slot = static_cast<std::uint16_t>(policy_counters_->slot_of(s.policy_id));
    policy_counters_->opened(s.policy_slot, now_);
    policy_counters_->count(s.policy_slot, 0, p.ip->total_length.to_host());
    counters_.add(counter::sessions_created);
    counters_.add(counter::pinhole_sessions);
    if (s.engine != nat::sip_engine::none && sip_packet(p, s, ins.index, 0, r)) {
        return true;
    }
    route_slow(p.m, p.ip, p.plain, r, (flags != 0) ? &s.rewrite[0] : nullptr, p.l4, p.l4_len);
    return true;
}

// The pinhole an inside endpoint's packet to `k.dst` leaves through: of the endpoint's pinholes (a phone
// with one media port in several calls has one per call), the one whose call's far end is where the
// packet goes (its SDP's c= and m=), else one whose far end is not known yet, the newest first.
std::uint32_t worker::outbound_pinhole(const flow_key& k) noexcept
{
    const ipv4_address dst = k.dst.to_host();
    const std::uint16_t dport = k.dport.to_host();
    std::uint32_t best = nat::pinhole_table::none;
    int best_score = -1;
    std::uint32_t best_stamp = 0;
    pinholes_->find_inside_if(k.proto, k.src.to_host(), k.sport.to_host(), [&](const nat::pinhole& ph) {
        const int score = ph.remote_address == dst ? (ph.remote_port == dport ? 3 : 2) : ph.remote_address == 0 ? 1 : 0;
        if (score > best_score || (score == best_score && static_cast<std::int32_t>(ph.stamp - best_stamp) > 0)) {
            best = pinholes_->index_of(ph);
            best_score = score;
            best_stamp = ph.stamp;
        }
        return false; // look at every one
    });
    return best;
}

// The session `k` names stands where a pinhole's new session goes. It ends when it is media whose
// pinhole has closed, or a policy's UDP session that the inside endpoint started itself: the phone
// went on sending while its stream was held, and that endpoint is the call's media again. Whether it
// ended.
bool worker::clear_way_for_pinhole(const flow_key& k) noexcept
{
    const nat::session_ref ref = sessions_->find(k);
    if (!ref.found()) {
        return false;
    }
    const nat::session& s = sessions_->at(ref.index);
    const bool child = (s.voip_flags & nat::voip_flag::child) != 0;
    if (child ? pinhole_open(s) : (s.engine != nat::sip_engine::none || s.key.proto != ip_proto::udp || ref.dir != 0)) {
        return false;
    }
    end_session(ref.index, log_session_end::closed);
    counters_.add(child ? counter::media_sessions_closed : counter::sessions_taken_by_pinhole);
    return true;
}

// A child session lives while its pinhole does, and the pinhole while the SIP session that opened it:
// the call's end, or clearing its SIP session, closes its media too.
bool worker::pinhole_open(const nat::session& s) noexcept
{
    if (!pinholes_->alive(s.pinhole, s.pinhole_generation)) {
        return false;
    }
    const nat::pinhole& ph = pinholes_->at(s.pinhole);
    if (!sessions_->alive(ph.parent, ph.parent_generation)) {
        pinholes_->remove(s.pinhole);
        counters_.add(counter::pinholes_orphaned);
        return false;
    }
    return true;
}

} // namespace sipalg::dp
