#pragma once
// The running data plane as the control core sees it: packet pools, ports, the snapshot holder, the
// handoff ring mesh and the workers on their lcores. start() brings everything up after rte_eal_init;
// stop() ends the workers and closes the ports. The control core reads counters and activity from here
// and never touches a worker's tables (ARCHITECTURE.md "Processes and cores").
#include "dataplane/counters.hpp"
#include "dataplane/handoff.hpp"
#include "dataplane/options.hpp"
#include "dataplane/plan.hpp"
#include "dataplane/ports.hpp"
#include "dataplane/snapshot.hpp"
#include "dataplane/worker.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sipalg::dp {

class appliance;

struct start_result {
    std::unique_ptr<appliance> app;
    std::string error;
};

// The answer of every worker to a session list or clear.
// A call and a pinhole as the control core lists them (times in seconds, from the worker's clock).
struct call_view {
    nat::call_entry call;
    std::uint32_t age = 0;      // since the INVITE
    std::uint32_t talking = 0;  // since the answer (0 before)
    unsigned worker = 0;
};
struct pinhole_view {
    nat::pinhole pinhole;
    std::uint32_t expires_in = 0;
    unsigned worker = 0;
};

// diagnose sniffer packet's request and outcome (dataplane/sniffer.cpp).
struct sniff_request {
    const rte_bpf* bpf = nullptr; // null: every packet
    rte_bpf_jit jit{};
    sniff_prefilter prefilter;
    std::uint64_t ports = ~std::uint64_t{0};
    std::uint32_t count = 0;
    std::chrono::milliseconds timeout{5000};
};
struct sniff_result {
    std::uint32_t taken = 0;
    std::uint64_t lost = 0;  // matched while a worker's ring was full
    bool timed_out = false;
};

// What a query asks of the SIP tables beyond listing them.
struct sip_query {
    // Calls to end first (diagnose sys sip-proxy calls clear), closing their pinholes: (worker, call key),
    // sorted.
    std::vector<std::pair<unsigned, std::uint64_t>> end_calls;
    bool meters = false; // list the rate meters
};

struct session_list {
    std::vector<nat::session_info> sessions; // at most the number asked for
    std::vector<call_view> calls;            // when the SIP tables were asked for
    std::vector<pinhole_view> pinholes;
    std::vector<nat::rate_meter> meters;     // when the rate meters were asked for (one table for all)
    std::uint64_t calls_ended = 0;           // calls the query ended (sip_query::end_calls)
    std::uint64_t matched = 0;
    std::uint64_t cleared = 0;
    bool complete = true; // false when a worker did not answer in time (or the workers are stopped)
};

class appliance {
public:
    static start_result start(const plan& p, const options& opts);
    ~appliance();
    appliance(const appliance&) = delete;
    appliance& operator=(const appliance&) = delete;

    // Ends the workers (they flush and drop what they hold), then stops and closes the ports.
    void stop();

    // Puts a new configuration in force: compiled into a snapshot, published with one pointer swap,
    // the old one freed after every worker has passed a quiescent state. The interfaces must be the
    // ones the ports were set up for (same names and devices, in order); their addresses, MTUs and
    // everything else may change. Sessions are checked against the new policies at their next packet.
    // Returns an error and changes nothing when the plan cannot be applied.
    std::string apply(const plan& p);

    // True when every worker has polled without finding packets for `idle_ms`, nothing waits for ARP and
    // no handoff ring holds packets: a pcap input has been read to its end and its effects have left.
    bool drained(std::uint64_t idle_ms) const;

    unsigned workers() const noexcept
    {
        return static_cast<unsigned>(workers_.size());
    }
    const worker& worker_at(unsigned i) const noexcept
    {
        return *workers_[i];
    }
    // Sum over workers.
    std::array<std::uint64_t, counter_count> totals() const;
    // Sessions in every worker's table now.
    std::uint64_t sessions_active() const;
    // Asks every worker for its sessions that match `f`, removing them too with `clear` (messages to the
    // workers, served between their bursts: the control core never touches their tables). Copies at most
    // `max_listed` sessions. Not for the packet path: it waits for the workers.
    // With `sip_tables`, the calls and pinholes too, and what `sip` asks of them.
    session_list query_sessions(const nat::session_filter& f, bool clear, std::size_t max_listed,
                                unsigned timeout_ms = 5000, bool sip_tables = false, const sip_query& sip = {}) const;
    // Runs f(const snapshot&) on the current configuration, safe against a concurrent publish.
    template <class F>
    auto with_snapshot(F&& f) const
    {
        return snapshots_->read_for_control(std::forward<F>(f));
    }
    const std::vector<port_binding>& ports() const noexcept
    {
        return ports_;
    }
    // diagnose sniffer packet: the workers filter what they receive and send on `r.ports` and copy up to
    // `r.count` packets, handed to `take` here until then or `r.timeout`; `idle` runs between drains
    // (the control core's other work). Waits for the workers to let go of the filter before returning.
    sniff_result sniff(const sniff_request& r, const std::function<void()>& idle,
                       const std::function<void(const sniffed_packet&)>& take);
    // Port statistics of interface i: live while running, as they were at stop() afterwards.
    rte_eth_stats port_stats(std::size_t i) const;
    // The control core: f(const log_record&) for the records the workers have written since the last
    // call, at most `budget` of them; how many. Only one thread may drain.
    template <class F>
    unsigned drain_logs(unsigned budget, F&& f)
    {
        unsigned n = 0;
        for (auto& ring : logs_) {
            while (n < budget) {
                const log_record* r = ring->peek();
                if (r == nullptr) {
                    break;
                }
                f(*r);
                ring->release();
                ++n;
            }
        }
        return n;
    }

private:
    appliance() = default;

    rte_mempool* pool_ = nullptr;
    rte_mempool* indirect_pool_ = nullptr;
    std::vector<port_binding> ports_;
    std::vector<std::string> bound_devices_; // each interface's dpdk-port as configured at start
    std::vector<rte_eth_stats> final_stats_;
    bool ports_up_ = false;
    std::unique_ptr<snapshot_holder> snapshots_;
    std::unique_ptr<nat::rate_meters> meters_; // the ALG's request rates, shared by the workers
    std::unique_ptr<nat::policy_calls> policy_calls_; // each policy's calls, counted by all the workers
    std::vector<std::unique_ptr<log_ring>> logs_;     // a worker's log records, by worker
    ring_mesh rings_;
    std::vector<std::unique_ptr<worker>> workers_;
    std::atomic<bool> stop_{false};
    bool running_ = false;
};

} // namespace sipalg::dp
