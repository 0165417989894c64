// The port ledger: a port is free for an inside endpoint to hold alone only when nobody uses it or only
// that endpoint does; shared uses are counted; outside the slice nothing is ever free.
#include "nat/port_ledger.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <random>

using namespace sipalg;
using namespace sipalg::nat;

TEST_CASE("a port held alone is free only for its owner; shared uses are counted per protocol")
{
    port_ledger l(1024, 1000);
    const auto phone = port_ledger::owner_of(0x0a000102, 5060);
    const auto other = port_ledger::owner_of(0x0a000103, 5060);
    CHECK(l.free_for(ip_proto::udp, 1500, phone));
    l.take(ip_proto::udp, 1500, phone);
    CHECK(l.exclusive(ip_proto::udp, 1500));
    CHECK(l.free_for(ip_proto::udp, 1500, phone));  // its second SIP peer: the same public port
    CHECK_FALSE(l.free_for(ip_proto::udp, 1500, other));
    CHECK(l.free_for(ip_proto::tcp, 1500, other));  // protocols are apart
    l.take(ip_proto::udp, 1500, phone);
    CHECK(l.users(ip_proto::udp, 1500) == 2);
    l.give(ip_proto::udp, 1500);
    CHECK_FALSE(l.free_for(ip_proto::udp, 1500, other));
    l.give(ip_proto::udp, 1500);
    CHECK(l.users(ip_proto::udp, 1500) == 0);
    CHECK_FALSE(l.exclusive(ip_proto::udp, 1500));
    CHECK(l.free_for(ip_proto::udp, 1500, other));
    l.give(ip_proto::udp, 1500); // one too many: stays at 0
    CHECK(l.users(ip_proto::udp, 1500) == 0);

    // A shared use keeps the port from anyone who would hold it alone.
    l.take(ip_proto::tcp, 2000, 0);
    CHECK_FALSE(l.exclusive(ip_proto::tcp, 2000));
    CHECK_FALSE(l.free_for(ip_proto::tcp, 2000, phone));
    // Outside the slice, and other protocols: never free, nothing counted.
    CHECK_FALSE(l.free_for(ip_proto::udp, 1023, phone));
    CHECK_FALSE(l.free_for(ip_proto::udp, 2024, phone));
    CHECK_FALSE(l.free_for(ip_proto::icmp, 1500, phone));
    l.take(ip_proto::udp, 65535, phone);
    CHECK(l.users(ip_proto::udp, 65535) == 0);
}

TEST_CASE("random takes and gives agree with a reference")
{
    port_ledger l(1024, 64);
    std::map<std::uint16_t, std::pair<std::uint32_t, std::uint64_t>> ref; // port: users, owner (0: shared)
    std::mt19937 rng(12);
    for (int i = 0; i < 20000; ++i) {
        const auto port = static_cast<std::uint16_t>(1024 + rng() % 64);
        const std::uint64_t owner = rng() % 3 == 0 ? 0 : port_ledger::owner_of(static_cast<ipv4_address>(0x0a000100 + rng() % 3), 5060);
        auto& [users, held] = ref[port];
        const bool free = users == 0 || (held != 0 && held == owner);
        if (owner != 0) {
            REQUIRE(l.free_for(ip_proto::udp, port, owner) == free);
        }
        // As the worker takes them: a shared use only where nobody holds the port alone.
        if (rng() % 2 == 0 && (owner == 0 ? held == 0 : free)) {
            l.take(ip_proto::udp, port, owner);
            if (users == 0) {
                held = owner;
            }
            ++users;
        } else if (users != 0) {
            l.give(ip_proto::udp, port);
            if (--users == 0) {
                held = 0;
            }
        }
        REQUIRE(l.users(ip_proto::udp, port) == users);
        REQUIRE(l.exclusive(ip_proto::udp, port) == (users != 0 && held != 0));
    }
}
