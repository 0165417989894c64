// The pinhole table: both indexes find what was inserted and forget what was removed (random operations
// against a reference), calls close together, expiry, capacity, and generations for child sessions.
#include "nat/pinhole_table.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <tuple>

using namespace sipalg;
using namespace sipalg::nat;

namespace {

pinhole media(ipv4_address inside, std::uint16_t port, std::uint16_t public_port, std::uint64_t call)
{
    pinhole p;
    p.proto = ip_proto::udp;
    p.inside_address = inside;
    p.inside_port = port;
    p.public_address = 0xc6336401;
    p.public_port = public_port;
    p.call = call;
    p.expires = 100;
    return p;
}

} // namespace

TEST_CASE("a pinhole is found from either side and gone after removal; its generation moves on")
{
    pinhole_table t(16);
    const auto i = t.insert(media(0x0a000102, 4000, 30000, 7));
    REQUIRE(i != pinhole_table::none);
    CHECK(t.find_inside(ip_proto::udp, 0x0a000102, 4000) == i);
    CHECK(t.find_public(ip_proto::udp, 0xc6336401, 30000) == i);
    CHECK(t.find_public(ip_proto::tcp, 0xc6336401, 30000) == pinhole_table::none);
    CHECK(t.insert(media(0x0a000102, 4000, 30002, 7)) == pinhole_table::none); // inside endpoint taken
    CHECK(t.insert(media(0x0a000103, 4000, 30000, 7)) == pinhole_table::none); // public endpoint taken
    const auto g = t.at(i).generation;
    CHECK(t.alive(i, g));
    t.remove(i);
    CHECK_FALSE(t.alive(i, g));
    CHECK(t.find_inside(ip_proto::udp, 0x0a000102, 4000) == pinhole_table::none);
    CHECK(t.size() == 0);
}

TEST_CASE("a call's pinholes close together, other calls' stay")
{
    pinhole_table t(64);
    for (std::uint16_t k = 0; k < 6; ++k) {
        REQUIRE(t.insert(media(0x0a000102, static_cast<std::uint16_t>(4000 + k), static_cast<std::uint16_t>(30000 + k), 1 + k % 2)) != pinhole_table::none);
    }
    REQUIRE(t.insert(media(0x0a000103, 4000, 31000, 0)) != pinhole_table::none); // no call
    CHECK(t.remove_call(1) == 3);
    CHECK(t.size() == 4);
    CHECK(t.find_inside(ip_proto::udp, 0x0a000102, 4001) != pinhole_table::none);
    CHECK(t.find_inside(ip_proto::udp, 0x0a000102, 4000) == pinhole_table::none);
    t.refresh_call(2, 500);
    CHECK(t.at(t.find_inside(ip_proto::udp, 0x0a000102, 4003)).expires == 500);
    CHECK(t.remove_call(2) == 3);
    CHECK(t.remove_call(2) == 0);
    CHECK(t.size() == 1);
}

TEST_CASE("expiry removes what is due, a budget at a time; a full table refuses")
{
    pinhole_table t(8);
    for (std::uint16_t k = 0; k < 8; ++k) {
        auto p = media(0x0a000102, static_cast<std::uint16_t>(4000 + k), static_cast<std::uint16_t>(30000 + k), 3);
        p.expires = k < 4 ? 10 : 1000;
        REQUIRE(t.insert(p) != pinhole_table::none);
    }
    CHECK(t.insert(media(0x0a000109, 1, 1, 0)) == pinhole_table::none);
    unsigned gone = 0;
    for (int i = 0; i < 4; ++i) {
        gone += t.expire(20, 2);
    }
    CHECK(gone == 4);
    CHECK(t.size() == 4);
    CHECK(t.remove_call(3) == 4);
}

TEST_CASE("random inserts and removals agree with a reference map")
{
    pinhole_table t(512);
    std::map<std::tuple<ipv4_address, std::uint16_t>, std::uint32_t> by_inside;
    std::mt19937 rng(42);
    for (int step = 0; step < 200000; ++step) {
        const auto address = static_cast<ipv4_address>(0x0a000000 + rng() % 64);
        const auto port = static_cast<std::uint16_t>(1000 + rng() % 64);
        const auto key = std::make_tuple(address, port);
        if (rng() % 3 != 0) {
            const auto i = t.insert(media(address, port, static_cast<std::uint16_t>(address * 64 + port), rng() % 8));
            if (by_inside.contains(key) || by_inside.size() == 512) {
                REQUIRE(i == pinhole_table::none);
            } else {
                REQUIRE(i != pinhole_table::none);
                by_inside[key] = i;
            }
        } else if (const auto it = by_inside.find(key); it != by_inside.end()) {
            t.remove(it->second);
            by_inside.erase(it);
        }
        if (step % 1000 == 0) {
            for (const auto& [k, i] : by_inside) {
                REQUIRE(t.find_inside(ip_proto::udp, std::get<0>(k), std::get<1>(k)) == i);
                REQUIRE(t.find_public(ip_proto::udp, 0xc6336401, static_cast<std::uint16_t>(std::get<0>(k) * 64 + std::get<1>(k))) == i);
            }
            REQUIRE(t.size() == by_inside.size());
        }
    }
    // Calls: everything of call 5 goes, and only that.
    std::size_t of_five = 0;
    t.for_each([&](std::uint32_t, const pinhole& p) { of_five += p.call == 5; });
    CHECK(t.remove_call(5) == of_five);
    t.for_each([&](std::uint32_t, const pinhole& p) { CHECK(p.call != 5); });
}

