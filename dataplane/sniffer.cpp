// diagnose sniffer packet: the workers' side (filter and copy) and the appliance's (publish, drain,
// withdraw). See sniffer.hpp.
#include "dataplane/appliance.hpp"
#include "dataplane/sniffer.hpp"
#include "dataplane/snapshot.hpp"
#include "dataplane/worker.hpp"

#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

namespace sipalg::dp {

// The packets of a burst the sniffer's filter takes, while its budget lasts: copied (up to the snap
// length) into this worker's ring.
void worker::sniff(sniffer& sn, rte_mbuf* const* pkts, unsigned n, std::uint16_t port, bool out) noexcept
{
    if ((sn.ports >> port & 1u) == 0 || sn.budget.load(std::memory_order_relaxed) <= 0) {
        return;
    }
    record_ring<sniffed_packet>& ring = *sn.rings[id_];
    // Received packets are read here before the packet path has asked for them: their headers all asked
    // for at once, so that the filter waits for memory once a burst, not once a packet.
    for (unsigned i = 0; !out && i < n; ++i) {
        rte_prefetch0(rte_pktmbuf_mtod(pkts[i], const void*));
    }
    for (unsigned i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        if (!sn.matches(m) || sn.budget.fetch_sub(1, std::memory_order_relaxed) <= 0) {
            continue;
        }
        sniffed_packet* p = ring.reserve();
        if (p == nullptr) {
            sn.lost.fetch_add(1, std::memory_order_relaxed);
            continue;
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
        ring.commit();
    }
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
