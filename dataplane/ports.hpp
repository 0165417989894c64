#pragma once
// Binds the configured interfaces to DPDK ports and brings them up: one RX and one TX queue per worker
// where the device has them (fewer on single-queue virtual devices; the handoff rings cover the rest),
// RSS across the RX queues, MTU and MAC from the configuration.
#include "dataplane/plan.hpp"
#include "dataplane/snapshot.hpp"

#include <rte_mempool.h>

#include <string>
#include <vector>

namespace sipalg::dp {

struct port_setup {
    std::vector<port_binding> bindings; // one per interface of the plan, same order
    std::string error;                  // set when a port is missing or refuses its configuration
};

// DPDK port id for a device name (net_pcap0, 0000:01:00.0) or a decimal port index.
std::optional<std::uint16_t> find_port(const std::string& name);

// Names of every DPDK port, for error messages ("available: ...").
std::string available_ports();

port_setup setup_ports(const plan& p, unsigned workers, std::uint16_t rx_desc, std::uint16_t tx_desc,
                       rte_mempool* pool);

void stop_ports(const std::vector<port_binding>& bindings);

} // namespace sipalg::dp
