// See appliance.hpp.
#include "dataplane/appliance.hpp"

#include <fmt/format.h>
#include <linux/mempolicy.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace sipalg::dp {

namespace {

// While a worker's tables are made (on the control thread), the pages the kernel gives are taken from
// the NUMA node of the lcore that will use them (MPOL_PREFERRED), then the thread's default policy is
// back. Pages touched first by the worker itself (the session table fills as it is used) are local by
// the kernel's first-touch rule anyway. On one node, or where the kernel refuses, nothing changes.
class numa_preference {
public:
    explicit numa_preference(unsigned socket) noexcept
    {
        if (rte_socket_count() < 2 || socket >= 64) {
            return;
        }
        const unsigned long mask = 1ul << socket;
        set_ = syscall(SYS_set_mempolicy, MPOL_PREFERRED, &mask, 64) == 0;
    }
    ~numa_preference()
    {
        if (set_) {
            syscall(SYS_set_mempolicy, MPOL_DEFAULT, nullptr, 0);
        }
    }
    numa_preference(const numa_preference&) = delete;
    numa_preference& operator=(const numa_preference&) = delete;

private:
    bool set_ = false;
};

int worker_main(void* arg)
{
    return static_cast<worker*>(arg)->run();
}

// Which worker polls queue q of a port with `queues` queues, among `workers`. With a queue per worker,
// worker q; with fewer (single-queue virtual devices), spread the ports over the workers.
unsigned queue_owner(std::uint16_t port, std::uint16_t q, std::uint16_t queues, unsigned workers)
{
    if (queues >= workers) {
        return q;
    }
    return (static_cast<unsigned>(port) + q) % workers;
}

} // namespace

start_result appliance::start(const plan& p, const options& opts)
{
    start_result r;
    std::unique_ptr<appliance> a(new appliance());
    const unsigned nworkers = rte_lcore_count() - 1;
    if (nworkers == 0) {
        r.error = "sipalgd needs at least two lcores (for example -l 0,1): the main lcore is the control core, "
                  "every other lcore is a worker";
        return r;
    }
    if (nworkers > max_workers) {
        r.error = fmt::format("at most {} workers are supported; give fewer lcores", max_workers);
        return r;
    }
    const int field = register_handoff_field();
    if (field < 0) {
        r.error = fmt::format("cannot register the handoff mbuf field ({})", rte_strerror(-field));
        return r;
    }
    const int socket = static_cast<int>(rte_socket_id());
    const auto buf_size = static_cast<std::uint16_t>(
        std::min<unsigned>(UINT16_MAX, unsigned{opts.mbuf_data_room} + RTE_PKTMBUF_HEADROOM));
    a->pool_ = rte_pktmbuf_pool_create("sipalg_pkts", opts.mbufs, 256, 0, buf_size, socket);
    // Indirect mbufs of fragmentation carry no data room of their own.
    a->indirect_pool_ = rte_pktmbuf_pool_create("sipalg_indirect", std::max<std::uint32_t>(1024, opts.mbufs / 4), 256,
                                                0, 0, socket);
    if (a->pool_ == nullptr || a->indirect_pool_ == nullptr) {
        r.error = fmt::format("cannot create the mbuf pools of {} mbufs ({}); give the EAL more memory (-m) or "
                              "lower --mbufs",
                              opts.mbufs, rte_strerror(rte_errno));
        return r;
    }
    auto ports = setup_ports(p, nworkers, opts.rx_descriptors, opts.tx_descriptors, a->pool_);
    if (!ports.error.empty()) {
        r.error = ports.error;
        return r;
    }
    a->ports_ = std::move(ports.bindings);
    a->ports_up_ = true;
    for (const auto& itf : p.interfaces) {
        a->bound_devices_.push_back(itf.dpdk_port);
    }

    a->snapshots_ = snapshot_holder::create(nworkers);
    a->meters_ = std::make_unique<nat::rate_meters>(4096, nat::ticks_per_second);
    a->policy_calls_ = std::make_unique<nat::policy_calls>();
    if (opts.log_ring_size == 0 || (opts.log_ring_size & (opts.log_ring_size - 1)) != 0) {
        r.error = fmt::format("--log-ring-size {} is not a power of two", opts.log_ring_size);
        return r;
    }
    for (unsigned w = 0; w < nworkers; ++w) {
        a->logs_.push_back(std::make_unique<log_ring>(opts.log_ring_size));
    }
    if (!a->snapshots_) {
        r.error = "cannot allocate the RCU state";
        return r;
    }
    auto snap = compile_snapshot(p, a->ports_, 1);
    if (!snap.snap) {
        r.error = snap.error;
        return r;
    }
    a->snapshots_->publish(std::move(snap.snap));

    if (nworkers > 1) {
        if (auto err = a->rings_.create(nworkers, opts.handoff_ring_size); !err.empty()) {
            r.error = err;
            return r;
        }
    }

    std::vector<unsigned> lcores;
    {
        unsigned lcore = 0;
        RTE_LCORE_FOREACH_WORKER(lcore)
        {
            lcores.push_back(lcore);
        }
    }
    std::vector<worker_setup> setups(nworkers);
    for (unsigned w = 0; w < nworkers; ++w) {
        auto& s = setups[w];
        s.id = w;
        s.socket = rte_lcore_to_socket_id(lcores[w]);
        s.workers = nworkers;
        s.tx_queue.fill(-1);
        s.pool = a->pool_;
        s.indirect_pool = a->indirect_pool_;
        s.rings = nworkers > 1 ? &a->rings_ : nullptr;
        s.handoff_field = field;
        s.snapshots = a->snapshots_.get();
        s.meters = a->meters_.get();
        s.policy_calls = a->policy_calls_.get();
        s.log = a->logs_[w].get();
        s.opts = opts;
        s.stop = &a->stop_;
    }
    for (const auto& b : a->ports_) {
        for (std::uint16_t q = 0; q < b.rx_queues; ++q) {
            setups[queue_owner(b.port_id, q, b.rx_queues, nworkers)].rx_queues.push_back({b.port_id, q});
        }
        std::vector<int> owner_of_txq(b.tx_queues);
        for (std::uint16_t q = 0; q < b.tx_queues; ++q) {
            const unsigned w = queue_owner(b.port_id, q, b.tx_queues, nworkers);
            setups[w].tx_queue[b.port_id] = static_cast<std::int16_t>(q);
            owner_of_txq[q] = static_cast<int>(w);
        }
        // Workers without a TX queue on this port hand their frames to an owner, spread over the queues.
        for (unsigned w = 0; w < nworkers; ++w) {
            setups[w].tx_owner[b.port_id] = static_cast<std::uint8_t>(owner_of_txq[w % b.tx_queues]);
        }
    }
    for (unsigned w = 0; w < nworkers; ++w) {
        const numa_preference local(setups[w].socket); // the worker's state and tables on its own node
        auto created = worker::create(setups[w]);
        if (!created.w) {
            r.error = created.error;
            return r;
        }
        a->workers_.push_back(std::move(created.w));
    }

    unsigned lcore = 0;
    unsigned w = 0;
    RTE_LCORE_FOREACH_WORKER(lcore)
    {
        const int rc = rte_eal_remote_launch(worker_main, a->workers_[w].get(), lcore);
        if (rc != 0) {
            a->stop();
            r.error = fmt::format("cannot launch worker {} on lcore {} ({})", w, lcore, rte_strerror(-rc));
            return r;
        }
        a->running_ = true;
        ++w;
    }
    r.app = std::move(a);
    return r;
}

