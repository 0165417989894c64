#pragma once
// What the control core hands the data plane: interfaces bound to DPDK ports, the next-hop table and the
// routes that point into it, static neighbours, the firewall (policies, VIPs) and session timeouts. Plain values without DPDK types, built and unit-tested in
// control/ (route_plan), compiled into an immutable snapshot (rte_lpm and friends) in dataplane/.
#include "nat/firewall.hpp"
#include "nat/ipv4.hpp"
#include "nat/session.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sipalg::dp {

struct interface_plan {
    std::string name;      // FortiOS interface name: port1, wan1, ...
    std::string dpdk_port; // DPDK device name (net_pcap0, 0000:01:00.0) or port index
    ipv4_prefix address;   // our address on the link and the connected prefix
    std::optional<mac_address> mac; // configured MAC; otherwise the port's own
    std::uint16_t mtu = 1500;
    bool allow_ping = false; // FortiOS allowaccess ping: answer ICMP echo for our addresses
};

// The forwarding kinds come first so the worker tests "kind <= gateway" once per packet.
enum class nexthop_kind : std::uint8_t {
    connected, // on a connected prefix: the destination itself is the next hop
    gateway,   // via a router on a connected prefix
    local,     // one of our addresses: deliver to the appliance
    blackhole, // drop: FortiOS blackhole route
    broadcast, // drop: multicast, limited and directed broadcast (RFC 1812 5.3.5, RFC 2644): not routed
    martian,   // drop: destinations 0/8, 127/8, 240/4 are never valid (RFC 1812 5.3.7)
};

struct nexthop_plan {
    nexthop_kind kind = nexthop_kind::blackhole;
    std::uint16_t interface = 0; // index into interfaces (local, connected, gateway)
    ipv4_address gateway = 0;    // gateway only
    friend bool operator==(const nexthop_plan&, const nexthop_plan&) = default;
};

struct route_plan {
    ipv4_prefix prefix;    // network form (host bits clear)
    std::uint32_t nexthop; // index into nexthops
    friend bool operator==(const route_plan&, const route_plan&) = default;
};

struct neighbour_plan {
    std::uint16_t interface;
    ipv4_address address;
    mac_address mac;
};

struct plan {
    std::vector<interface_plan> interfaces;
    std::vector<nexthop_plan> nexthops;
    std::vector<route_plan> routes; // one per prefix, the winner of its distance comparison
    std::vector<neighbour_plan> neighbours;
    nat::firewall firewall;         // policies, VIPs and schedules (interface indexes as above)
    nat::session_timeouts timeouts; // seconds
};

} // namespace sipalg::dp
