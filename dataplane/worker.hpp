#pragma once
// A worker lcore: owns every piece of mutable state it touches (STYLE.md item 10) and runs the fixed loop
// of ARCHITECTURE.md "The packet path": drain handoff rings, RX bursts, classify (ARP, IPv4, other),
// validate, steer to the owner, reassemble, bulk route lookup, ARP resolution, TTL and checksum, TX in
// bursts, timers, RCU quiescence. Nothing here throws, allocates or makes a system call per packet.
#include "dataplane/counters.hpp"
#include "dataplane/handoff.hpp"
#include "dataplane/log_ring.hpp"
#include "dataplane/sniffer.hpp"
#include "dataplane/neighbours.hpp"
#include "dataplane/options.hpp"
#include "dataplane/snapshot.hpp"
#include "nat/call_table.hpp"
#include "nat/policy_counters.hpp"
#include "nat/rate_meter.hpp"
#include "nat/sip_policy_stats.hpp"
#include "nat/transaction_table.hpp"
#include "nat/pinhole_table.hpp"
#include "nat/port_ledger.hpp"
#include "nat/session_filter.hpp"
#include "nat/session_table.hpp"
#include "sip/engine.hpp"
#include "sip/nat.hpp"
#include "sip/tcp_stream.hpp"

#include <rte_ip_frag.h>
#include <rte_mbuf.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sipalg::dp {

inline constexpr unsigned burst_size = 32;
inline constexpr unsigned max_workers = 32;
inline constexpr unsigned tx_batch_size = 64;

// A MAC address as two words, loaded once per burst for the destination check of every frame.
struct mac_words {
    std::uint32_t head;
    std::uint16_t tail;
};

struct rx_queue_ref {
    std::uint16_t port;
    std::uint16_t queue;
};

// What a worker gets from the process at start-up.
struct worker_setup {
    unsigned id = 0;
    unsigned socket = 0; // the NUMA socket of the worker's lcore: its tables are allocated there
    unsigned workers = 1;
    std::vector<rx_queue_ref> rx_queues;
    std::array<std::int16_t, RTE_MAX_ETHPORTS> tx_queue{}; // queue this worker sends on; -1: hand over
    std::array<std::uint8_t, RTE_MAX_ETHPORTS> tx_owner{}; // worker that owns the port's queue otherwise
    rte_mempool* pool = nullptr;
    rte_mempool* indirect_pool = nullptr;
    const ring_mesh* rings = nullptr;
    int handoff_field = -1;
    snapshot_holder* snapshots = nullptr;
    // What the workers count in common (ARCHITECTURE.md "Rate limits", "max-dialogs"): the ALG's request
    // rates, and each policy's calls.
    nat::rate_meters* meters = nullptr;
    nat::policy_calls* policy_calls = nullptr;
    log_ring* log = nullptr; // this worker's log records, drained by the control core
    options opts;
    const std::atomic<bool>* stop = nullptr;
};

// Read by the control core to tell when pcap inputs are drained.
struct worker_activity {
    std::uint64_t last_active_tsc = 0; // last loop that found packets
    std::uint64_t idle_loops = 0;      // consecutive loops without packets since then
    std::uint32_t held_packets = 0;    // packets waiting for ARP
};

// A session list or clear for one worker (ARCHITECTURE.md: the control core asks, the worker does). The
// control core fills it, reserves `out` (the worker never allocates: it stops at the capacity and
// counts the rest) and posts it; the worker serves it from its timer tick, a slice at a time, and
// marks it done.
struct session_query {
    nat::session_filter filter;
    bool clear = false;
    std::vector<nat::session_info>* out = nullptr; // null: count (and clear) only
    // The SIP tables too, when given (reserved by the caller, filled at the first slice).
    std::vector<nat::call_entry>* calls = nullptr;
    std::vector<nat::pinhole>* pinholes = nullptr;
    // Before listing: end these calls (worker id, call key; sorted) that have not ended (diagnose sys
    // sip-proxy calls clear), closing their pinholes.
    const std::vector<std::pair<unsigned, std::uint64_t>>* end_calls = nullptr;
    std::uint32_t calls_ended = 0;
    std::uint32_t table_now = 0; // the worker's session clock when it answered
    std::uint32_t matched = 0;
    std::uint32_t cleared = 0;
    std::uint32_t cursor = 0; // the worker's progress
    std::atomic<bool> done{false};
};

