// See route_plan.hpp.
#include "control/route_plan.hpp"

#include "control/firewall_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <tuple>

namespace sipalg::control {

namespace {

struct candidate {
    unsigned distance;
    std::uint32_t nexthop;
};

class plan_builder {
public:
    explicit plan_builder(plan_result& out) : out_(out) {}

    std::uint32_t nexthop(const dp::nexthop_plan& nh)
    {
        auto& hops = out_.plan.nexthops;
        const auto it = std::find(hops.begin(), hops.end(), nh);
        if (it != hops.end()) {
            return static_cast<std::uint32_t>(it - hops.begin());
        }
        hops.push_back(nh);
        return static_cast<std::uint32_t>(hops.size() - 1);
    }

    // Keeps the candidate with the lowest distance per prefix; on a tie the first one stays.
    void offer(ipv4_prefix p, unsigned distance, std::uint32_t nh)
    {
        const auto key = std::make_pair(p.network(), p.length);
        const auto it = best_.find(key);
        if (it == best_.end() || distance < it->second.distance) {
            best_[key] = candidate{distance, nh};
        }
    }

    void finish()
    {
        for (const auto& [key, c] : best_) {
            out_.plan.routes.push_back({ipv4_prefix{key.first, key.second}, c.nexthop});
        }
        std::sort(out_.plan.routes.begin(), out_.plan.routes.end(), [](const dp::route_plan& a, const dp::route_plan& b) {
            return std::tie(a.prefix.length, a.prefix.address) < std::tie(b.prefix.length, b.prefix.address);
        });
    }

private:
    plan_result& out_;
    std::map<std::pair<ipv4_address, std::uint8_t>, candidate> best_;
};

// RFC 1812 §5.3.7 and §4.2.2.11 (the limited broadcast inside 240/4 has its own, longer entry).
constexpr std::array<ipv4_prefix, 3> martian_destinations{
    ipv4_prefix{make_ipv4(0, 0, 0, 0), 8},
    ipv4_prefix{make_ipv4(127, 0, 0, 0), 8},
    ipv4_prefix{make_ipv4(240, 0, 0, 0), 4},
};

std::optional<std::uint16_t> interface_index(const config& cfg, std::string_view name)
{
    for (std::size_t i = 0; i < cfg.interfaces.size(); ++i) {
        if (cfg.interfaces[i].name == name) {
            return static_cast<std::uint16_t>(i);
        }
    }
    return std::nullopt;
}

std::optional<std::uint16_t> interface_holding(const config& cfg, ipv4_address a)
{
    for (std::size_t i = 0; i < cfg.interfaces.size(); ++i) {
        if (cfg.interfaces[i].ip.contains(a)) {
            return static_cast<std::uint16_t>(i);
        }
    }
    return std::nullopt;
}

} // namespace

plan_result build_plan(const config& cfg)
{
    plan_result out;
    plan_builder b(out);
    constexpr unsigned connected_distance = 0;
    const auto not_routed = b.nexthop({dp::nexthop_kind::broadcast, 0, 0});

    for (std::size_t idx = 0; idx < cfg.interfaces.size(); ++idx) {
        const auto& i = cfg.interfaces[idx];
        const auto index = static_cast<std::uint16_t>(idx);
        out.plan.interfaces.push_back(dp::interface_plan{
            i.name, i.dpdk_port, i.ip, i.macaddr, i.mtu,
            std::find(i.allowaccess.begin(), i.allowaccess.end(), "ping") != i.allowaccess.end()});
        b.offer(ipv4_prefix{i.ip.address, 32}, connected_distance, b.nexthop({dp::nexthop_kind::local, index, 0}));
        b.offer(ipv4_prefix{i.ip.network(), i.ip.length}, connected_distance,
                b.nexthop({dp::nexthop_kind::connected, index, 0}));
        // RFC 3021: a /31 has no broadcast address; otherwise the directed broadcast is not forwarded
        // (RFC 2644) and never answered as a host.
        if (i.ip.length <= 30) {
            b.offer(ipv4_prefix{i.ip.broadcast(), 32}, connected_distance, not_routed);
        }
    }
    // Multicast and the limited broadcast are not routed, whatever the default route says; martian
    // destinations are invalid everywhere (RFC 1812 §5.3.7). Both are routes here, so the lookup every
    // packet makes also checks them.
    b.offer(ipv4_prefix{make_ipv4(224, 0, 0, 0), 4}, connected_distance, not_routed);
    b.offer(ipv4_prefix{make_ipv4(255, 255, 255, 255), 32}, connected_distance, not_routed);
    const auto martian = b.nexthop({dp::nexthop_kind::martian, 0, 0});
    for (const auto& m : martian_destinations) {
        b.offer(m, connected_distance, martian);
    }

    for (const auto& s : cfg.static_routes) {
        if (!s.enabled) {
            continue;
        }
        const auto what = fmt::format("router static {}", s.id);
        const bool in_martian_space = std::any_of(martian_destinations.begin(), martian_destinations.end(),
                                                  [&](const ipv4_prefix& m) {
                                                      return s.dst.length >= m.length && m.contains(s.dst.address);
                                                  });
        if (in_martian_space) {
            out.errors.push_back({s.where, fmt::format("{}: dst {} is not routable (RFC 1812 5.3.7)", what,
                                                       format_prefix(s.dst))});
            continue;
        }
        if (s.blackhole) {
            b.offer(s.dst, s.distance, b.nexthop({dp::nexthop_kind::blackhole, 0, 0}));
            continue;
        }
        std::optional<std::uint16_t> dev;
        if (!s.device.empty()) {
            dev = interface_index(cfg, s.device);
            if (!dev) {
                out.errors.push_back({s.where, fmt::format("{}: device '{}' does not exist", what, s.device)});
                continue;
            }
        }
        if (s.gateway == 0) {
            // A device without a gateway: the destinations are on that link.
            b.offer(s.dst, s.distance, b.nexthop({dp::nexthop_kind::connected, *dev, 0}));
            continue;
        }
        const auto holder = interface_holding(cfg, s.gateway);
        if (!holder || (dev && *holder != *dev)) {
            out.errors.push_back(
                {s.where, fmt::format("{}: gateway {} is not on a connected subnet{}", what, format_ipv4(s.gateway),
                                      dev ? fmt::format(" of {}", s.device) : std::string{})});
            continue;
        }
        const auto& gw_if = cfg.interfaces[*holder];
        if (s.gateway == gw_if.ip.address || (gw_if.ip.length <= 30 && s.gateway == gw_if.ip.broadcast())) {
            out.errors.push_back({s.where, fmt::format("{}: gateway {} is {}'s own or broadcast address", what,
                                                       format_ipv4(s.gateway), gw_if.name)});
            continue;
        }
        b.offer(s.dst, s.distance, b.nexthop({dp::nexthop_kind::gateway, *holder, s.gateway}));
    }

    for (const auto& a : cfg.arp_table) {
        const auto idx = interface_index(cfg, a.interface);
        if (!idx) {
            out.errors.push_back({a.where, fmt::format("system arp-table {}: interface '{}' does not exist", a.id,
                                                       a.interface)});
            continue;
        }
        if (!cfg.interfaces[*idx].ip.contains(a.ip)) {
            out.errors.push_back({a.where, fmt::format("system arp-table {}: {} is not on {}'s subnet {}", a.id,
                                                       format_ipv4(a.ip), a.interface,
                                                       format_prefix(cfg.interfaces[*idx].ip))});
            continue;
        }
        out.plan.neighbours.push_back({*idx, a.ip, a.mac});
    }

    b.finish();
    for (auto& e : add_firewall(cfg, out.plan)) {
        out.errors.push_back(std::move(e));
    }
    return out;
}

} // namespace sipalg::control
