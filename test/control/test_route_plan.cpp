// From configuration to the data plane's route plan: connected, local, broadcast and static entries.
#include "control/config.hpp"
#include "control/route_plan.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace sipalg;
using namespace sipalg::control;
using sipalg::dp::nexthop_kind;

namespace {

plan_result plan_of(const char* yaml)
{
    const auto loaded = load_yaml(yaml);
    REQUIRE(loaded.ok());
    return build_plan(loaded.cfg);
}

// The next hop that the plan's routes give for exactly this prefix.
const dp::nexthop_plan* route_for(const plan_result& r, ipv4_prefix p)
{
    for (const auto& route : r.plan.routes) {
        if (route.prefix == p) {
            return &r.plan.nexthops.at(route.nexthop);
        }
    }
    return nullptr;
}

constexpr const char* two_interfaces = R"(system:
  interface:
    port1: {dpdk-port: net_pcap0, ip: 10.0.1.1/24}
    wan1: {dpdk-port: net_pcap1, ip: 198.51.100.1/24}
)";

} // namespace

TEST_CASE("each interface yields its connected prefix, its own address and its broadcast")
{
    const auto r = plan_of(two_interfaces);
    REQUIRE(r.ok());
    const auto* connected = route_for(r, {make_ipv4(10, 0, 1, 0), 24});
    REQUIRE(connected != nullptr);
    REQUIRE(connected->kind == nexthop_kind::connected);
    REQUIRE(connected->interface == 0);
    const auto* local = route_for(r, {make_ipv4(198, 51, 100, 1), 32});
    REQUIRE(local != nullptr);
    REQUIRE(local->kind == nexthop_kind::local);
    REQUIRE(local->interface == 1);
    const auto* bcast = route_for(r, {make_ipv4(10, 0, 1, 255), 32});
    REQUIRE(bcast != nullptr);
    REQUIRE(bcast->kind == nexthop_kind::broadcast);
    REQUIRE(route_for(r, {make_ipv4(224, 0, 0, 0), 4})->kind == nexthop_kind::broadcast);
    REQUIRE(route_for(r, {0xffffffffu, 32})->kind == nexthop_kind::broadcast);
    REQUIRE(route_for(r, {make_ipv4(0, 0, 0, 0), 8})->kind == nexthop_kind::martian);
    REQUIRE(route_for(r, {make_ipv4(127, 0, 0, 0), 8})->kind == nexthop_kind::martian);
    REQUIRE(route_for(r, {make_ipv4(240, 0, 0, 0), 4})->kind == nexthop_kind::martian);
    // No default route unless configured.
    REQUIRE(route_for(r, {0, 0}) == nullptr);
}

TEST_CASE("a /31 has no broadcast entry (RFC 3021)")
{
    const auto r = plan_of(R"(system:
  interface:
    p2p: {dpdk-port: net_pcap0, ip: 192.0.2.0/31}
)");
    REQUIRE(r.ok());
    REQUIRE(route_for(r, {make_ipv4(192, 0, 2, 1), 32}) == nullptr);
    REQUIRE(route_for(r, {make_ipv4(192, 0, 2, 0), 32})->kind == nexthop_kind::local);
}

TEST_CASE("a static route resolves its gateway to the interface holding it")
{
    const auto r = plan_of(R"(system:
  interface:
    port1: {dpdk-port: net_pcap0, ip: 10.0.1.1/24}
    wan1: {dpdk-port: net_pcap1, ip: 198.51.100.1/24}
router:
  static:
    1: {dst: 0.0.0.0/0, gateway: 198.51.100.254}
    2: {dst: 172.16.0.0/12, gateway: 10.0.1.254, device: port1}
)");
    REQUIRE(r.ok());
    const auto* def = route_for(r, {0, 0});
    REQUIRE(def != nullptr);
    REQUIRE(def->kind == nexthop_kind::gateway);
    REQUIRE(def->interface == 1);
    REQUIRE(def->gateway == make_ipv4(198, 51, 100, 254));
    REQUIRE(route_for(r, {make_ipv4(172, 16, 0, 0), 12})->interface == 0);
}

