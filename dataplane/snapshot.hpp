#pragma once
// The compiled configuration the workers read: interfaces by port, the next-hop table and the rte_lpm
// route table, static neighbours. Immutable once published; swapped with one atomic pointer store and
// freed after an rte_rcu_qsbr grace period (ARCHITECTURE.md "Processes and cores").
#include "dataplane/classifier.hpp"
#include "dataplane/plan.hpp"

#include <rte_ethdev.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct rte_lpm;

namespace sipalg::dp {

// A configured interface as the workers see it.
struct interface_rt {
    std::string name;
    std::uint16_t index = 0;
    std::uint16_t port = 0;
    ipv4_prefix address;
    mac_address mac{};
    std::uint16_t mtu = 1500;
    bool allow_ping = false;
};

// One next hop, packed for the per-packet path: everything forwarding needs in 16 bytes.
struct nexthop_rt {
    nexthop_kind kind = nexthop_kind::blackhole;
    std::uint8_t pad = 0;
    std::uint16_t port = 0;
    std::uint16_t mtu = 0;
    std::uint16_t interface = 0;
    ipv4_address gateway = 0; // 0 for connected: the destination is the next hop
    std::uint32_t pad2 = 0;
};
static_assert(sizeof(nexthop_rt) == 16);

// How each interface of the plan was bound at start-up (dataplane/ports.hpp).
struct port_binding {
    std::uint16_t port_id = 0;
    mac_address mac{};
    std::uint16_t rx_queues = 1;
    std::uint16_t tx_queues = 1;
};

// The route table: an rte_lpm made from the plan's routes. Building one writes rte_lpm's whole tbl24
// (2^24 entries, 64 MiB: a default route alone fills it), which was most of an apply's time; so
// consecutive snapshots whose routes are the same share it (an apply that changes policies, not routes).
// Only the control thread makes, shares and frees it; workers read `snapshot::lpm`.
struct route_table {
    rte_lpm* lpm = nullptr;
    std::vector<route_plan> routes; // the plan's, as given
    route_table() = default;
    route_table(const route_table&) = delete;
    route_table& operator=(const route_table&) = delete;
    ~route_table();
};

struct snapshot {
    std::uint64_t generation = 0;
    rte_lpm* lpm = nullptr; // route_table's, for the workers
    std::shared_ptr<const route_table> route_table_of;
    std::vector<nexthop_rt> nexthops;
    std::vector<interface_rt> interfaces;
    std::array<std::int16_t, RTE_MAX_ETHPORTS> interface_of_port{}; // -1: no interface
    std::array<mac_address, RTE_MAX_ETHPORTS> mac_of_port{};        // source MAC of frames we send
    std::vector<neighbour_plan> neighbours;
    nat::firewall firewall;
    // The firewall's policies compiled for new flows and re-checks (never null in a published snapshot);
    // shared, like the route table, by consecutive snapshots whose policies compile the same.
    std::shared_ptr<const policy_classifier> classifier;
    // Sessions of the previous generation whose policy id is here keep it without a re-match
    // (nat::policies_kept; sorted). Sessions older than that are matched again.
    std::vector<std::uint32_t> policies_kept;
    nat::session_timeouts timeouts;

    bool keeps(std::uint32_t session_generation, std::uint32_t policy_id) const noexcept
    {
        return session_generation == static_cast<std::uint32_t>(generation - 1) &&
               std::binary_search(policies_kept.begin(), policies_kept.end(), policy_id);
    }

    snapshot() = default;
    snapshot(const snapshot&) = delete;
    snapshot& operator=(const snapshot&) = delete;

    const interface_rt* interface_on(std::uint16_t port) const noexcept
    {
        const auto i = interface_of_port[port];
        return i < 0 ? nullptr : &interfaces[static_cast<std::size_t>(i)];
    }
    // Whether `a` (host order) is one of our interface addresses: a NAT address.
    bool is_ours(ipv4_address a) const noexcept
    {
        for (const auto& itf : interfaces) {
            if (itf.address.address == a) {
                return true;
            }
        }
        return false;
    }
};

struct snapshot_result {
    std::unique_ptr<snapshot> snap;
    std::string error;
};

// Builds the rte_lpm table and the next-hop and interface arrays from a plan whose interfaces are bound
// to ports as given (one binding per interface, same order). The route table of `previous` is shared
// when its routes are the plan's.
snapshot_result compile_snapshot(const plan& p, const std::vector<port_binding>& bindings, std::uint64_t generation,
                                 const snapshot* previous = nullptr);

// Holds the current snapshot. Workers call current() once per burst and report quiescence; publish()
// swaps the pointer and frees the old snapshot after every worker has passed a quiescent state. Readers
// outside the workers (telemetry, the control core) are not RCU threads: they read under a lock that
// publish() also takes, never on the packet path.
class snapshot_holder {
public:
    // Null when the RCU state cannot be allocated.
    static std::unique_ptr<snapshot_holder> create(unsigned readers);
    ~snapshot_holder();
    snapshot_holder(const snapshot_holder&) = delete;
    snapshot_holder& operator=(const snapshot_holder&) = delete;

    const snapshot* current() const noexcept
    {
        return current_.load(std::memory_order_acquire);
    }
    void publish(std::unique_ptr<snapshot> next);

    // Runs f(const snapshot&) with the current snapshot held against a concurrent publish().
    template <class F>
    auto read_for_control(F&& f) const
    {
        std::lock_guard lock(control_readers_);
        return f(*current());
    }

    rte_rcu_qsbr* qsbr() const noexcept
    {
        return qsbr_;
    }

private:
    explicit snapshot_holder(rte_rcu_qsbr* q) : qsbr_(q) {}

    std::atomic<const snapshot*> current_{nullptr};
    rte_rcu_qsbr* qsbr_ = nullptr;
    mutable std::mutex control_readers_;
};

} // namespace sipalg::dp