appliance::~appliance()
{
    stop();
    workers_.clear();
    rings_.drain();
    snapshots_.reset();
    rte_mempool_free(indirect_pool_);
    rte_mempool_free(pool_);
}

void appliance::stop()
{
    stop_.store(true, std::memory_order_relaxed);
    if (running_) {
        rte_eal_mp_wait_lcore();
        running_ = false;
    }
    rings_.drain();
    if (ports_up_) {
        final_stats_.clear();
        for (std::size_t i = 0; i < ports_.size(); ++i) {
            final_stats_.push_back(port_stats(i));
        }
        stop_ports(ports_);
        ports_up_ = false;
    }
}

rte_eth_stats appliance::port_stats(std::size_t i) const
{
    if (!ports_up_) {
        return i < final_stats_.size() ? final_stats_[i] : rte_eth_stats{};
    }
    rte_eth_stats st{};
    rte_eth_stats_get(ports_[i].port_id, &st);
    return st;
}

bool appliance::drained(std::uint64_t idle_ms) const
{
    const std::uint64_t now = rte_rdtsc();
    const std::uint64_t idle_cycles = rte_get_tsc_hz() / 1000 * idle_ms;
    for (const auto& w : workers_) {
        const auto a = w->activity();
        // The loop count proves the worker ran and found nothing; the time covers the rest.
        if (a.idle_loops < 1000 || now - a.last_active_tsc < idle_cycles || a.held_packets != 0) {
            return false;
        }
    }
    return rings_.empty();
}