class worker;
struct sip_state; // dataplane/sip_state.hpp: the SIP engines' buffers and parse state
struct worker_result {
    std::unique_ptr<worker> w;
    std::string error;
};

class alignas(64) worker {
public:
    static worker_result create(const worker_setup& setup);
    ~worker();
    worker(const worker&) = delete;
    worker& operator=(const worker&) = delete;

    // The lcore body; returns when *stop becomes true.
    int run() noexcept;

    const counter_block& counters() const noexcept
    {
        return counters_;
    }
    worker_activity activity() const noexcept;
    unsigned id() const noexcept
    {
        return id_;
    }
    // Sessions in the table now (read by the control core at any time).
    std::uint32_t sessions_active() const noexcept
    {
        return sessions_active_.load(std::memory_order_relaxed);
    }
    // Pinholes open now, and calls in each state (read by the control core at any time).
    std::uint32_t pinholes_active() const noexcept
    {
        return pinholes_active_.load(std::memory_order_relaxed);
    }
    std::uint32_t calls_in_state(nat::call_state s) const noexcept
    {
        return calls_->in_state(s);
    }
    // Traffic per policy (read by the control core at any time).
    const nat::policy_counters& policy_stats() const noexcept
    {
        return *policy_counters_;
    }
    // SIP messages per policy and method (read by the control core at any time).
    const nat::sip_policy_stats& sip_stats() const noexcept
    {
        return *sip_stats_;
    }
    std::size_t session_bytes() const noexcept
    {
        return sessions_->bytes_allocated();
    }
    // Pinhole table memory per pinhole of capacity (read at exit by the stats file).
    double pinhole_bytes_per_entry() const noexcept
    {
        return static_cast<double>(pinholes_->bytes_allocated()) / pinholes_->capacity();
    }
    // What an idle SIP/TCP connection costs beyond its session: its stream state, its share of the index
    // and its free-list slot (read at exit by the stats file and by the calls benchmark).
    std::size_t sip_connection_bytes() const noexcept;
    // diagnose sniffer packet: the sniffer this worker feeds (null: none). The control core sets it and,
    // before freeing it, waits for every worker's quiescent state (the snapshots' RCU).
    void set_sniffer(sniffer* s) noexcept
    {
        sniffer_.store(s, std::memory_order_release);
    }
    // Posts a query; false while another is pending. The caller polls q.done and keeps q alive until then.
    bool post(session_query& q) noexcept;

private:
    explicit worker(const worker_setup& setup);

    template <bool Steer>
    void rx_burst(rte_mbuf** pkts, unsigned n, std::uint16_t port) noexcept;
    // The frames forwarded during one burst. Most packets of a burst share their next hop, so the last
    // one resolved is remembered with its 12 Ethernet address bytes ready to store (copies: nothing the
    // neighbour table does later can invalidate them), and the frames for its port collect in a run
    // that goes to the TX batch at once: the bookkeeping is paid per run, not per packet.
    struct forward_run {
        explicit forward_run(const snapshot& s) noexcept : lpm(s.lpm), nexthops(s.nexthops.data()) {}
        const rte_lpm* lpm;
        const nexthop_rt* nexthops;
        std::uint64_t key = ~std::uint64_t{0}; // port << 32 | next-hop address
        std::uint64_t head = 0;                // destination MAC and the first two bytes of the source
        std::uint32_t tail = 0;                // the last four bytes of the source MAC
        std::uint16_t port = UINT16_MAX;
        unsigned n = 0;
        unsigned start = 0;
        std::array<rte_mbuf*, burst_size> out;
    };

    // An IPv4 packet waiting for the session stage of its burst, with its flow key. For an ICMP error the
    // key is the quoted packet's, reversed: the flow the error travels in.
    struct pending {
        rte_mbuf* m;
        ipv4_header* ip;
        std::uint8_t* l4;
        std::uint16_t l4_len;
        handoff_kind kind;   // ipv4 (arrived normally), probe, fresh
        bool plain;          // a unicast frame with TTL left: may take the fast path
        bool icmp_error;
        std::uint32_t candidate; // the session table's first guess (see session_table::candidate)
        std::uint64_t hash;
        flow_key key;
    };
    struct pending_batch {
        unsigned n = 0;
        std::array<pending, burst_size> p;
    };

