// See worker.hpp. The per-packet path is rx_burst -> classify -> accept_ipv4 -> route, which collects
// forwarded frames in runs for the TX batches; everything else (ARP, local delivery, ICMP errors,
// fragments, unresolved next hops) branches off it as an exception.
#include "dataplane/worker.hpp"
#include "dataplane/sip_state.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lpm.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <algorithm>
#include <cstring>
#include <ctime>

namespace sipalg::dp {

namespace {

constexpr unsigned prefetch_ahead = 8;
constexpr std::size_t eth_len = sizeof(ether_header);
constexpr unsigned max_fragments = 64;
// RFC 1812 §4.3.2.3: an ICMP error carries as much of the original datagram as fits in 576 bytes.
constexpr std::size_t icmp_quote_max = 576 - sizeof(ipv4_header) - sizeof(icmp_header);
constexpr std::uint8_t default_ttl = 64;

inline mac_words words_of(const mac_address& m) noexcept
{
    mac_words w;
    std::memcpy(&w.head, m.data(), 4);
    std::memcpy(&w.tail, m.data() + 4, 2);
    return w;
}

inline bool mac_is(const mac_address& a, mac_words b) noexcept
{
    const mac_words w = words_of(a);
    return ((w.head ^ b.head) | static_cast<std::uint32_t>(w.tail ^ b.tail)) == 0;
}

inline ether_header* eth_of(rte_mbuf* m) noexcept
{
    return rte_pktmbuf_mtod(m, ether_header*);
}

// rte_ip_frag reads the header lengths from these mbuf bit-fields.
inline void set_header_lengths(rte_mbuf* m, unsigned ipv4_header_length) noexcept
{
    m->l2_len = eth_len;
    m->l3_len = ipv4_header_length & 0x1ffu;
}

constexpr be16 be(std::uint16_t v) noexcept
{
    return be16::from_host(v);
}

// RFC 1812 §4.3.2.7 (with RFC 792): never answer an ICMP error with an ICMP error.
inline bool is_icmp_error(const ipv4_header& ip, const rte_mbuf* m) noexcept
{
    if (ip.protocol != ip_proto::icmp) {
        return false;
    }
    const std::size_t off = eth_len + ip.header_length();
    if (m->data_len < off + 1) {
        return true; // cannot tell: stay silent
    }
    return is_icmp_error_type(*rte_pktmbuf_mtod_offset(m, const std::uint8_t*, off));
}

} // namespace

// On the per-packet path of every forwarded packet: inlined.
[[gnu::always_inline]] inline void worker::send(rte_mbuf* m, std::uint16_t port) noexcept
{
    const std::int16_t q = tx_queue_[port];
    if (q < 0) [[unlikely]] {
        handoff(m, tx_owner_[port], handoff_kind::transmit, port);
        return;
    }
    tx_batch& b = tx_[port];
    b.pkts[b.n++] = m;
    tx_dirty_ |= std::uint64_t{1} << port;
    if (b.n == tx_batch_size) [[unlikely]] {
        flush_tx(port);
    }
}

void worker::send_run(rte_mbuf* const* pkts, unsigned n, std::uint16_t port) noexcept
{
    if (tx_queue_[port] < 0) [[unlikely]] {
        for (unsigned i = 0; i < n; ++i) {
            handoff(pkts[i], tx_owner_[port], handoff_kind::transmit, port);
        }
        return;
    }
    tx_batch& b = tx_[port];
    while (n != 0) {
        const unsigned k = std::min<unsigned>(n, tx_batch_size - b.n);
        std::copy_n(pkts, k, b.pkts.data() + b.n);
        b.n = static_cast<std::uint16_t>(b.n + k);
        pkts += k;
        n -= k;
        if (b.n == tx_batch_size) {
            flush_tx(port);
        }
    }
    if (b.n != 0) {
        tx_dirty_ |= std::uint64_t{1} << port;
    }
}

worker_result worker::create(const worker_setup& setup)
{
    worker_result r;
    std::unique_ptr<worker> w(new worker(setup));
    const std::uint32_t bucket_entries = 16;
    const std::uint32_t buckets = std::max<std::uint32_t>(1, setup.opts.frag_entries / bucket_entries);
    const std::uint64_t frag_cycles = rte_get_tsc_hz() / 1000 * setup.opts.frag_timeout_ms;
    w->frag_ = rte_ip_frag_table_create(buckets, bucket_entries, setup.opts.frag_entries, frag_cycles,
                                        static_cast<int>(setup.socket));
    if (w->frag_ == nullptr) {
        r.error = "cannot create the reassembly table; give the EAL more memory (-m) or lower --frag-entries";
        return r;
    }
    w->sessions_ = nat::session_table::create(setup.opts.sessions);
    w->pinholes_ = std::make_unique<nat::pinhole_table>(std::max<std::uint32_t>(setup.opts.pinholes, 8));
    w->calls_ = std::make_unique<nat::call_table>(std::max<std::uint32_t>(setup.opts.pinholes / 2, 8), setup.policy_calls);
    w->meters_ = setup.meters;
    w->sip_stats_ = std::make_unique<nat::sip_policy_stats>();
    w->policy_counters_ = std::make_unique<nat::policy_counters>();
    w->log_ = setup.log;
    w->idle_in_pass_.assign(1024, 0); // a power of two: policies hashed into it
    w->transactions_ = std::make_unique<nat::transaction_table>(std::max<std::uint32_t>(setup.opts.pinholes, 8));
    w->ports_ = std::make_unique<nat::port_ledger>(nat_port_first, 65536u - nat_port_first);
    w->sip_ = std::make_unique<sip_state>(setup.opts);
    if (w->sessions_ == nullptr) {
        r.error = "cannot map the session table; lower --sessions";
        return r;
    }
    r.w = std::move(w);
    return r;
}

worker::worker(const worker_setup& setup)
    : id_(setup.id),
      workers_(setup.workers),
      handoff_field_(setup.handoff_field),
      tx_queue_(setup.tx_queue),
      tx_owner_(setup.tx_owner),
      handoff_out_(setup.workers),
      neigh_(setup.opts.arp_entries, setup.opts.arp_hold,
             neighbour_table::timing{rte_get_tsc_hz() * setup.opts.arp_timeout_s, rte_get_tsc_hz(), 3}),
      rx_queues_(setup.rx_queues),
      pool_(setup.pool),
      indirect_pool_(setup.indirect_pool),
      snapshots_(setup.snapshots),
      stop_(setup.stop),
      opts_(setup.opts),
      tsc_hz_(rte_get_tsc_hz())
{
    // Choose once (STYLE.md item 12): with one worker nothing is ever steered.
    rx_fn_ = workers_ > 1 ? &worker::rx_burst<true> : &worker::rx_burst<false>;
    tick_cycles_ = std::max<std::uint64_t>(1, tsc_hz_ / 1000);
    icmp_credit_ = std::uint64_t{opts_.icmp_rate} * 1000;
    port_span_ = static_cast<std::uint16_t>((65536u - nat_port_first) / workers_);
    clock_mul_ = (std::uint64_t{nat::ticks_per_second} * std::max<std::uint32_t>(1, opts_.session_time_scale) << 32) / tsc_hz_;
    for (unsigned other = 0; other < workers_; ++other) {
        if (other != id_ && setup.rings != nullptr) {
            rings_in_.push_back(setup.rings->ring(other, id_));
        }
        rings_out_.push_back(other != id_ && setup.rings != nullptr ? setup.rings->ring(id_, other) : nullptr);
    }
}

worker::~worker()
{
    if (frag_ != nullptr) {
        rte_ip_frag_table_destroy(frag_);
    }
}

worker_activity worker::activity() const noexcept
{
    return {last_active_.load(std::memory_order_relaxed), idle_loops_.load(std::memory_order_relaxed),
            held_published_.load(std::memory_order_relaxed)};
}

int worker::run() noexcept
{
    rte_rcu_qsbr* q = snapshots_->qsbr();
    rte_rcu_qsbr_thread_register(q, id_);
    rte_rcu_qsbr_thread_online(q, id_);
    now_ = rte_rdtsc();
    last_tick_ = now_;
    next_tick_ = now_ + tick_cycles_;
    // The session clock starts at one second, so that no expiry time is zero.
    clock_start_ = now_ - tsc_hz_ / std::max<std::uint32_t>(1, opts_.session_time_scale);
    update_clock();
    last_active_.store(now_, std::memory_order_relaxed);
    std::array<rte_mbuf*, burst_size> pkts;
    std::uint64_t idle = 0;

    while (!stop_->load(std::memory_order_relaxed)) {
        now_ = rte_rdtsc();
        if (const snapshot* s = snapshots_->current(); s != snap_) [[unlikely]] {
            adopt(s);
        }
        unsigned work = 0;
        for (rte_ring* r : rings_in_) {
            const unsigned n = rte_ring_sc_dequeue_burst(r, reinterpret_cast<void**>(pkts.data()), burst_size, nullptr);
            if (n != 0) {
                work += n;
                handoff_burst(pkts.data(), n);
            }
        }
        for (const auto& rq : rx_queues_) {
            const std::uint16_t n = rte_eth_rx_burst(rq.port, rq.queue, pkts.data(), burst_size);
            if (n != 0) {
                work += n;
                (this->*rx_fn_)(pkts.data(), n, rq.port);
            }
        }
        flush_all();
        if (death_row_.cnt != 0) {
            rte_ip_frag_free_death_row(&death_row_, 3);
        }
        if (now_ >= next_tick_) [[unlikely]] {
            tick();
        }
        if (work != 0) {
            if (idle != 0) {
                idle = 0;
                idle_loops_.store(0, std::memory_order_relaxed);
            }
            last_active_.store(now_, std::memory_order_relaxed);
            counters_.add(counter::busy_cycles, rte_rdtsc() - now_);
        } else {
            idle_loops_.store(++idle, std::memory_order_relaxed);
            if (opts_.idle_sleep_us != 0 && idle > 64) {
                rte_delay_us_sleep(opts_.idle_sleep_us);
            }
        }
        rte_rcu_qsbr_quiescent(q, id_);
    }
    shutdown();
    rte_rcu_qsbr_thread_offline(q, id_);
    rte_rcu_qsbr_thread_unregister(q, id_);
    return 0;
}

void worker::shutdown() noexcept
{
    while (query_.load(std::memory_order_acquire) != nullptr) {
        serve_query(); // the control core may be waiting for it
    }
    flush_all();
    neigh_.clear([this](rte_mbuf* m) { drop(m, counter::drop_shutdown); });
    held_published_.store(0, std::memory_order_relaxed);
    if (death_row_.cnt != 0) {
        rte_ip_frag_free_death_row(&death_row_, 0);
    }
}

void worker::adopt(const snapshot* s) noexcept
{
    snap_ = s;
    // Sessions checked against an older generation are checked again at their next packet.
    generation_ = static_cast<std::uint32_t>(s->generation);
    for (unsigned st = 0; st < timeout_ticks_.size(); ++st) {
        timeout_ticks_[st] = nat::timeout_of(static_cast<nat::session_state>(st), s->timeouts) * nat::ticks_per_second;
    }
    next_schedule_check_ = 0;
    // SIP's share of this worker's NAT ports ends here (sip-nat-port-reserve keeps the rest).
    const unsigned lo = nat_port_first + id_ * port_span_;
    const unsigned hi = id_ + 1 == workers_ ? 65536u : lo + port_span_;
    sip_ports_end_ = hi - (hi - lo) * std::min<unsigned>(s->firewall.sip_global.port_reserve_percent, 100) / 100;
    // Static neighbours of config system arp-table.
    for (const auto& n : s->neighbours) {
        const auto port = s->interfaces[n.interface].port;
        const auto r = neigh_.set_fixed(port, n.address, n.mac);
        release(r.release, port, n.mac);
    }
}

void worker::tick() noexcept
{
    const std::uint64_t elapsed_ms = (now_ - last_tick_) / tick_cycles_;
    last_tick_ = now_;
    next_tick_ = now_ + tick_cycles_;
    icmp_credit_ = std::min<std::uint64_t>(icmp_credit_ + elapsed_ms * opts_.icmp_rate,
                                           std::uint64_t{opts_.icmp_rate} * 1000);
    // A full sweep of the neighbour table about once a second.
    const std::uint32_t budget =
        static_cast<std::uint32_t>(std::max<std::uint64_t>(1, neigh_.capacity() * std::max<std::uint64_t>(1, elapsed_ms) / 1000));
    neigh_.age(now_, budget,
               [this](neighbour_table::aging_action a, std::uint16_t port, ipv4_address ip, const mac_address&,
                      std::span<rte_mbuf* const> dropped) {
                   switch (a) {
                   case neighbour_table::aging_action::request:
                       send_arp_request(port, ip);
                       break;
                   case neighbour_table::aging_action::expired:
                       counters_.add(counter::arp_expired);
                       break;
                   case neighbour_table::aging_action::failed:
                       for (rte_mbuf* m : dropped) {
                           drop(m, counter::drop_arp_unresolved);
                       }
                       break;
                   }
               });
    held_published_.store(neigh_.held_packets(), std::memory_order_relaxed);
    const std::uint32_t before = death_row_.cnt;
    rte_ip_frag_table_del_expired_entries(frag_, &death_row_, now_);
    counters_.add(counter::drop_frag_failed, death_row_.cnt - before);
    if (death_row_.cnt != 0) {
        rte_ip_frag_free_death_row(&death_row_, 3);
    }
    update_clock();
    // Expiry: the wheel is visited every millisecond, a bounded number of sessions at a time.
    const unsigned expired = sessions_->expire(table_now_, 4096, [this](std::uint32_t i) {
        forget_session(sessions_->at(i), i, log_session_end::expired);
    });
    counters_.add(counter::sessions_expired, expired);
    // Pinholes and calls time out in seconds: a pass over either table in about a second is enough,
    // and each slot visited is a cache line the packets' own work then misses.
    if (pinholes_->size() != 0) {
        counters_.add(counter::pinholes_expired, pinholes_->expire(table_now_, 64));
    }
    // Ended calls stay listed for 32 s; a call nothing was heard of for the session TTL goes.
    sip_->sessions.sweep(64, [this](std::uint32_t session, std::uint16_t generation) { return sessions_->alive(session, generation); });
    // An INVITE not answered within provisional-invite-expiry-time ends its call and closes its pinholes.
    if (calls_->size() != 0) {
        calls_->expire(table_now_, 32 * nat::ticks_per_second, timeout_ticks_[static_cast<unsigned>(nat::session_state::other)], 64,
                       [this](nat::call_entry& c) {
                           counters_.add(counter::sip_invites_expired);
                           log_call_end(c, static_cast<std::uint8_t>(call_end_reason::invite_expired));
                           if (pinholes_->remove_call(c.key) != 0) {
                               counters_.add(counter::sip_calls_ended);
                           }
                       });
    }
    if (calls_->size() != 0 && snap_->firewall.sip_dialog_timers) {
        sweep_dialogs();
    }
    if (now_ >= next_schedule_check_ && !snap_->firewall.schedules.empty()) {
        // Which recurring schedules are in their window, once a second, in local time as FortiOS: the
        // zone's rules (loaded once by the C library, no system call after) each time, so a change to or
        // from daylight saving time moves the windows as it happens.
        next_schedule_check_ = now_ + tsc_hz_;
        const std::time_t t = std::time(nullptr);
        std::tm local{};
        localtime_r(&t, &local);
        const auto weekday = static_cast<unsigned>(local.tm_wday);
        const auto minute = static_cast<unsigned>(local.tm_hour * 60 + local.tm_min);
        nat::schedule_set active;
        for (std::size_t i = 0; i < snap_->firewall.schedules.size(); ++i) {
            if (snap_->firewall.schedules[i].active(weekday, minute)) {
                active.set(i);
            }
        }
        active_schedules_ = active;
    }
    if (query_.load(std::memory_order_acquire) != nullptr) {
        serve_query();
    }
    sessions_active_.store(sessions_->size(), std::memory_order_relaxed);
    pinholes_active_.store(pinholes_->size(), std::memory_order_relaxed);
    flush_all();
}

// Hands the frames of the current run to the port's TX batch. Called before any slow path, which may
// transmit on its own, so the frames of one flow stay in order.
[[gnu::always_inline]] inline void worker::flush_run(forward_run& r) noexcept
{
    if (r.n != r.start) {
        send_run(&r.out[r.start], r.n - r.start, r.port);
        r.start = r.n;
    }
}

void worker::finish(forward_run& r) noexcept
{
    flush_run(r);
    counters_.add(counter::forwarded, r.n);
}

// The route stage of one IPv4 packet (RFC 1812 §5.2.4): longest-prefix match on the destination the
// session's rewrite gives, then the common case in one block: a forwarding next hop, a unicast frame
// with TTL left (§5.3.4: link-layer broadcasts are not forwarded), within the MTU, the neighbour known;
// the rewrite is applied there. Everything else leaves through route_exception, still untranslated, so
// an ICMP error quotes the packet as its sender sent it.
[[gnu::always_inline]] inline void worker::route(rte_mbuf* m, ipv4_header* ip, bool plain, forward_run& r,
                                                const nat_rewrite* rw, std::uint8_t* l4, std::uint16_t l4_len) noexcept
{
    const ipv4_address dst = (rw != nullptr ? rw->dst : ip->dst).to_host();
    std::uint32_t index = 0;
    if (rte_lpm_lookup(r.lpm, dst, &index) != 0) [[unlikely]] {
        flush_run(r);
        icmp_error(m, ip, icmp_type::dest_unreachable, icmp_code::net_unreachable, 0);
        drop(m, counter::drop_no_route);
        return;
    }
    const nexthop_rt& hop = r.nexthops[index];
    if (hop.kind <= nexthop_kind::gateway && plain && ip->total_length.to_host() <= hop.mtu) [[likely]] {
        const ipv4_address via = hop.gateway != 0 ? hop.gateway : dst;
        const std::uint64_t key = std::uint64_t{hop.port} << 32 | via;
        if (key != r.key) [[unlikely]] {
            const mac_address* mac = neigh_.resolve(hop.port, via);
            if (mac == nullptr) [[unlikely]] {
                flush_run(r);
                if (rw != nullptr) {
                    apply_rewrite(*ip, l4, l4_len, *rw);
                }
                forward(m, ip, hop, dst); // holds it while resolving
                return;
            }
            if (hop.port != r.port) {
                flush_run(r);
            }
            r.key = key;
            r.port = hop.port;
            std::array<std::uint8_t, 12> addrs;
            std::copy(mac->begin(), mac->end(), addrs.begin());
            std::copy(snap_->mac_of_port[hop.port].begin(), snap_->mac_of_port[hop.port].end(), addrs.begin() + 6);
            std::memcpy(&r.head, addrs.data(), 8);
            std::memcpy(&r.tail, addrs.data() + 8, 4);
        }
        if (rw != nullptr) {
            apply_rewrite(*ip, l4, l4_len, *rw);
        }
        decrement_ttl(*ip);
        auto* eth = reinterpret_cast<std::uint8_t*>(ip) - eth_len;
        std::memcpy(eth, &r.head, 8);
        std::memcpy(eth + 8, &r.tail, 4);
        r.out[r.n++] = m;
        return;
    }
    flush_run(r);
    route_exception(m, ip, hop, dst, rw, l4, l4_len);
}

void worker::route_slow(rte_mbuf* m, ipv4_header* ip, bool plain, forward_run& r, const nat_rewrite* rw,
                        std::uint8_t* l4, std::uint16_t l4_len) noexcept
{
    route(m, ip, plain, r, rw, l4, l4_len);
}

// An IPv4 packet this worker owns: reassembled first when it is a fragment (fragments go to the
// source's worker, since only the first carries ports; the whole datagram then goes to its owner),
// then its flow key taken for the session stage of the burst.
template <bool Steer>
[[gnu::always_inline]] inline void worker::accept_ipv4(rte_mbuf* m, ipv4_header* ip, bool unicast_frame,
                                                      handoff_kind kind, pending_batch& b) noexcept
{
    if (is_fragment(*ip)) [[unlikely]] {
        set_header_lengths(m, ip->header_length()); // rte_ip_frag reads them
        m = reassemble(m, ip);
        if (m == nullptr) {
            return;
        }
        ip = rte_pktmbuf_mtod_offset(m, ipv4_header*, m->l2_len);
        if constexpr (Steer) {
            const unsigned owner = owner_of(*ip, m);
            if (owner != id_) {
                handoff(m, owner, handoff_kind::ipv4, 0);
                return;
            }
        }
    }
    const unsigned ihl = ip->header_length();
    const std::uint16_t total = ip->total_length.to_host();
    pending& p = b.p[b.n];
    p.m = m;
    p.ip = ip;
    p.l4 = reinterpret_cast<std::uint8_t*>(ip) + ihl;
    // What the first segment holds of the L4 header (a reassembled datagram is a chain).
    p.l4_len = static_cast<std::uint16_t>(std::min<unsigned>(total - ihl, m->data_len - static_cast<unsigned>(eth_len) - ihl));
    p.kind = kind;
    p.plain = unicast_frame && ip->ttl > 1;
    p.icmp_error = false;
    p.key.src = ip->src;
    p.key.dst = ip->dst;
    p.key.proto = ip->protocol;
    std::memset(p.key.pad, 0, sizeof p.key.pad);
    if (ip->protocol == ip_proto::udp || ip->protocol == ip_proto::tcp) [[likely]] {
        if (p.l4_len < (ip->protocol == ip_proto::udp ? sizeof(udp_header) : 20u)) [[unlikely]] {
            drop(m, counter::drop_l4_truncated);
            return;
        }
        std::memcpy(&p.key.sport, p.l4, 4);
    } else if (!flow_key_of_other(p)) {
        return;
    }
    ++b.n;
}

template <bool Steer>
void worker::rx_burst(rte_mbuf** pkts, unsigned n, std::uint16_t port) noexcept
{
    counters_.add(counter::rx_packets, n);
    const interface_rt* itf = snap_->interface_on(port);
    if (itf == nullptr) [[unlikely]] {
        for (unsigned i = 0; i < n; ++i) {
            drop(pkts[i], counter::drop_no_interface);
        }
        return;
    }
    // The mbufs themselves first, all of the burst: where the packet's data is (read below, eight
    // packets ahead) is in the mbuf, whose line was last written by whoever filled it (the PMD, or
    // another core through a ring) and otherwise waits to be read, one packet at a time.
    for (unsigned i = prefetch_ahead; i < n; ++i) {
        rte_prefetch0(pkts[i]);
    }
    for (unsigned i = 0; i < n && i < prefetch_ahead; ++i) {
        rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
    }
    const mac_words ours = words_of(itf->mac);
    forward_run r(*snap_);
    pending_batch b;
    // diagnose sniffer packet: each packet as it arrived, when its mbuf and headers have been asked for.
    // Whether this port is watched is asked once a burst; each packet then costs its two bytes.
    sniffer* sn = sniffer_.load(std::memory_order_acquire);
    if (sn != nullptr && !sn->wants(port)) {
        sn = nullptr;
    }
    for (unsigned i = 0; i < n; ++i) {
        if (i + prefetch_ahead < n) {
            rte_prefetch0(rte_pktmbuf_mtod(pkts[i + prefetch_ahead], void*));
        }
        if (sn != nullptr && sn->may_take(rte_pktmbuf_mtod(pkts[i], const std::uint8_t*), pkts[i]->data_len)) [[unlikely]] {
            sniff(*sn, pkts[i], port, false);
        }
        // Later stages (and other workers, after a handoff) read the arrival port from the mbuf; not
        // every PMD stamps it (net_ring does not), and this is the port just polled.
        pkts[i]->port = port;
        classify<Steer>(pkts[i], *itf, ours, b, r);
    }
    session_stage(b, r);
    finish(r);
}

// L2 and IPv4 checks of one received frame (RFC 1812 §5.2.2). IPv4 this worker owns goes on to the
// session stage; IPv4 for another worker is handed over; ARP is handled here; the rest is dropped.
template <bool Steer>
[[gnu::always_inline]] inline void worker::classify(rte_mbuf* m, const interface_rt& itf, mac_words ours,
                                                   pending_batch& b, forward_run& r) noexcept
{
    // Receive queues are set up without scatter, so a chain here is rare; the parsers below want the
    // headers contiguous.
    if (m->nb_segs != 1 && rte_pktmbuf_linearize(m) != 0) [[unlikely]] {
        drop(m, counter::drop_l2_truncated);
        return;
    }
    if (m->data_len < eth_len) [[unlikely]] {
        drop(m, counter::drop_l2_truncated);
        return;
    }
    ether_header* eth = eth_of(m);
    const bool group = (eth->dst[0] & 1u) != 0;
    if (!group && !mac_is(eth->dst, ours)) [[unlikely]] {
        drop(m, counter::drop_l2_other_host);
        return;
    }
    if (eth->type == be(ethertype::ipv4)) [[likely]] {
        auto* ip = reinterpret_cast<ipv4_header*>(eth + 1);
        const std::uint32_t l3_len = m->pkt_len - static_cast<std::uint32_t>(eth_len);
        const ipv4_check chk = check_ipv4(ip, l3_len);
        if (chk.error != ipv4_error::ok) [[unlikely]] {
            drop(m, ipv4_drop_counter(chk.error));
            return;
        }
        if (l3_len != chk.total_length) [[unlikely]] {
            rte_pktmbuf_trim(m, static_cast<std::uint16_t>(l3_len - chk.total_length)); // link-layer padding
        }
        if constexpr (Steer) {
            const unsigned owner = owner_of(*ip, m);
            if (owner != id_) {
                handoff(m, owner, handoff_kind::ipv4, 0);
                return;
            }
        }
        accept_ipv4<Steer>(m, ip, !group, handoff_kind::ipv4, b);
        return;
    }
    flush_run(r);
    if (eth->type == be(ethertype::arp)) {
        handle_arp(m, itf, false);
        return;
    }
    drop(m, counter::drop_l2_unsupported);
}

// The session stage of a burst: hash every key and prefetch its bucket, then look at the first
// candidate of each bucket and prefetch its session, then verify and act; by the time a packet is
// looked at, its bucket and session lines have been on their way for the rest of the burst.
void worker::session_stage(pending_batch& b, forward_run& r) noexcept
{
    const unsigned n = b.n;
    for (unsigned i = 0; i < n; ++i) {
        b.p[i].hash = nat::session_table::hash(b.p[i].key);
        sessions_->prefetch_bucket(b.p[i].hash);
    }
    for (unsigned i = 0; i < n; ++i) {
        b.p[i].candidate = sessions_->candidate(b.p[i].hash);
    }
    // A SIP/TCP segment's stream entry (sip_tcp) is found by its session's slot in an index as large as
    // the session table: its position is fetched two packets ahead, the entry one ahead. Only TCP
    // packets whose first guess of a session is one of a SIP engine look at it; each packet is looked
    // at once, two ahead, and what it said is kept for the step after.
    const auto sip_stream_of = [this, &b, n](unsigned k) {
        if (k >= n || b.p[k].key.proto != ip_proto::tcp || b.p[k].candidate == nat::no_index) {
            return nat::no_index;
        }
        const std::uint32_t index = b.p[k].candidate >> 1;
        return sessions_->at(index).engine != nat::sip_engine::none ? index : nat::no_index;
    };
    std::uint32_t next_stream = sip_stream_of(1); // packet i + 1's
    for (unsigned i = 0; i < n; ++i) {
        const std::uint32_t later_stream = sip_stream_of(i + 2);
        if (later_stream != nat::no_index) {
            sip_->sessions.prefetch_position(later_stream);
        }
        if (next_stream != nat::no_index) {
            sip_->sessions.prefetch(next_stream);
        }
        next_stream = later_stream;
        if (i + 1 < n) {
            // The next packet's lines beyond its first (which rx_burst prefetched), up to 2 KiB: a SIP
            // message is a dozen of them, and its parse would otherwise wait on each in turn (written by
            // the NIC, or another core, they are in no cache of this one). One packet ahead: a SIP
            // message's translation takes thousands of cycles; a short packet costs a prefetch or two.
            const pending& q = b.p[i + 1];
            const auto* start = reinterpret_cast<const std::uint8_t*>(q.ip);
            const auto* end = rte_pktmbuf_mtod(q.m, const std::uint8_t*) + q.m->data_len;
            const std::uint8_t* last = std::min(end, start + std::min<unsigned>(q.ip->total_length.to_host(), 2048));
            for (const std::uint8_t* line = start + 64; line < last; line += 64) {
                rte_prefetch0(line);
            }
        }
        pending& p = b.p[i];
        const nat::session_ref ref = sessions_->find(p.key, p.hash, p.candidate);
        if (ref.found() && !p.icmp_error) [[likely]] {
            session_hit(p, ref, r);
        } else if (ref.found()) {
            flush_run(r);
            translate_icmp_error(p, ref, r);
        } else {
            flush_run(r);
            session_miss(p, r);
        }
    }
}

// A packet of a known session: the policy still allows it (checked again after a configuration
// change), the TCP state and the expiry move on, the statistics count it, and it leaves rewritten.
[[gnu::always_inline]] inline void worker::session_hit(pending& p, nat::session_ref ref, forward_run& r) noexcept
{
    nat::session& s = sessions_->at(ref.index);
    if (s.generation != generation_) [[unlikely]] {
        if (!revalidate(s)) {
            flush_run(r);
            end_session(ref.index, log_session_end::policy_gone);
            drop(p.m, counter::drop_policy_gone);
            return;
        }
    }
    if (s.key.proto == ip_proto::tcp) {
        const nat::tcp_step step = nat::tcp_next(s.state, s.flags, ref.dir, p.l4[13]);
        s.state = step.state;
        s.flags = step.flags;
    }
    s.expires = table_now_ + timeout_ticks_[static_cast<unsigned>(s.state)];
    s.packets[ref.dir] += 1;
    s.bytes[ref.dir] += p.ip->total_length.to_host();
    policy_counters_->count(s.policy_slot, ref.dir, p.ip->total_length.to_host());
    // A session without NAT rewrites nothing: its packets skip the rewrite altogether.
    const bool nat = (s.flags & (nat::session_flag::snat | nat::session_flag::dnat)) != 0;
    if ((s.engine != nat::sip_engine::none) | ((s.voip_flags & nat::voip_flag::child) != 0)) [[unlikely]] {
        // Media stays on the fast path while its call's pinhole is open; SIP goes through its engine.
        // A closed pinhole ends the session, and the packet goes on as one without a session would: a
        // pinhole opened since for the same endpoint (a resumed or moved stream) or a policy takes it.
        if ((s.voip_flags & nat::voip_flag::child) != 0 && !pinhole_open(s)) {
            flush_run(r);
            end_session(ref.index, log_session_end::closed);
            counters_.add(counter::media_sessions_closed);
            session_miss(p, r);
            return;
        }
        if (s.engine != nat::sip_engine::none) {
            flush_run(r);
            if (!sip_packet(p, s, ref.index, ref.dir, r)) {
                route_slow(p.m, p.ip, p.plain, r, nat ? &s.rewrite[ref.dir] : nullptr, p.l4, p.l4_len);
            }
            return;
        }
    }
    route(p.m, p.ip, p.plain, r, nat ? &s.rewrite[ref.dir] : nullptr, p.l4, p.l4_len);
}

void worker::handoff_burst(rte_mbuf** pkts, unsigned n) noexcept
{
    counters_.add(counter::handoff_in, n);
    forward_run r(*snap_);
    pending_batch b;
    for (unsigned i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        const handoff_meta meta = handoff_of(m, handoff_field_);
        switch (meta.kind) {
        case handoff_kind::ipv4:
        case handoff_kind::probe:
        case handoff_kind::fresh: {
            ether_header* eth = eth_of(m);
            accept_ipv4<true>(m, reinterpret_cast<ipv4_header*>(eth + 1), (eth->dst[0] & 1u) == 0, meta.kind, b);
            break;
        }
        case handoff_kind::arp_learn:
            flush_run(r);
            if (const interface_rt* itf = snap_->interface_on(m->port); itf != nullptr) {
                handle_arp(m, *itf, true);
            } else {
                rte_pktmbuf_free(m);
            }
            break;
        case handoff_kind::transmit:
            flush_run(r);
            send(m, meta.tx_port);
            break;
        }
    }
    session_stage(b, r);
    finish(r);
}

rte_mbuf* worker::reassemble(rte_mbuf* m, ipv4_header* ip) noexcept
{
    counters_.add(counter::fragments_in);
    const std::uint32_t before = death_row_.cnt;
    rte_mbuf* whole = rte_ipv4_frag_reassemble_packet(frag_, &death_row_, m, now_, reinterpret_cast<rte_ipv4_hdr*>(ip));
    // Every mbuf the library sent to the death row is a fragment we dropped: a bad or overlapping one,
    // or the rest of a datagram that timed out or did not fit.
    counters_.add(counter::drop_frag_failed, death_row_.cnt - before);
    if (death_row_.cnt > RTE_IP_FRAG_DEATH_ROW_MBUF_LEN - (RTE_LIBRTE_IP_FRAG_MAX_FRAG + 1)) {
        rte_ip_frag_free_death_row(&death_row_, 0);
    }
    if (whole == nullptr) {
        return nullptr;
    }
    counters_.add(counter::reassembled);
    // The library rewrites total length and fragment fields and leaves the checksum zero.
    set_ipv4_checksum(*rte_pktmbuf_mtod_offset(whole, ipv4_header*, whole->l2_len));
    return whole;
}

void worker::route_exception(rte_mbuf* m, ipv4_header* ip, const nexthop_rt& hop, ipv4_address dst,
                             const nat_rewrite* rw, std::uint8_t* l4, std::uint16_t l4_len) noexcept
{
    switch (hop.kind) {
    case nexthop_kind::local:
        if (rw != nullptr) {
            apply_rewrite(*ip, l4, l4_len, *rw);
        }
        local_deliver(m, ip);
        return;
    case nexthop_kind::blackhole:
        drop(m, counter::drop_blackhole);
        return;
    case nexthop_kind::broadcast:
        drop(m, counter::drop_multicast);
        return;
    case nexthop_kind::martian:
        drop(m, counter::drop_martian_destination);
        return;
    case nexthop_kind::connected:
    case nexthop_kind::gateway:
        break;
    }
    if ((eth_of(m)->dst[0] & 1u) != 0) {
        drop(m, counter::drop_multicast);
        return;
    }
    if (ip->ttl <= 1) {
        // RFC 1812 §5.3.1: TTL would reach zero: time exceeded in transit.
        icmp_error(m, ip, icmp_type::time_exceeded, icmp_code::ttl_exceeded_in_transit, 0);
        drop(m, counter::drop_ttl_exceeded);
        return;
    }
    // Larger than the MTU. With DF the sender hears of it about its own packet (RFC 1191 §4), before
    // any translation; otherwise the translated datagram is fragmented.
    if ((ip->frag.to_host() & ipv4_frag::dont_fragment) != 0) {
        icmp_error(m, ip, icmp_type::dest_unreachable, icmp_code::fragmentation_needed, hop.mtu);
        drop(m, counter::drop_df_too_big);
        return;
    }
    if (rw != nullptr) {
        apply_rewrite(*ip, l4, l4_len, *rw);
    }
    forward(m, ip, hop, dst);
}

void worker::forward(rte_mbuf* m, ipv4_header* ip, const nexthop_rt& hop, ipv4_address dst) noexcept
{
    decrement_ttl(*ip);
    counters_.add(counter::forwarded);
    emit(m, ip, hop, dst, false);
}

void worker::emit(rte_mbuf* m, ipv4_header* ip, const nexthop_rt& hop, ipv4_address dst, bool originated) noexcept
{
    const ipv4_address via = hop.gateway != 0 ? hop.gateway : dst;
    if (m->pkt_len - eth_len > hop.mtu) [[unlikely]] {
        if ((ip->frag.to_host() & ipv4_frag::dont_fragment) != 0) {
            // RFC 1191 §4: tell the sender the next-hop MTU.
            if (!originated) {
                icmp_error(m, ip, icmp_type::dest_unreachable, icmp_code::fragmentation_needed, hop.mtu);
            }
            drop(m, counter::drop_df_too_big);
            return;
        }
        fragment_and_emit(m, hop, via);
        return;
    }
    to_neighbour(m, hop.port, via);
}

void worker::fragment_and_emit(rte_mbuf* m, const nexthop_rt& hop, ipv4_address via) noexcept
{
    std::array<rte_mbuf*, max_fragments> out;
    rte_pktmbuf_adj(m, static_cast<std::uint16_t>(eth_len));
    const std::int32_t n =
        rte_ipv4_fragment_packet(m, out.data(), max_fragments, hop.mtu, pool_, indirect_pool_);
    // The fragments reference the original's data through indirect mbufs; this drops our reference only.
    rte_pktmbuf_free(m);
    if (n <= 0) {
        counters_.add(counter::drop_fragmentation_failed);
        return;
    }
    counters_.add(counter::fragmented);
    for (std::int32_t i = 0; i < n; ++i) {
        rte_mbuf* f = out[static_cast<std::size_t>(i)];
        if (rte_pktmbuf_prepend(f, static_cast<std::uint16_t>(eth_len)) == nullptr) {
            drop(f, counter::drop_fragmentation_failed);
            continue;
        }
        auto* fip = rte_pktmbuf_mtod_offset(f, ipv4_header*, eth_len);
        set_header_lengths(f, fip->header_length());
        set_ipv4_checksum(*fip);
        to_neighbour(f, hop.port, via);
    }
}

void worker::to_neighbour(rte_mbuf* m, std::uint16_t port, ipv4_address via) noexcept
{
    const mac_address* mac = neigh_.resolve(port, via);
    if (mac == nullptr) [[unlikely]] {
        hold(m, port, via);
        return;
    }
    ether_header* eth = eth_of(m);
    eth->dst = *mac;
    eth->src = snap_->mac_of_port[port];
    eth->type = be(ethertype::ipv4);
    send(m, port);
}

void worker::hold(rte_mbuf* m, std::uint16_t port, ipv4_address via) noexcept
{
    switch (neigh_.hold(port, via, m, now_)) {
    case neighbour_table::hold_result::held_first:
        counters_.add(counter::arp_held);
        send_arp_request(port, via);
        break;
    case neighbour_table::hold_result::held:
        counters_.add(counter::arp_held);
        break;
    case neighbour_table::hold_result::hold_full:
        drop(m, counter::drop_arp_hold_full);
        break;
    case neighbour_table::hold_result::table_full:
        drop(m, counter::drop_arp_table_full);
        break;
    }
}

void worker::release(std::span<rte_mbuf* const> pkts, std::uint16_t port, const mac_address& mac) noexcept
{
    for (rte_mbuf* m : pkts) {
        ether_header* eth = eth_of(m);
        eth->dst = mac;
        eth->src = snap_->mac_of_port[port];
        eth->type = be(ethertype::ipv4);
        send(m, port);
    }
}

void worker::output_local(rte_mbuf* m, ipv4_header* ip) noexcept
{
    std::uint32_t hop_index = 0;
    const ipv4_address dst = ip->dst.to_host();
    if (rte_lpm_lookup(snap_->lpm, dst, &hop_index) != 0) {
        drop(m, counter::drop_no_route);
        return;
    }
    const nexthop_rt& hop = snap_->nexthops[hop_index];
    if (hop.kind > nexthop_kind::gateway) {
        drop(m, counter::drop_no_route);
        return;
    }
    emit(m, ip, hop, dst, true);
}

void worker::local_deliver(rte_mbuf* m, ipv4_header* ip) noexcept
{
    if (ip->protocol != ip_proto::icmp) {
        drop(m, counter::drop_local_unhandled);
        return;
    }
    const unsigned ihl = ip->header_length();
    const unsigned icmp_len = ip->total_length.to_host() - ihl;
    if (icmp_len < sizeof(icmp_header) || m->data_len < eth_len + ihl + sizeof(icmp_header)) {
        drop(m, counter::drop_icmp_malformed);
        return;
    }
    std::uint16_t sum = 0;
    if (rte_raw_cksum_mbuf(m, static_cast<std::uint32_t>(eth_len + ihl), icmp_len, &sum) != 0 || sum != 0xffff) {
        drop(m, counter::drop_icmp_malformed);
        return;
    }
    auto* icmp = rte_pktmbuf_mtod_offset(m, icmp_header*, eth_len + ihl);
    if (icmp->type != icmp_type::echo_request || icmp->code != 0) {
        drop(m, counter::drop_local_unhandled);
        return;
    }
    const interface_rt* in = snap_->interface_on(m->port);
    if (in == nullptr || !in->allow_ping) {
        drop(m, counter::drop_local_not_allowed);
        return;
    }
    // RFC 792 echo reply: same data, addresses swapped, type 0. The ICMP checksum changes only by the
    // type word (RFC 1624); the IP header is rewritten and summed anew.
    icmp->checksum = csum_update16(icmp->checksum, be(static_cast<std::uint16_t>(icmp_type::echo_request << 8)),
                                   be(static_cast<std::uint16_t>(icmp_type::echo_reply << 8)));
    icmp->type = icmp_type::echo_reply;
    const be32 us = ip->dst;
    ip->dst = ip->src;
    ip->src = us;
    ip->ttl = default_ttl;
    ip->frag = be(static_cast<std::uint16_t>(ip->frag.to_host() & ipv4_frag::dont_fragment));
    set_ipv4_checksum(*ip);
    counters_.add(counter::icmp_echo_replies);
    output_local(m, ip);
}

void worker::icmp_error(rte_mbuf* orig, const ipv4_header* ip, std::uint8_t type, std::uint8_t code,
                        std::uint16_t mtu) noexcept
{
    // RFC 1812 §4.3.2.7: no ICMP error about an ICMP error, a non-first fragment, or a packet that
    // was a link-layer or IP broadcast or multicast.
    if ((ip->frag.to_host() & ipv4_frag::offset_mask) != 0 || (eth_of(orig)->dst[0] & 1u) != 0 ||
        is_multicast(ip->dst.to_host()) || is_icmp_error(*ip, orig)) {
        return;
    }
    const interface_rt* in = snap_->interface_on(orig->port);
    if (in == nullptr) {
        return;
    }
    if (icmp_credit_ < 1000) {
        counters_.add(counter::drop_icmp_rate_limited);
        return;
    }
    icmp_credit_ -= 1000;
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (m == nullptr) {
        counters_.add(counter::drop_no_mbuf);
        return;
    }
    const std::size_t quote = std::min<std::size_t>(orig->pkt_len - eth_len, icmp_quote_max);
    const std::size_t total = sizeof(ipv4_header) + sizeof(icmp_header) + quote;
    auto* p = rte_pktmbuf_append(m, static_cast<std::uint16_t>(eth_len + total));
    if (p == nullptr) {
        drop(m, counter::drop_no_mbuf);
        return;
    }
    auto* nip = reinterpret_cast<ipv4_header*>(p + eth_len);
    auto* nicmp = reinterpret_cast<icmp_header*>(nip + 1);
    auto* body = reinterpret_cast<std::uint8_t*>(nicmp + 1);
    // rte_pktmbuf_read points into the mbuf when the bytes are contiguous and copies them otherwise.
    const void* quoted =
        rte_pktmbuf_read(orig, static_cast<std::uint32_t>(eth_len), static_cast<std::uint32_t>(quote), body);
    if (quoted == nullptr) {
        rte_pktmbuf_free(m); // cannot happen: quote is within the packet
        return;
    }
    if (quoted != body) {
        std::memcpy(body, quoted, quote);
    }
    *nicmp = icmp_header{type, code, be16{0}, be16{0}, be(mtu)};
    nicmp->checksum = internet_checksum(
        std::span<const std::byte>(reinterpret_cast<const std::byte*>(nicmp), sizeof(icmp_header) + quote));
    *nip = ipv4_header{0x45, 0xc0, be(static_cast<std::uint16_t>(total)), be(icmp_id_++), be16{0}, default_ttl,
                       ip_proto::icmp, be16{0}, be32::from_host(in->address.address), ip->src};
    set_ipv4_checksum(*nip);
    m->port = orig->port;
    set_header_lengths(m, sizeof(ipv4_header));
    counters_.add(counter::icmp_errors_sent);
    output_local(m, nip);
}

void worker::handle_arp(rte_mbuf* m, const interface_rt& itf, bool is_copy) noexcept
{
    if (m->data_len < eth_len + sizeof(arp_packet)) {
        drop(m, counter::drop_arp_malformed);
        return;
    }
    ether_header* eth = eth_of(m);
    auto* arp = reinterpret_cast<arp_packet*>(eth + 1);
    const std::uint16_t op = arp->oper.to_host();
    if (arp->htype != be(1) || arp->ptype != be(ethertype::ipv4) || arp->hlen != 6 || arp->plen != 4 ||
        (op != arp_op::request && op != arp_op::reply)) {
        drop(m, counter::drop_arp_malformed);
        return;
    }
    if (!is_copy) {
        counters_.add(op == arp_op::request ? counter::arp_requests_in : counter::arp_replies_in);
    }
    const ipv4_address spa = arp->spa.to_host();
    const ipv4_address tpa = arp->tpa.to_host();
    const ipv4_address ours = itf.address.address;
    if (spa == ours) {
        // Our own request looped back is harmless; anyone else claiming our address is a conflict.
        if (mac_is(arp->sha, words_of(itf.mac))) {
            rte_pktmbuf_free(m);
        } else {
            drop(m, counter::drop_arp_conflict);
        }
        return;
    }
    const bool for_us = tpa == ours || (!snap_->firewall.vips.empty() && snap_->firewall.vip_answers_arp(tpa, itf.index));
    // Learn only on-link unicast senders (RFC 826 merge; RFC 1812 §3.3.2 forbids learning broadcast).
    const bool sender_ok = itf.address.contains(spa) && (itf.address.length > 30 || spa != itf.address.broadcast()) &&
                           (arp->sha[0] & 1u) == 0 && !mac_is(arp->sha, words_of(mac_zero));
    if (sender_ok) {
        const auto r = neigh_.learn(itf.port, spa, arp->sha, for_us, now_);
        if (r.learned) {
            counters_.add(counter::arp_learned);
            release(r.release, itf.port, arp->sha);
        }
    }
    if (!is_copy && workers_ > 1) {
        for (unsigned w = 0; w < workers_; ++w) {
            if (w == id_) {
                continue;
            }
            rte_mbuf* c = rte_pktmbuf_copy(m, pool_, 0, UINT32_MAX);
            if (c == nullptr) {
                counters_.add(counter::drop_no_mbuf);
                continue;
            }
            handoff(c, w, handoff_kind::arp_learn, 0);
        }
    }
    if (!is_copy && op == arp_op::request && for_us) {
        // RFC 826 reply, built in place.
        eth->dst = arp->sha;
        eth->src = itf.mac;
        arp->oper = be(arp_op::reply);
        arp->tha = arp->sha;
        arp->tpa = arp->spa;
        arp->sha = itf.mac;
        arp->spa = be32::from_host(tpa); // ours, or a VIP's
        counters_.add(counter::arp_replies_sent);
        send(m, itf.port);
        return;
    }
    rte_pktmbuf_free(m);
}

void worker::send_arp_request(std::uint16_t port, ipv4_address target) noexcept
{
    const interface_rt* itf = snap_->interface_on(port);
    if (itf == nullptr) {
        return;
    }
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (m == nullptr) {
        counters_.add(counter::drop_no_mbuf);
        return;
    }
    auto* p = rte_pktmbuf_append(m, static_cast<std::uint16_t>(eth_len + sizeof(arp_packet)));
    if (p == nullptr) {
        drop(m, counter::drop_no_mbuf);
        return;
    }
    auto* eth = reinterpret_cast<ether_header*>(p);
    *eth = ether_header{mac_broadcast, itf->mac, be(ethertype::arp)};
    auto* arp = reinterpret_cast<arp_packet*>(eth + 1);
    *arp = arp_packet{be(1), be(ethertype::ipv4), 6, 4, be(arp_op::request), itf->mac,
                      be32::from_host(itf->address.address), mac_zero, be32::from_host(target)};
    counters_.add(counter::arp_requests_sent);
    send(m, port);
}

void worker::handoff(rte_mbuf* m, unsigned to, handoff_kind kind, std::uint16_t tx_port) noexcept
{
    handoff_meta& meta = handoff_of(m, handoff_field_);
    meta.kind = kind;
    meta.tx_port = tx_port;
    tx_batch& b = handoff_out_[to];
    b.pkts[b.n++] = m;
    handoff_dirty_ |= std::uint64_t{1} << to;
    if (b.n == tx_batch_size) [[unlikely]] {
        flush_handoff(to);
    }
}

void worker::flush_tx(std::uint16_t port) noexcept
{
    tx_batch& b = tx_[port];
    if (sniffer* sn = sniffer_.load(std::memory_order_acquire); sn != nullptr && sn->wants(port)) [[unlikely]] {
        for (unsigned i = 0; i < b.n; ++i) {
            if (sn->may_take(rte_pktmbuf_mtod(b.pkts[i], const std::uint8_t*), b.pkts[i]->data_len)) {
                sniff(*sn, b.pkts[i], port, true);
            }
        }
    }
    const std::uint16_t sent =
        rte_eth_tx_burst(port, static_cast<std::uint16_t>(tx_queue_[port]), b.pkts.data(), b.n);
    counters_.add(counter::tx_packets, sent);
    if (sent < b.n) [[unlikely]] {
        for (std::uint16_t i = sent; i < b.n; ++i) {
            drop(b.pkts[i], counter::drop_tx_full);
        }
    }
    b.n = 0;
    tx_dirty_ &= ~(std::uint64_t{1} << port);
}

void worker::flush_handoff(unsigned to) noexcept
{
    tx_batch& b = handoff_out_[to];
    const unsigned sent =
        rte_ring_sp_enqueue_burst(rings_out_[to], reinterpret_cast<void* const*>(b.pkts.data()), b.n, nullptr);
    counters_.add(counter::handoff_out, sent);
    for (unsigned i = sent; i < b.n; ++i) {
        drop(b.pkts[i], counter::drop_handoff_ring_full);
    }
    b.n = 0;
    handoff_dirty_ &= ~(std::uint64_t{1} << to);
}

void worker::flush_all() noexcept
{
    while (handoff_dirty_ != 0) {
        flush_handoff(static_cast<unsigned>(std::countr_zero(handoff_dirty_)));
    }
    while (tx_dirty_ != 0) {
        flush_tx(static_cast<std::uint16_t>(std::countr_zero(tx_dirty_)));
    }
}

void worker::drop(rte_mbuf* m, counter why) noexcept
{
    counters_.add(why);
    rte_pktmbuf_free(m);
}

} // namespace sipalg::dp
