// The worker's neighbour table: resolution with held packets, retries and give-up, aging of idle and
// busy entries, static entries, and lookups that survive deletions inside a probe run.
#include "dataplane/neighbours.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <vector>

using namespace sipalg;
using sipalg::dp::neighbour_table;

namespace {

// Held packets are opaque pointers to the table; distinct addresses are all the test needs.
rte_mbuf* pkt(std::uintptr_t n)
{
    return reinterpret_cast<rte_mbuf*>(n * 64);
}

constexpr std::uint64_t second = 1000;
const neighbour_table::timing timing{300 * second, 1 * second, 3};
const mac_address mac_a{0x02, 0, 0, 0, 0, 0x0a};
const mac_address mac_b{0x02, 0, 0, 0, 0, 0x0b};

struct event {
    neighbour_table::aging_action action;
    ipv4_address ip;
    std::size_t dropped;
};

std::vector<event> age(neighbour_table& t, std::uint64_t now)
{
    std::vector<event> out;
    t.age(now, t.capacity(), [&](neighbour_table::aging_action a, std::uint16_t, ipv4_address ip, const mac_address&,
                                 std::span<rte_mbuf* const> dropped) { out.push_back({a, ip, dropped.size()}); });
    return out;
}

} // namespace

TEST_CASE("packets wait for resolution and leave in order when the answer comes")
{
    neighbour_table t(64, 4, timing);
    const ipv4_address ip = make_ipv4(10, 0, 1, 2);
    REQUIRE(t.resolve(0, ip) == nullptr);
    REQUIRE(t.hold(0, ip, pkt(1), 0) == neighbour_table::hold_result::held_first);
    REQUIRE(t.hold(0, ip, pkt(2), 0) == neighbour_table::hold_result::held);
    REQUIRE(t.resolve(0, ip) == nullptr); // still incomplete
    REQUIRE(t.held_packets() == 2);
    const auto r = t.learn(0, ip, mac_a, false, 10);
    REQUIRE(r.learned);
    REQUIRE(std::vector<rte_mbuf*>(r.release.begin(), r.release.end()) == std::vector<rte_mbuf*>{pkt(1), pkt(2)});
    REQUIRE(t.held_packets() == 0);
    REQUIRE(t.resolve(0, ip) != nullptr);
    REQUIRE(*t.resolve(0, ip) == mac_a);
    // Same address on another port is another neighbour.
    REQUIRE(t.resolve(1, ip) == nullptr);
}

TEST_CASE("the hold queue is bounded")
{
    neighbour_table t(64, 2, timing);
    const ipv4_address ip = make_ipv4(10, 0, 1, 2);
    t.hold(0, ip, pkt(1), 0);
    t.hold(0, ip, pkt(2), 0);
    REQUIRE(t.hold(0, ip, pkt(3), 0) == neighbour_table::hold_result::hold_full);
}

TEST_CASE("unsolicited ARP creates an entry only when asked to (RFC 826 merge)")
{
    neighbour_table t(64, 4, timing);
    const ipv4_address ip = make_ipv4(10, 0, 1, 3);
    REQUIRE_FALSE(t.learn(0, ip, mac_a, false, 0).learned);
    REQUIRE(t.find(0, ip) == nullptr);
    REQUIRE(t.learn(0, ip, mac_a, true, 0).learned);
    REQUIRE(t.find(0, ip) != nullptr);
    // An existing entry is updated even when not addressed to us.
    REQUIRE(t.learn(0, ip, mac_b, false, 0).learned);
    REQUIRE(*t.resolve(0, ip) == mac_b);
}

TEST_CASE("an unanswered resolution retries, then gives up and returns the held packets")
{
    neighbour_table t(64, 4, timing);
    const ipv4_address ip = make_ipv4(10, 0, 1, 9);
    t.hold(0, ip, pkt(1), 0);
    t.hold(0, ip, pkt(2), 0);
    REQUIRE(age(t, 500).empty()); // first request was sent at hold time; retry after a second
    auto e = age(t, 1000);
    REQUIRE(e.size() == 1);
    REQUIRE(e[0].action == neighbour_table::aging_action::request);
    e = age(t, 2000);
    REQUIRE(e.size() == 1);
    REQUIRE(e[0].action == neighbour_table::aging_action::request);
    e = age(t, 3000);
    REQUIRE(e.size() == 1);
    REQUIRE(e[0].action == neighbour_table::aging_action::failed);
    REQUIRE(e[0].dropped == 2);
    REQUIRE(t.size() == 0);
    REQUIRE(t.held_packets() == 0);
}

