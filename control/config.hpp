#pragma once
// The configuration model: FortiOS objects with FortiOS key names (ARCHITECTURE.md "Names"), read from
// YAML with every error reported at once, each with its line and column. This part of the model
// is what routing needs: interfaces, static routes and static ARP entries; later issues add settings,
// session helpers, firewall objects, policies and VoIP profiles to the same structure.
#include "nat/ipv4.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sipalg::control {

// 1-based; 0 means "no position" (an error about the document as a whole).
struct source_position {
    int line = 0;
    int column = 0;
};

struct config_error {
    source_position where;
    std::string message;
};

// "line:column: message", or the message alone without a position.
std::string format_error(const config_error& e);

// config system interface / edit <name>
struct interface_config {
    std::string name;
    std::string dpdk_port;            // sipalg's binding of the interface to a DPDK port
    ipv4_prefix ip;                   // set ip 10.0.1.1 255.255.255.0 (or 10.0.1.1/24)
    std::optional<mac_address> macaddr;
    std::uint16_t mtu = 1500;
    std::vector<std::string> allowaccess; // ping, https, ssh, ...: only ping has an effect here
    source_position where;
};

// config router static / edit <id>
struct static_route_config {
    std::uint32_t id = 0;
    ipv4_prefix dst;
    ipv4_address gateway = 0;
    std::string device;
    std::uint8_t distance = 10; // FortiOS default administrative distance of static routes
    bool enabled = true;        // set status enable|disable
    bool blackhole = false;     // set blackhole enable
    source_position where;
};

// config system arp-table / edit <id>
struct arp_entry_config {
    std::uint32_t id = 0;
    std::string interface;
    ipv4_address ip = 0;
    mac_address mac{};
    source_position where;
};

struct config {
    std::vector<interface_config> interfaces;
    std::vector<static_route_config> static_routes;
    std::vector<arp_entry_config> arp_table;

    const interface_config* find_interface(std::string_view name) const;
};

struct load_result {
    config cfg;
    std::vector<config_error> errors;
    bool ok() const
    {
        return errors.empty();
    }
};

// Parses and validates a YAML document. Unknown keys, wrong types, bad values and dangling references
// are all reported, in document order.
load_result load_yaml(std::string_view text);
// The same for a file; an unreadable file is one error naming the path.
load_result load_yaml_file(const std::string& path);

} // namespace sipalg::control