    template <bool Steer>
    void classify(rte_mbuf* m, const interface_rt& itf, mac_words ours, pending_batch& b, forward_run& r) noexcept;
    void handoff_burst(rte_mbuf** pkts, unsigned n) noexcept;
    template <bool Steer>
    void accept_ipv4(rte_mbuf* m, ipv4_header* ip, bool unicast_frame, handoff_kind kind, pending_batch& b) noexcept;
    rte_mbuf* reassemble(rte_mbuf* m, ipv4_header* ip) noexcept;
    bool flow_key_of_other(pending& p) noexcept;
    void session_stage(pending_batch& b, forward_run& r) noexcept;
    void session_hit(pending& p, nat::session_ref ref, forward_run& r) noexcept;
    void session_miss(pending& p, forward_run& r) noexcept;
    bool revalidate(nat::session& s) noexcept;
    bool rematch(nat::session& s) noexcept;
    void new_flow(pending& p, forward_run& r) noexcept;
    std::uint16_t nat_port(const flow_key& translated, std::uint64_t owner) noexcept;
    // The public port a session holds, counted until it goes (end_session, expiry).
    void hold_port(nat::session& s, bool exclusive) noexcept;
    void release_port(const nat::session& s) noexcept;
    void end_session(std::uint32_t index, log_session_end why) noexcept;
    // Whether a pinhole may take `port` on `address`: this worker's, SIP's share of its slice, and held
    // by no session, pinhole or VIP (the one place a pinhole's port is decided).
    bool pinhole_port_free(std::uint8_t proto, ipv4_address address, std::uint16_t port) const noexcept;
    // The end of SIP's share of this worker's slice (sip-nat-port-reserve keeps the rest).
    unsigned sip_ports_end() const noexcept
    {
        return sip_ports_end_;
    }
    void translate_icmp_error(pending& p, nat::session_ref ref, forward_run& r) noexcept;
    void serve_query() noexcept;
    // SIP (dataplane/sip.cpp): a message of a SIP session translated in place, pinholes opened and closed
    // with the call; a packet without a session that a pinhole lets in.
    // True when it sent or held the packet itself (SIP over TCP); false: the caller routes it.
    bool sip_packet(pending& p, nat::session& s, std::uint32_t index, unsigned dir, forward_run& r) noexcept;
    bool sip_tcp(pending& p, nat::session& s, std::uint32_t index, unsigned dir, forward_run& r) noexcept;
    void count_stream(const sip::stream_actions& a) noexcept;
    rte_mbuf* tcp_segment_mbuf(const std::uint8_t* hdr, unsigned hdr_len, unsigned l3_off, const sip::stream_emit& e,
                               const sip::tcp_stream& c, unsigned dir, const char* input, std::uint8_t flags,
                               std::uint16_t port) noexcept;
    void finish_tcp_segment(rte_mbuf* m, unsigned l3_off, std::uint32_t seq, std::uint8_t flags) noexcept;
    void send_back(const nat::session& s, const sip::tcp_stream& c, unsigned dir, const sip::stream_actions& a,
                   forward_run& r) noexcept;
    std::optional<std::uint32_t> sip_translate(std::string_view payload, nat::session& s, std::uint32_t index,
                                               unsigned dir) noexcept;
    bool replace_payload(pending& p, std::uint32_t offset, std::uint32_t length) noexcept;
    void sip_respond(pending& p, unsigned status, forward_run& r) noexcept;
    bool over_rate(const sip::decision& d, const nat::session& s, unsigned dir) noexcept;
    bool from_pinhole(pending& p, forward_run& r) noexcept;
    std::uint32_t outbound_pinhole(const flow_key& k) noexcept;
    bool pinhole_open(const nat::session& s) noexcept;
    void forget_session(const nat::session& s, std::uint32_t index, log_session_end why) noexcept;
    void sweep_dialogs() noexcept;
    bool clear_way_for_pinhole(const flow_key& k) noexcept;
    std::optional<std::uint32_t> commit(sip::decision& d, std::string_view payload, nat::session& s, std::uint32_t index,
                                        unsigned dir, std::optional<std::uint32_t> call_slot) noexcept;
    std::uint32_t call_of(std::uint64_t key, sip::dialog_view& dialog) noexcept;
    void apply_call(const sip::decision& d, const nat::session& s, std::uint32_t index, unsigned dir, std::uint32_t slot,
                    std::uint32_t stamp) noexcept;
    void commit_registration(const sip::decision& d, const nat::session& s, std::uint32_t index) noexcept;
    // Logs (dataplane/logs.cpp): a record reserved in the ring (null, counted, when it is full).
    log_record* log_reserve(log_kind kind) noexcept;
    void log_call(const nat::call_entry& c, log_kind kind, std::uint8_t why, const nat::session* s,
                  std::uint32_t index, const sip::message* m) noexcept;
    void log_call_end(const nat::call_entry& c, std::uint8_t why) noexcept;
    void log_traffic(const nat::session& s, std::uint32_t index, log_session_end why) noexcept;
    void log_violation(const sip::decision& d, const nat::session& s, std::uint32_t index, unsigned dir,
                       log_kind kind) noexcept;
    void count_blocked(const sip::decision& d, nat::sip_policy_counts& st) noexcept;
    // A packet the sniffer wants and may take (sniffer::wants, may_take): the filter run, a match copied.
    void sniff(sniffer& sn, rte_mbuf* m, std::uint16_t port, bool out) noexcept;
    friend class pinhole_granter;
    void update_clock() noexcept;
    void route(rte_mbuf* m, ipv4_header* ip, bool plain, forward_run& r, const nat_rewrite* rw, std::uint8_t* l4,
               std::uint16_t l4_len) noexcept;
    // route() for the slow paths in other files (route itself is inlined into the burst loop).
    void route_slow(rte_mbuf* m, ipv4_header* ip, bool plain, forward_run& r, const nat_rewrite* rw, std::uint8_t* l4,
                    std::uint16_t l4_len) noexcept;
    void flush_run(forward_run& r) noexcept;
    void finish(forward_run& r) noexcept;
    void route_exception(rte_mbuf* m, ipv4_header* ip, const nexthop_rt& hop, ipv4_address dst, const nat_rewrite* rw,
                         std::uint8_t* l4, std::uint16_t l4_len) noexcept;
    void forward(rte_mbuf* m, ipv4_header* ip, const nexthop_rt& hop, ipv4_address dst) noexcept;
    void emit(rte_mbuf* m, ipv4_header* ip, const nexthop_rt& hop, ipv4_address dst, bool originated) noexcept;
    void fragment_and_emit(rte_mbuf* m, const nexthop_rt& hop, ipv4_address via) noexcept;
    void to_neighbour(rte_mbuf* m, std::uint16_t port, ipv4_address via) noexcept;
    void hold(rte_mbuf* m, std::uint16_t port, ipv4_address via) noexcept;
    void output_local(rte_mbuf* m, ipv4_header* ip) noexcept;
    void local_deliver(rte_mbuf* m, ipv4_header* ip) noexcept;
    void icmp_error(rte_mbuf* orig, const ipv4_header* ip, std::uint8_t type, std::uint8_t code,
                    std::uint16_t mtu) noexcept;
    void handle_arp(rte_mbuf* m, const interface_rt& itf, bool is_copy) noexcept;
    void send_arp_request(std::uint16_t port, ipv4_address target) noexcept;
    void release(std::span<rte_mbuf* const> pkts, std::uint16_t port, const mac_address& mac) noexcept;
    void send(rte_mbuf* m, std::uint16_t port) noexcept;
    void send_run(rte_mbuf* const* pkts, unsigned n, std::uint16_t port) noexcept;
    void handoff(rte_mbuf* m, unsigned to, handoff_kind kind, std::uint16_t tx_port) noexcept;
    void flush_tx(std::uint16_t port) noexcept;
    void flush_handoff(unsigned to) noexcept;
    void flush_all() noexcept;
    void drop(rte_mbuf* m, counter why) noexcept;
    void adopt(const snapshot* s) noexcept;
    void tick() noexcept;
    void shutdown() noexcept;

