#pragma once
// A worker lcore: owns every piece of mutable state it touches (STYLE.md item 10) and runs the fixed loop
// of ARCHITECTURE.md "The packet path": drain handoff rings, RX bursts, classify (ARP, IPv4, other),
// validate, steer to the owner, reassemble, bulk route lookup, ARP resolution, TTL and checksum, TX in
// bursts, timers, RCU quiescence. Nothing here throws, allocates or makes a system call per packet.
#include "dataplane/counters.hpp"
#include "dataplane/handoff.hpp"
#include "dataplane/neighbours.hpp"
#include "dataplane/options.hpp"
#include "dataplane/snapshot.hpp"

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
    unsigned workers = 1;
    std::vector<rx_queue_ref> rx_queues;
    std::array<std::int16_t, RTE_MAX_ETHPORTS> tx_queue{}; // queue this worker sends on; -1: hand over
    std::array<std::uint8_t, RTE_MAX_ETHPORTS> tx_owner{}; // worker that owns the port's queue otherwise
    rte_mempool* pool = nullptr;
    rte_mempool* indirect_pool = nullptr;
    const ring_mesh* rings = nullptr;
    int handoff_field = -1;
    snapshot_holder* snapshots = nullptr;
    options opts;
    const std::atomic<bool>* stop = nullptr;
};

// Read by the control core to tell when pcap inputs are drained.
struct worker_activity {
    std::uint64_t last_active_tsc = 0; // last loop that found packets
    std::uint64_t idle_loops = 0;      // consecutive loops without packets since then
    std::uint32_t held_packets = 0;    // packets waiting for ARP
};

class worker;
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

    template <bool Steer>
    void classify(rte_mbuf* m, const interface_rt& itf, mac_words ours, forward_run& r) noexcept;
    void handoff_burst(rte_mbuf** pkts, unsigned n) noexcept;
    void accept_ipv4(rte_mbuf* m, ipv4_header* ip, bool unicast_frame, forward_run& r) noexcept;
    rte_mbuf* reassemble(rte_mbuf* m, ipv4_header* ip) noexcept;
    void route(rte_mbuf* m, ipv4_header* ip, bool plain, forward_run& r) noexcept;
    void flush_run(forward_run& r) noexcept;
    void finish(forward_run& r) noexcept;
    void route_exception(rte_mbuf* m, ipv4_header* ip, const nexthop_rt& hop, ipv4_address dst) noexcept;
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

    unsigned owner_of(const ipv4_header& ip) const noexcept
    {
        // ARCHITECTURE.md: an inside host belongs to hash(source address) % workers. Multiply-shift
        // hash, then a multiply instead of a division to map it onto the workers.
        const std::uint32_t h = ip.src.raw * 0x9e3779b1u;
        return static_cast<unsigned>((std::uint64_t{h} * workers_) >> 32);
    }

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
    // Written by the worker only, read by the control core (relaxed: plain loads and stores).
    std::atomic<std::uint64_t> idle_loops_{0};
    std::atomic<std::uint64_t> last_active_{0};
    std::atomic<std::uint32_t> held_published_{0};
};

} // namespace sipalg::dp
