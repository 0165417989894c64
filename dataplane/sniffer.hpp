#pragma once
// diagnose sniffer packet (ARCHITECTURE.md "Packet captures"): while one runs, every worker passes the
// packets it receives and sends on the sniffed ports through a BPF filter (classic BPF from pcap
// syntax, converted to eBPF and JIT-compiled by rte_bpf) and copies the first `budget` that match into a
// ring of its own, which the control core drains and prints. No sniffer: one relaxed load per burst.
#include "dataplane/log_ring.hpp"
#include "dataplane/sniff_prefilter.hpp"

#include <rte_bpf.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

struct rte_mbuf;

namespace sipalg::dp {

inline constexpr std::uint32_t sniff_snap_length = 1600;

struct sniffed_packet {
    std::uint64_t tsc = 0;
    std::uint16_t port = 0;    // the DPDK port
    std::uint8_t out = 0;      // sent (else received)
    std::uint32_t length = 0;  // on the wire
    std::uint32_t caplen = 0;  // copied
    std::array<std::uint8_t, sniff_snap_length> data;
};

struct sniffer {
    const rte_bpf* bpf = nullptr; // null: every packet
    rte_bpf_jit jit{};            // its JIT-compiled form, when there is one
    sniff_prefilter prefilter;
    std::uint64_t ports = ~std::uint64_t{0}; // a bit per DPDK port sniffed
    std::atomic<std::int64_t> budget{0};     // packets still to take, over all the workers
    std::vector<std::unique_ptr<record_ring<sniffed_packet>>> rings; // by worker
    std::atomic<std::uint64_t> lost{0};      // matched, but a ring was full

    // Whether a frame of `port` is to be looked at: the port is sniffed and packets are still wanted.
    bool wants(std::uint16_t port) const noexcept
    {
        return (ports >> port & 1u) != 0 && budget.load(std::memory_order_relaxed) > 0;
    }
    // Whether the filter may take a frame whose first bytes are `head` (`n` of them in the first segment).
    bool may_take(const std::uint8_t* head, std::uint32_t n) const noexcept
    {
        if (!prefilter.active || n < 24) {
            return true;
        }
        const unsigned type = static_cast<unsigned>(head[12]) << 8 | head[13];
        if (type == 0x0800) {
            return (prefilter.ipv4[head[23] >> 6] >> (head[23] & 63) & 1u) != 0;
        }
        return type == 0x0806 ? prefilter.arp : type == 0x86dd ? prefilter.ipv6 : true;
    }
    bool matches(rte_mbuf* m) const noexcept
    {
        if (bpf == nullptr) {
            return true;
        }
        return (jit.func != nullptr ? jit.func(m) : rte_bpf_exec(bpf, m)) != 0;
    }
};

} // namespace sipalg::dp