TEST_CASE("an aged entry is dropped when idle and re-probed when in use")
{
    neighbour_table t(64, 4, timing);
    const ipv4_address idle = make_ipv4(10, 0, 1, 10);
    const ipv4_address busy = make_ipv4(10, 0, 1, 11);
    t.learn(0, idle, mac_a, true, 0);
    t.learn(0, busy, mac_b, true, 0);
    REQUIRE(age(t, 299 * second).empty());
    REQUIRE(t.resolve(0, busy) != nullptr); // marks it used
    auto e = age(t, 300 * second);
    REQUIRE(e.size() == 2);
    std::set<std::pair<int, ipv4_address>> got;
    for (const auto& x : e) {
        got.insert({static_cast<int>(x.action), x.ip});
    }
    REQUIRE(got.count({static_cast<int>(neighbour_table::aging_action::expired), idle}) == 1);
    REQUIRE(got.count({static_cast<int>(neighbour_table::aging_action::request), busy}) == 1);
    // Still usable while probing; an answer makes it reachable again.
    REQUIRE(t.resolve(0, busy) != nullptr);
    t.learn(0, busy, mac_b, false, 300 * second + 5);
    REQUIRE(age(t, 302 * second).empty());
    // A probe nobody answers removes the entry after the retries.
    REQUIRE(t.resolve(0, busy) != nullptr);
    age(t, 601 * second);        // probe 1
    age(t, 602 * second);        // probe 2
    age(t, 603 * second);        // probe 3
    e = age(t, 604 * second);    // give up
    REQUIRE(e.size() == 1);
    REQUIRE(e[0].action == neighbour_table::aging_action::expired);
    REQUIRE(t.find(0, busy) == nullptr);
}

TEST_CASE("static entries never age and are not overwritten by ARP")
{
    neighbour_table t(64, 4, timing);
    const ipv4_address ip = make_ipv4(10, 0, 1, 50);
    t.hold(0, ip, pkt(1), 0);
    const auto r = t.set_fixed(0, ip, mac_a);
    REQUIRE(r.release.size() == 1);
    t.learn(0, ip, mac_b, true, 0);
    REQUIRE(*t.resolve(0, ip) == mac_a);
    REQUIRE(age(t, 10000 * second).empty());
    REQUIRE(t.resolve(0, ip) != nullptr);
}

TEST_CASE("the table refuses new entries beyond its size")
{
    neighbour_table t(4, 1, timing);
    for (unsigned i = 0; i < 4; ++i) {
        REQUIRE(t.hold(0, make_ipv4(10, 0, 1, 100 + i), pkt(i + 1), 0) == neighbour_table::hold_result::held_first);
    }
    REQUIRE(t.hold(0, make_ipv4(10, 0, 1, 200), pkt(9), 0) == neighbour_table::hold_result::table_full);
}

TEST_CASE("deleting entries keeps every other entry reachable (backward shift)")
{
    neighbour_table t(512, 1, timing);
    std::vector<ipv4_address> all;
    for (unsigned i = 0; i < 500; ++i) {
        const ipv4_address ip = make_ipv4(10, 1, static_cast<unsigned>(i / 250), static_cast<unsigned>(i % 250 + 1));
        all.push_back(ip);
        t.learn(0, ip, mac_a, true, i % 2 == 0 ? 0 : 100 * second);
    }
    // Entries learned at 0 expire at 300 s; those learned at 100 s survive. A pass revisits a slot
    // that a deletion refilled, so it may leave a few slots for the next pass.
    const auto first = age(t, 300 * second);
    const auto second_pass = age(t, 300 * second);
    REQUIRE(first.size() + second_pass.size() == 250);
    REQUIRE(t.size() == 250);
    for (unsigned i = 0; i < all.size(); ++i) {
        INFO(format_ipv4(all[i]));
        REQUIRE((t.find(0, all[i]) != nullptr) == (i % 2 == 1));
    }
}
