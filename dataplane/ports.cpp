// See ports.hpp.
#include "dataplane/ports.hpp"

#include <fmt/format.h>
#include <rte_ethdev.h>

#include <algorithm>
#include <charconv>

namespace sipalg::dp {

std::optional<std::uint16_t> find_port(const std::string& name)
{
    std::uint16_t id = 0;
    if (rte_eth_dev_get_port_by_name(name.c_str(), &id) == 0) {
        return id;
    }
    unsigned index = 0;
    const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), index);
    if (!name.empty() && ec == std::errc{} && end == name.data() + name.size() && index < RTE_MAX_ETHPORTS &&
        rte_eth_dev_is_valid_port(static_cast<std::uint16_t>(index)) != 0) {
        return static_cast<std::uint16_t>(index);
    }
    return std::nullopt;
}

std::string available_ports()
{
    std::string out;
    for (std::uint16_t id = 0; id < RTE_MAX_ETHPORTS; ++id) {
        if (rte_eth_dev_is_valid_port(id) == 0) {
            continue;
        }
        char name[RTE_ETH_NAME_MAX_LEN] = {};
        rte_eth_dev_get_name_by_port(id, name);
        out += fmt::format("{}{} ({})", out.empty() ? "" : ", ", id, name);
    }
    return out.empty() ? std::string("none") : out;
}

namespace {

struct configured {
    port_binding binding;
    std::string error;
};

configured configure_port(const interface_plan& itf, std::uint16_t port, unsigned workers, std::uint16_t rx_desc,
                          std::uint16_t tx_desc, rte_mempool* pool)
{
    const auto fail = [](std::string e) { return configured{{}, std::move(e)}; };
    rte_eth_dev_info info{};
    int rc = rte_eth_dev_info_get(port, &info);
    if (rc != 0) {
        return fail(fmt::format("cannot read device info ({})", rte_strerror(-rc)));
    }
    const auto rxq = static_cast<std::uint16_t>(std::max<unsigned>(1, std::min<unsigned>(workers, info.max_rx_queues)));
    const auto txq = static_cast<std::uint16_t>(std::max<unsigned>(1, std::min<unsigned>(workers, info.max_tx_queues)));

    rte_eth_conf conf{};
    if (rxq > 1 && info.flow_type_rss_offloads != 0) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf =
            (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP) & info.flow_type_rss_offloads;
    }
    // Reassembled and fragmented datagrams are mbuf chains.
    if ((info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0) {
        conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
    }
    rc = rte_eth_dev_configure(port, rxq, txq, &conf);
    if (rc != 0) {
        return fail(fmt::format("cannot configure {} RX and {} TX queues ({})", rxq, txq, rte_strerror(-rc)));
    }
    std::uint16_t nrx = rx_desc;
    std::uint16_t ntx = tx_desc;
    rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx);
    if (rc != 0) {
        return fail(fmt::format("cannot adjust descriptor counts ({})", rte_strerror(-rc)));
    }
    const auto socket = static_cast<unsigned>(std::max(0, rte_eth_dev_socket_id(port)));
    for (std::uint16_t q = 0; q < rxq; ++q) {
        rc = rte_eth_rx_queue_setup(port, q, nrx, socket, nullptr, pool);
        if (rc != 0) {
            return fail(fmt::format("cannot set up RX queue {} ({})", q, rte_strerror(-rc)));
        }
    }
    for (std::uint16_t q = 0; q < txq; ++q) {
        rc = rte_eth_tx_queue_setup(port, q, ntx, socket, nullptr);
        if (rc != 0) {
            return fail(fmt::format("cannot set up TX queue {} ({})", q, rte_strerror(-rc)));
        }
    }
    // Virtual devices may not take an MTU; the appliance enforces the configured MTU itself when it
    // fragments, so a refusal here is only a note.
    rc = rte_eth_dev_set_mtu(port, itf.mtu);
    if (rc != 0 && rc != -ENOTSUP) {
        fmt::print(stderr, "sipalgd: note: interface {}: device keeps its MTU ({})\n", itf.name, rte_strerror(-rc));
    }
    rte_ether_addr mac{};
    if (itf.mac) {
        std::copy(itf.mac->begin(), itf.mac->end(), mac.addr_bytes);
        rc = rte_eth_dev_default_mac_addr_set(port, &mac);
        if (rc != 0) {
            // The device cannot change its address: receive everything and answer with the configured one.
            rc = rte_eth_promiscuous_enable(port);
            if (rc != 0 && rc != -ENOTSUP) {
                return fail(fmt::format("cannot set MAC {} nor enable promiscuous mode ({})", format_mac(*itf.mac),
                                   rte_strerror(-rc)));
            }
        }
    } else {
        rc = rte_eth_macaddr_get(port, &mac);
        if (rc != 0) {
            return fail(fmt::format("cannot read the MAC address ({})", rte_strerror(-rc)));
        }
    }
    rc = rte_eth_dev_start(port);
    if (rc != 0) {
        return fail(fmt::format("cannot start ({})", rte_strerror(-rc)));
    }
    configured c;
    std::copy(std::begin(mac.addr_bytes), std::end(mac.addr_bytes), c.binding.mac.begin());
    c.binding.port_id = port;
    c.binding.rx_queues = rxq;
    c.binding.tx_queues = txq;
    return c;
}

} // namespace

port_setup setup_ports(const plan& p, unsigned workers, std::uint16_t rx_desc, std::uint16_t tx_desc,
                       rte_mempool* pool)
{
    port_setup out;
    for (const auto& itf : p.interfaces) {
        const auto port = find_port(itf.dpdk_port);
        if (!port) {
            out.error = fmt::format("interface {}: DPDK port '{}' not found (available: {})", itf.name, itf.dpdk_port,
                                    available_ports());
            stop_ports(out.bindings);
            out.bindings.clear();
            return out;
        }
        auto c = configure_port(itf, *port, workers, rx_desc, tx_desc, pool);
        if (!c.error.empty()) {
            out.error = fmt::format("interface {} on DPDK port {} ({}): {}", itf.name, *port, itf.dpdk_port, c.error);
            stop_ports(out.bindings);
            out.bindings.clear();
            return out;
        }
        out.bindings.push_back(c.binding);
    }
    return out;
}

void stop_ports(const std::vector<port_binding>& bindings)
{
    for (const auto& b : bindings) {
        rte_eth_dev_stop(b.port_id);
        rte_eth_dev_close(b.port_id);
    }
}

} // namespace sipalg::dp
