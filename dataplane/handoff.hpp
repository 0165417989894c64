#pragma once
// Cross-worker traffic (ARCHITECTURE.md "Processes and cores", STYLE.md item 14): one single-producer
// single-consumer ring per ordered pair of workers. A packet that reached the wrong worker goes to its
// owner; a packet for a port whose TX queue another worker owns goes there; ARP is copied to every
// worker so each private neighbour table learns. What the receiver must do travels in an mbuf dynamic
// field. A full ring drops and counts.
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sipalg::dp {

enum class handoff_kind : std::uint8_t {
    ipv4 = 0,      // a validated IPv4 packet for its owner to reassemble, route and forward
    arp_learn = 1, // a copy of an ARP packet: learn the sender, send nothing
    transmit = 2,  // a finished frame for the worker that owns tx_port's TX queue
    probe = 3,     // a packet without a session at its source's worker: look here, else send it back
    fresh = 4,     // a probe that found no session: the source's worker creates one without probing again
};

struct handoff_meta {
    handoff_kind kind;
    std::uint8_t reserved;
    std::uint16_t tx_port;
};

// Registers the dynamic field once per process; returns its offset or a negative errno.
int register_handoff_field();

inline handoff_meta& handoff_of(rte_mbuf* m, int offset) noexcept
{
    return *RTE_MBUF_DYNFIELD(m, offset, handoff_meta*);
}

class ring_mesh {
public:
    ring_mesh() = default;
    ring_mesh(const ring_mesh&) = delete;
    ring_mesh& operator=(const ring_mesh&) = delete;
    ~ring_mesh();

    // Creates workers*(workers-1) rings; returns an error text or empty.
    std::string create(unsigned workers, unsigned size);
    // Frees whatever mbufs are still queued (at shutdown).
    void drain();
    // No packet in any ring.
    bool empty() const noexcept;

    rte_ring* ring(unsigned from, unsigned to) const noexcept
    {
        return rings_[from * workers_ + to];
    }

private:
    unsigned workers_ = 0;
    std::vector<rte_ring*> rings_;
};

} // namespace sipalg::dp
