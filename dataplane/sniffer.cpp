// diagnose sniffer packet: the workers' side (filter and copy) and the appliance's (publish, drain,
// withdraw). See sniffer.hpp.
#include "dataplane/appliance.hpp"
#include "dataplane/sniffer.hpp"
#include "dataplane/snapshot.hpp"
#include "dataplane/worker.hpp"

#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

namespace sipalg::dp {

// A packet the sniffer wants and the filter's protocols allow: the filter run, and a match copied (up to
// the snap length) into this worker's ring while the budget lasts.
void worker::sniff(sniffer& sn, rte_mbuf* m, std::uint16_t port, bool out) noexcept
{
    if (!sn.matches(m) || sn.budget.fetch_sub(1, std::memory_order_relaxed) <= 0) {
        return;
    }
    sniffed_packet* p = sn.rings[id_]->reserve();
    if (p == nullptr) {
        sn.lost.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    p->tsc = now_;
    p->port = port;
    p->out = out ? 1 : 0;
    p->length = rte_pktmbuf_pkt_len(m);
    p->caplen = std::min(p->length, sniff_snap_length);
    const void* bytes = rte_pktmbuf_read(m, 0, p->caplen, p->data.data());
    if (bytes != p->data.data()) {
        std::memcpy(p->data.data(), bytes, p->caplen);
    }
    sn.rings[id_]->commit();
}

sniff_result appliance::sniff(const sniff_request& r, const std::function<void()>& idle,
                              const std::function<void(const sniffed_packet&)>& take)
{
    sniff_result result;
    if (!running_) {
        return result;
    }
    auto sn = std::make_unique<sniffer>();
    sn->bpf = r.bpf;
    sn->jit = r.jit;
    sn->prefilter = r.prefilter;
    sn->ports = r.ports;
    sn->budget.store(static_cast<std::int64_t>(r.count), std::memory_order_relaxed);
    for (std::size_t w = 0; w < workers_.size(); ++w) {
        sn->rings.push_back(std::make_unique<record_ring<sniffed_packet>>(256));
    }
    for (auto& w : workers_) {
        w->set_sniffer(sn.get());
    }
    const auto drain = [&] {
        for (auto& ring : sn->rings) {
            while (const sniffed_packet* p = ring->peek()) {
                if (result.taken < r.count) {
                    take(*p);
                    ++result.taken;
                }
                ring->release();
            }
        }
    };
    const auto deadline = std::chrono::steady_clock::now() + r.timeout;
    while (result.taken < r.count) {
        drain();
        if (std::chrono::steady_clock::now() >= deadline) {
            result.timed_out = result.taken < r.count;
            break;
        }
        idle();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    // Withdrawn: once every worker has passed a quiescent state, none holds it any more.
    for (auto& w : workers_) {
        w->set_sniffer(nullptr);
    }
    rte_rcu_qsbr* q = snapshots_->qsbr();
    rte_rcu_qsbr_check(q, rte_rcu_qsbr_start(q), true);
    drain();
    result.lost = sn->lost.load(std::memory_order_relaxed);
    return result;
}

} // namespace sipalg::dp
