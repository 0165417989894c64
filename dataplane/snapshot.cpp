// See snapshot.hpp.
#include "dataplane/snapshot.hpp"

#include <fmt/format.h>
#include <rte_errno.h>
#include <rte_lpm.h>
#include <rte_malloc.h>

#include <algorithm>


namespace sipalg::dp {

route_table::~route_table()
{
    if (lpm != nullptr) {
        rte_lpm_free(lpm);
    }
}

namespace {

// A new route table for the plan's routes, or an error.
std::shared_ptr<const route_table> make_route_table(const plan& p, std::uint64_t generation, std::string& error)
{
    auto t = std::make_shared<route_table>();
    t->routes = p.routes;
    const std::string name = fmt::format("sipalg_lpm_{}", generation);
    rte_lpm_config cfg{};
    cfg.max_rules = static_cast<std::uint32_t>(std::max<std::size_t>(1024, p.routes.size() * 2));
    cfg.number_tbl8s = static_cast<std::uint32_t>(std::max<std::size_t>(256, p.routes.size() + 64));
    t->lpm = rte_lpm_create(name.c_str(), static_cast<int>(rte_socket_id()), &cfg);
    if (t->lpm == nullptr) {
        error = fmt::format("cannot create the route table ({}); give the EAL more memory (-m)", rte_strerror(rte_errno));
        return nullptr;
    }
    // rte_lpm takes depths 1 to 32: a default route becomes its two /1 halves, except a half that a
    // configured /1 route already covers (the longer prefix wins anyway).
    std::vector<route_plan> routes;
    for (const auto& route : p.routes) {
        if (route.prefix.length != 0) {
            routes.push_back(route);
            continue;
        }
        for (const ipv4_address half : {0u, 0x80000000u}) {
            const ipv4_prefix h{half, 1};
            const bool taken = std::any_of(p.routes.begin(), p.routes.end(),
                                           [&](const route_plan& x) { return x.prefix == h; });
            if (!taken) {
                routes.push_back({h, route.nexthop});
            }
        }
    }
    for (const auto& route : routes) {
        const int rc = rte_lpm_add(t->lpm, route.prefix.network(), route.prefix.length, route.nexthop);
        if (rc != 0) {
            error = fmt::format("cannot add route {} ({})", format_prefix(route.prefix), rte_strerror(-rc));
            return nullptr;
        }
    }
    return t;
}

} // namespace

snapshot_result compile_snapshot(const plan& p, const std::vector<port_binding>& bindings, std::uint64_t generation,
                                 const snapshot* previous)
{
    snapshot_result r;
    auto s = std::make_unique<snapshot>();
    s->generation = generation;
    s->interface_of_port.fill(-1);
    if (bindings.size() != p.interfaces.size()) {
        r.error = "internal: interface bindings do not match the plan";
        return r;
    }
    for (std::size_t i = 0; i < p.interfaces.size(); ++i) {
        const auto& ip = p.interfaces[i];
        const auto& b = bindings[i];
        interface_rt rt;
        rt.name = ip.name;
        rt.index = static_cast<std::uint16_t>(i);
        rt.port = b.port_id;
        rt.address = ip.address;
        rt.mac = b.mac;
        rt.mtu = ip.mtu;
        rt.allow_ping = ip.allow_ping;
        s->interface_of_port[b.port_id] = static_cast<std::int16_t>(i);
        s->mac_of_port[b.port_id] = b.mac;
        s->interfaces.push_back(std::move(rt));
    }
    for (const auto& nh : p.nexthops) {
        nexthop_rt rt;
        rt.kind = nh.kind;
        rt.interface = nh.interface;
        rt.gateway = nh.gateway;
        if (nh.kind <= nexthop_kind::local) {
            const auto& itf = s->interfaces.at(nh.interface);
            rt.port = itf.port;
            rt.mtu = itf.mtu;
        }
        s->nexthops.push_back(rt);
    }
    s->neighbours = p.neighbours;
    s->firewall = p.firewall;
    s->timeouts = p.timeouts;

    // rte_lpm keeps 24-bit next-hop ids; tbl8 groups serve prefixes longer than /24 (our /32 addresses
    // and broadcasts, host routes).
    if (s->nexthops.size() >= (1u << 24)) {
        r.error = "too many next hops for rte_lpm";
        return r;
    }
    // The next-hop ids the routes name are indices into this snapshot's own array: the same routes
    // (prefixes and ids) look up the same ids, so the table of the previous snapshot serves.
    if (previous != nullptr && previous->route_table_of != nullptr && previous->route_table_of->routes == p.routes) {
        s->route_table_of = previous->route_table_of;
    } else {
        s->route_table_of = make_route_table(p, generation, r.error);
        if (s->route_table_of == nullptr) {
            return r;
        }
    }
    s->lpm = s->route_table_of->lpm;
    s->classifier = policy_classifier::build(s->firewall, r.error, previous != nullptr ? previous->classifier : nullptr);
    if (s->classifier == nullptr) {
        return r;
    }
    if (previous != nullptr && previous->generation + 1 == generation) {
        s->policies_kept = nat::policies_kept(previous->firewall, s->firewall);
    }
    r.snap = std::move(s);
    return r;
}

std::unique_ptr<snapshot_holder> snapshot_holder::create(unsigned readers)
{
    const std::size_t size = rte_rcu_qsbr_get_memsize(readers);
    auto* q = static_cast<rte_rcu_qsbr*>(rte_zmalloc("sipalg_qsbr", size, RTE_CACHE_LINE_SIZE));
    if (q == nullptr || rte_rcu_qsbr_init(q, readers) != 0) {
        rte_free(q);
        return nullptr;
    }
    return std::unique_ptr<snapshot_holder>(new snapshot_holder(q));
}

snapshot_holder::~snapshot_holder()
{
    delete current_.exchange(nullptr);
    rte_free(qsbr_);
}

void snapshot_holder::publish(std::unique_ptr<snapshot> next)
{
    std::lock_guard lock(control_readers_);
    const snapshot* old = current_.exchange(next.release(), std::memory_order_acq_rel);
    if (old != nullptr) {
        // Every online worker passes a quiescent state after its current burst; then no one holds `old`.
        rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);
        delete old;
    }
}

} // namespace sipalg::dp