std::string appliance::apply(const plan& p)
{
    if (p.interfaces.size() != ports_.size()) {
        return fmt::format("the interfaces cannot change while running ({} configured, {} bound to ports)",
                           p.interfaces.size(), ports_.size());
    }
    const std::uint64_t generation = snapshots_->read_for_control([&](const snapshot& s) { return s.generation; }) + 1;
    std::string mismatch = snapshots_->read_for_control([&](const snapshot& s) {
        for (std::size_t i = 0; i < p.interfaces.size(); ++i) {
            if (p.interfaces[i].name != s.interfaces[i].name) {
                return fmt::format("interface {} cannot become {} while running", s.interfaces[i].name,
                                   p.interfaces[i].name);
            }
            if (p.interfaces[i].dpdk_port != bound_devices_[i]) {
                return fmt::format("interface {} cannot move from {} to {} while running", p.interfaces[i].name,
                                   bound_devices_[i], p.interfaces[i].dpdk_port);
            }
        }
        return std::string{};
    });
    if (!mismatch.empty()) {
        return mismatch;
    }
    // Only this (control) thread publishes: the current snapshot stays while the next is made from it.
    auto snap = compile_snapshot(p, ports_, generation, snapshots_->current());
    if (!snap.snap) {
        return snap.error;
    }
    snapshots_->publish(std::move(snap.snap));
    return {};
}

std::uint64_t appliance::sessions_active() const
{
    std::uint64_t n = 0;
    for (const auto& w : workers_) {
        n += w->sessions_active();
    }
    return n;
}

session_list appliance::query_sessions(const nat::session_filter& f, bool clear, std::size_t max_listed,
                                       unsigned timeout_ms, bool sip_tables, const sip_query& sip) const
{
    session_list result;
    if (!running_) {
        result.complete = false;
        return result;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    struct asked {
        std::unique_ptr<session_query> q;
        std::unique_ptr<std::vector<nat::session_info>> out;
        std::unique_ptr<std::vector<nat::call_entry>> calls;
        std::unique_ptr<std::vector<nat::pinhole>> pinholes;
        bool posted = false;
    };
    std::vector<asked> queries(workers_.size());
    for (auto& a : queries) {
        a.out = std::make_unique<std::vector<nat::session_info>>();
        a.out->reserve(max_listed);
        a.q = std::make_unique<session_query>();
        a.q->filter = f;
        a.q->clear = clear;
        a.q->out = a.out.get();
        if (sip_tables) {
            a.calls = std::make_unique<std::vector<nat::call_entry>>();
            a.calls->reserve(max_listed);
            a.pinholes = std::make_unique<std::vector<nat::pinhole>>();
            a.pinholes->reserve(max_listed);
            a.q->calls = a.calls.get();
            a.q->pinholes = a.pinholes.get();
            a.q->end_calls = sip.end_calls.empty() ? nullptr : &sip.end_calls;
        }
    }
    // Post to every worker (one query at a time each: another client's may be in progress), then wait.
    bool pending = true;
    while (pending && std::chrono::steady_clock::now() < deadline) {
        pending = false;
        for (std::size_t i = 0; i < workers_.size(); ++i) {
            auto& a = queries[i];
            if (!a.posted) {
                a.posted = workers_[i]->post(*a.q);
            }
            pending = pending || !a.posted || !a.q->done.load(std::memory_order_acquire);
        }
        if (pending) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    for (auto& a : queries) {
        if (a.posted && !a.q->done.load(std::memory_order_acquire)) {
            // The worker still holds it: leave it (and its vector) to the worker rather than free it
            // under its feet. Only a stalled worker gets here.
            a.q.release();
            a.out.release();
            a.calls.release();
            a.pinholes.release();
            result.complete = false;
            continue;
        }
        if (!a.posted) {
            result.complete = false;
            continue;
        }
        result.matched += a.q->matched;
        result.cleared += a.q->cleared;
        result.calls_ended += a.q->calls_ended;
        for (const auto& s : *a.out) {
            if (result.sessions.size() < max_listed) {
                result.sessions.push_back(s);
            }
        }
        const auto worker = static_cast<unsigned>(&a - queries.data());
        const std::uint32_t now = a.q->table_now;
        const auto seconds = [](std::uint32_t ticks) { return ticks / nat::ticks_per_second; };
        if (a.calls) {
            for (const auto& c : *a.calls) {
                const std::uint32_t until = c.ended != 0 ? c.ended : now; // an ended call's times stop
                result.calls.push_back({c, seconds(until - c.created), c.answered != 0 ? seconds(until - c.answered) : 0, worker});
            }
            for (const auto& p : *a.pinholes) {
                const auto left = static_cast<std::int32_t>(p.expires - now);
                result.pinholes.push_back({p, left > 0 ? seconds(static_cast<std::uint32_t>(left)) : 0, worker});
            }
        }
    }
    if (sip.meters && sip_tables) {
        meters_->for_each([&](const nat::rate_meter& m) { result.meters.push_back(m); });
    }
    return result;
}

std::array<std::uint64_t, counter_count> appliance::totals() const
{
    std::array<std::uint64_t, counter_count> t{};
    for (const auto& w : workers_) {
        for (std::size_t i = 0; i < counter_count; ++i) {
            t[i] += w->counters().get(static_cast<counter>(i));
        }
    }
    return t;
}

} // namespace sipalg::dp
