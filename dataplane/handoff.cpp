// See handoff.hpp.
#include "dataplane/handoff.hpp"

#include <fmt/format.h>
#include <rte_errno.h>
#include <rte_lcore.h>

namespace sipalg::dp {

int register_handoff_field()
{
    static const rte_mbuf_dynfield desc = {
        "sipalg_handoff", sizeof(handoff_meta), alignof(handoff_meta), 0,
    };
    const int offset = rte_mbuf_dynfield_register(&desc);
    return offset < 0 ? -rte_errno : offset;
}

ring_mesh::~ring_mesh()
{
    drain();
    for (auto* r : rings_) {
        rte_ring_free(r);
    }
}

std::string ring_mesh::create(unsigned workers, unsigned size)
{
    workers_ = workers;
    rings_.assign(static_cast<std::size_t>(workers) * workers, nullptr);
    for (unsigned from = 0; from < workers; ++from) {
        for (unsigned to = 0; to < workers; ++to) {
            if (from == to) {
                continue;
            }
            const auto name = fmt::format("sipalg_ho_{}_{}", from, to);
            rte_ring* r = rte_ring_create(name.c_str(), size, static_cast<int>(rte_socket_id()),
                                          RING_F_SP_ENQ | RING_F_SC_DEQ);
            if (r == nullptr) {
                return fmt::format("cannot create handoff ring {} ({})", name, rte_strerror(rte_errno));
            }
            rings_[from * workers + to] = r;
        }
    }
    return {};
}

bool ring_mesh::empty() const noexcept
{
    for (const auto* r : rings_) {
        if (r != nullptr && rte_ring_count(r) != 0) {
            return false;
        }
    }
    return true;
}

void ring_mesh::drain()
{
    for (auto* r : rings_) {
        if (r == nullptr) {
            continue;
        }
        void* m = nullptr;
        while (rte_ring_dequeue(r, &m) == 0) {
            rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
        }
    }
}

} // namespace sipalg::dp