    unsigned owner_of_address(be32 a) const noexcept
    {
        // ARCHITECTURE.md: an inside host belongs to hash(source address) % workers. Multiply-shift
        // hash, then a multiply instead of a division to map it onto the workers.
        const std::uint32_t h = a.raw * 0x9e3779b1u;
        return static_cast<unsigned>((std::uint64_t{h} * workers_) >> 32);
    }
    unsigned owner_of_port(std::uint16_t port) const noexcept
    {
        return std::min<unsigned>(workers_ - 1, (port - nat_port_first) / port_span_);
    }
    // The worker that owns a packet (ARCHITECTURE.md "Processes and cores"): a public NAT port's slice
    // owner; for a VIP, the mapped (inside) host's; otherwise the source host's.
    struct ownership {
        unsigned worker;
        bool by_source; // decided by hash(source): a reply may belong to the destination's worker
    };
    ownership owner_of(const flow_key& k, std::uint16_t in_interface) const noexcept;
    unsigned owner_of(const ipv4_header& ip, const rte_mbuf* m) const noexcept;
    std::uint16_t interface_index(std::uint16_t port) const noexcept; // 0 for a port without one

    static constexpr std::uint16_t nat_port_first = 1024; // SNAT ports and ICMP ids: 1024-65535, sliced