TEST_CASE("one phone media port in several calls: a pinhole per call, found by call or far end")
{
    pinhole_table t(16);
    pinhole a = media(0x0a000102, 4000, 30000, 7);
    a.remote_address = 0xcb007101;
    a.remote_port = 6000;
    pinhole b = media(0x0a000102, 4000, 30002, 8);
    b.remote_address = 0xcb007102;
    b.remote_port = 7000;
    const auto ia = t.insert(a);
    const auto ib = t.insert(b);
    REQUIRE(ia != pinhole_table::none);
    REQUIRE(ib != pinhole_table::none);
    CHECK(t.insert(media(0x0a000102, 4000, 30004, 7)) == pinhole_table::none); // same call, same port
    CHECK(t.last_refusal() == pinhole_table::refusal::inside_taken);
    CHECK(t.insert(media(0x0a000102, 4000, 30004, 0)) == pinhole_table::none); // no call: alone or not at all
    const auto to = [&](ipv4_address far) {
        return t.find_inside_if(ip_proto::udp, 0x0a000102, 4000, [&](const pinhole& p) { return p.remote_address == far; });
    };
    CHECK(to(0xcb007101) == ia);
    CHECK(to(0xcb007102) == ib);
    CHECK(to(0xcb007103) == pinhole_table::none);
    // A registration or Contact pinhole does not share its inside endpoint.
    pinhole c = media(0x0a000103, 5060, 30010, 9);
    c.kind = pinhole_kind::contact;
    REQUIRE(t.insert(c) != pinhole_table::none);
    pinhole c2 = media(0x0a000103, 5060, 30012, 10);
    c2.kind = pinhole_kind::contact;
    CHECK(t.insert(c2) == pinhole_table::none);
    CHECK(t.last_refusal() == pinhole_table::refusal::inside_taken);
    // Ending one call leaves the other's pinhole.
    CHECK(t.remove_call(7) == 1);
    CHECK(t.find_inside(ip_proto::udp, 0x0a000102, 4000) == ib);
    CHECK(t.find_public(ip_proto::udp, 0xc6336401, 30000) == pinhole_table::none);
}

TEST_CASE("media and Contact pinholes are counted per inside address and bounded; registrations are not")
{
    pinhole_table t(64);
    for (std::uint16_t i = 0; i < 4; ++i) {
        REQUIRE(t.insert(media(0x0a000102, static_cast<std::uint16_t>(4000 + i), static_cast<std::uint16_t>(30000 + i), 7), 4) !=
                pinhole_table::none);
    }
    CHECK(t.count_of(0x0a000102) == 4);
    CHECK(t.insert(media(0x0a000102, 4010, 30010, 7), 4) == pinhole_table::none);
    CHECK(t.last_refusal() == pinhole_table::refusal::address_limit);
    CHECK(t.insert(media(0x0a000102, 4010, 30010, 7), 0) != pinhole_table::none); // 0: no limit
    CHECK(t.insert(media(0x0a000103, 4000, 30020, 8), 4) != pinhole_table::none); // another address has its own
    pinhole r = media(0x0a000102, 5060, 30030, 0);
    r.kind = pinhole_kind::registration;
    CHECK(t.insert(r, 4) != pinhole_table::none);
    CHECK(t.count_of(0x0a000102) == 5);
    CHECK(t.insert(media(0x0a000102, 4000, 30000, 9), 4) == pinhole_table::none);
    CHECK(t.last_refusal() == pinhole_table::refusal::public_taken);
    // Closing gives the allowance back; an address with none left is forgotten.
    CHECK(t.remove_call(7) == 5);
    CHECK(t.count_of(0x0a000102) == 0);
    CHECK(t.count_of(0x0a000103) == 1);
    CHECK(t.insert(media(0x0a000102, 4000, 30000, 9), 4) != pinhole_table::none);
    CHECK(t.count_of(0x0a000102) == 1);
}