TEST_CASE("the lower distance wins; on a tie the first route stays; disabled routes are skipped")
{
    const auto r = plan_of(R"(system:
  interface:
    port1: {dpdk-port: net_pcap0, ip: 10.0.1.1/24}
    wan1: {dpdk-port: net_pcap1, ip: 198.51.100.1/24}
router:
  static:
    1: {dst: 0.0.0.0/0, gateway: 198.51.100.254, distance: 20}
    2: {dst: 0.0.0.0/0, gateway: 10.0.1.254, distance: 10}
    3: {dst: 0.0.0.0/0, gateway: 198.51.100.253, distance: 10}
    4: {dst: 0.0.0.0/0, gateway: 198.51.100.252, distance: 1, status: disable}
)");
    REQUIRE(r.ok());
    REQUIRE(route_for(r, {0, 0})->gateway == make_ipv4(10, 0, 1, 254));
    // One entry per prefix.
    REQUIRE(std::count_if(r.plan.routes.begin(), r.plan.routes.end(),
                          [](const dp::route_plan& x) { return x.prefix.length == 0; }) == 1);
}

TEST_CASE("a connected prefix beats a static route to the same prefix")
{
    const auto r = plan_of(R"(system:
  interface:
    port1: {dpdk-port: net_pcap0, ip: 10.0.1.1/24}
router:
  static:
    1: {dst: 10.0.1.0/24, gateway: 10.0.1.254}
)");
    REQUIRE(route_for(r, {make_ipv4(10, 0, 1, 0), 24})->kind == nexthop_kind::connected);
}

TEST_CASE("unreachable gateways and misplaced static neighbours are errors with positions")
{
    const auto loaded = load_yaml(R"(system:
  interface:
    port1: {dpdk-port: net_pcap0, ip: 10.0.1.1/24}
    wan1: {dpdk-port: net_pcap1, ip: 198.51.100.1/24}
  arp-table:
    1: {interface: wan1, ip: 10.0.1.9, mac: 02:00:00:00:00:09}
router:
  static:
    1: {dst: 0.0.0.0/0, gateway: 203.0.113.1}
    2: {dst: 0.0.0.0/0, gateway: 10.0.1.254, device: wan1}
    3: {dst: 0.0.0.0/0, gateway: 10.0.1.1}
)");
    REQUIRE(loaded.ok());
    const auto r = build_plan(loaded.cfg);
    REQUIRE(r.errors.size() == 4);
    REQUIRE(r.errors[0].where.line == 9);
    REQUIRE(r.errors[0].message.find("not on a connected subnet") != std::string::npos);
    REQUIRE(r.errors[1].message.find("of wan1") != std::string::npos);
    REQUIRE(r.errors[2].message.find("own or broadcast") != std::string::npos);
    REQUIRE(r.errors[3].where.line == 6);
    REQUIRE(r.errors[3].message.find("not on wan1's subnet") != std::string::npos);
}

TEST_CASE("static routes into martian space are refused")
{
    const auto loaded = load_yaml(R"(system:
  interface:
    port1: {dpdk-port: net_pcap0, ip: 10.0.1.1/24}
router:
  static:
    1: {dst: 127.1.0.0/16, gateway: 10.0.1.254}
    2: {dst: 0.0.0.0/0, gateway: 10.0.1.254}
)");
    REQUIRE(loaded.ok());
    const auto r = build_plan(loaded.cfg);
    REQUIRE(r.errors.size() == 1);
    REQUIRE(r.errors[0].message.find("127.1.0.0/16 is not routable") != std::string::npos);
}

TEST_CASE("blackhole routes and device-only routes")
{
    const auto r = plan_of(R"(system:
  interface:
    port1: {dpdk-port: net_pcap0, ip: 10.0.1.1/24}
router:
  static:
    1: {dst: 192.0.2.0/24, blackhole: enable}
    2: {dst: 203.0.113.0/24, device: port1}
)");
    REQUIRE(r.ok());
    REQUIRE(route_for(r, {make_ipv4(192, 0, 2, 0), 24})->kind == nexthop_kind::blackhole);
    REQUIRE(route_for(r, {make_ipv4(203, 0, 113, 0), 24})->kind == nexthop_kind::connected);
}