    // Hot, read on every packet.
    const snapshot* snap_ = nullptr;
    std::uint64_t now_ = 0;
    unsigned id_ = 0;
    unsigned workers_ = 1;
    int handoff_field_ = -1;
    void (worker::*rx_fn_)(rte_mbuf**, unsigned, std::uint16_t) noexcept = nullptr;
    std::array<std::int16_t, RTE_MAX_ETHPORTS> tx_queue_{};
    std::array<std::uint8_t, RTE_MAX_ETHPORTS> tx_owner_{};


    struct tx_batch {
        std::uint16_t n = 0;
        std::array<rte_mbuf*, tx_batch_size> pkts{};
    };
    std::uint64_t tx_dirty_ = 0; // ports with packets in their batch
    std::array<tx_batch, RTE_MAX_ETHPORTS> tx_{};
    std::uint64_t handoff_dirty_ = 0;
    std::vector<tx_batch> handoff_out_;

    counter_block counters_;
    neighbour_table neigh_;
    rte_ip_frag_tbl* frag_ = nullptr;
    rte_ip_frag_death_row death_row_{};
    std::unique_ptr<nat::session_table> sessions_;
    std::unique_ptr<nat::pinhole_table> pinholes_;
    std::unique_ptr<nat::call_table> calls_;
    nat::rate_meters* meters_ = nullptr; // the ALG's request rates, shared (nat/rate_meter.hpp)
    std::unique_ptr<nat::sip_policy_stats> sip_stats_;
    std::unique_ptr<nat::policy_counters> policy_counters_;
    log_ring* log_ = nullptr;
    std::vector<std::uint32_t> idle_in_pass_;  // sweep_dialogs: idle calls met per policy (hashed) this pass
    std::unique_ptr<nat::transaction_table> transactions_;
    std::unique_ptr<nat::port_ledger> ports_;
    std::unique_ptr<sip_state> sip_;
    std::uint16_t media_cursor_ = 0; // the next media port pair to try, counted in pairs from the window's start
    std::uint32_t sdp_stamp_ = 0;    // numbers the SDPs seen, to tell a re-INVITE's streams from the old
    std::uint32_t table_now_ = 0;   // the session clock (nat::ticks_per_second)
    std::uint32_t generation_ = 0;  // low bits of the snapshot's generation
    std::array<std::uint32_t, 8> timeout_ticks_{}; // by session_state
    nat::schedule_set active_schedules_ = nat::schedule_set::all();
    std::uint16_t port_span_ = 1;   // ports per worker slice
    std::uint16_t port_cursor_ = 0; // next port to try in the slice
    unsigned sip_ports_end_ = 65536; // see sip_ports_end()

    // Cold.
    std::vector<rx_queue_ref> rx_queues_;
    std::vector<rte_ring*> rings_in_;
    std::vector<rte_ring*> rings_out_;
    rte_mempool* pool_ = nullptr;
    rte_mempool* indirect_pool_ = nullptr;
    snapshot_holder* snapshots_ = nullptr;
    const std::atomic<bool>* stop_ = nullptr;
    options opts_;
    std::uint64_t tsc_hz_ = 0;
    std::uint64_t tick_cycles_ = 0;
    std::uint64_t next_tick_ = 0;
    std::uint64_t last_tick_ = 0;
    std::uint64_t icmp_credit_ = 0; // in thousandths of a token
    std::uint16_t icmp_id_ = 0;
    std::uint64_t clock_start_ = 0;     // TSC when the session clock was zero
    std::uint64_t clock_mul_ = 0;       // session ticks per TSC cycle, 32.32 fixed point
    std::uint64_t next_schedule_check_ = 0;
    std::atomic<session_query*> query_{nullptr};
    std::atomic<sniffer*> sniffer_{nullptr};
    std::atomic<std::uint32_t> sessions_active_{0};
    std::atomic<std::uint32_t> pinholes_active_{0};
    // Written by the worker only, read by the control core (relaxed: plain loads and stores).
    std::atomic<std::uint64_t> idle_loops_{0};
    std::atomic<std::uint64_t> last_active_{0};
    std::atomic<std::uint32_t> held_published_{0};
};

} // namespace sipalg::dp
