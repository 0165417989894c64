// The call table: one entry per call key, found again, removed, and expired by its rules (an ended call
// lingers, a silent one goes after its idle time, an INVITE unanswered by its deadline ends the call);
// a full table refuses.
#include "nat/call_table.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace sipalg::nat;

TEST_CASE("calls are found by key, refused when the table is full, and expire by their rules")
{
    call_table t(4);
    const auto a = t.upsert(11, 100);
    REQUIRE(a != call_table::none);
    CHECK(t.upsert(11, 200) == a); // the same call
    CHECK(t.at(a).created == 100);
    for (std::uint64_t k = 12; k < 15; ++k) {
        REQUIRE(t.upsert(k, 100) != call_table::none);
    }
    CHECK(t.upsert(99, 100) == call_table::none);
    CHECK(t.size() == 4);
    for (std::uint64_t k = 11; k < 15; ++k) {
        t.at(t.find(k)).deadline = 1000;
    }
    t.at(t.find(12)).state = call_state::ended;
    t.at(t.find(12)).updated = 150;
    t.at(t.find(13)).updated = 150;
    // At 170: call 12 ended 20 ago (linger 16: gone); 11, 14 silent 70 (idle 60: gone); 13 silent 20 stays.
    CHECK(t.expire(170, 16, 60, 4, [](call_entry&) { FAIL("no deadline has passed"); }) == 3);
    CHECK(t.find(13) != call_table::none);
    CHECK(t.find(11) == call_table::none);
    t.remove(t.find(13));
    CHECK(t.size() == 0);
    CHECK(t.upsert(99, 100) != call_table::none);
}

TEST_CASE("a full table makes room for a new call in the place of the call that ended first, never a live one")
{
    // At a high call rate, ended calls lingering to be listed must not keep new calls (their INVITE
    // deadlines, max-dialogs) from being followed.
    call_table t(4);
    for (std::uint64_t k = 1; k <= 4; ++k) {
        REQUIRE(t.upsert(k, 100, 7) != call_table::none);
    }
    CHECK(t.upsert(5, 100, 7) == call_table::none); // all live: refused
    t.end(t.find(3), 110);
    t.end(t.find(1), 120);
    CHECK(t.live_calls(7) == 2);
    const auto five = t.upsert(5, 130, 7);
    REQUIRE(five != call_table::none);
    CHECK(t.find(3) == call_table::none); // ended first: gone
    CHECK(t.find(1) != call_table::none); // ended later: still listed
    CHECK(t.live_calls(7) == 3);
    REQUIRE(t.upsert(6, 140, 7) != call_table::none); // in the place of call 1
    CHECK(t.find(1) == call_table::none);
    CHECK(t.find(2) != call_table::none);
    CHECK(t.find(4) != call_table::none);
    CHECK(t.upsert(7, 150, 7) == call_table::none); // live calls only again
    CHECK(t.size() == 4);
    // A slot whose ended call expired and came back as a live one is passed over.
    t.end(t.find(5), 160);
    t.remove(t.find(5));
    REQUIRE(t.upsert(8, 170, 7) != call_table::none); // a free slot, the one call 5 left
    CHECK(t.upsert(9, 180, 7) == call_table::none);   // call 8 lives where 5 ended: not taken
    CHECK(t.find(8) != call_table::none);
    // The ring of ended calls overwrites its oldest when more calls end than it holds.
    for (int round = 0; round < 3; ++round) {
        for (std::uint64_t k : {2u, 4u, 6u, 8u}) {
            if (t.find(k) != call_table::none) {
                t.end(t.find(k), 200);
            }
        }
    }
    CHECK(t.upsert(10, 210, 7) != call_table::none);
    CHECK(t.live_calls(7) == 1);
}

TEST_CASE("an INVITE not answered by its deadline ends its call; an answered one does not")
{
    call_table t(4);
    const auto a = t.upsert(1, 100);
    const auto b = t.upsert(2, 100);
    t.at(a).deadline = 150;
    t.at(b).deadline = 150;
    t.at(b).state = call_state::answered;
    std::vector<std::uint64_t> ended;
    CHECK(t.expire(149, 16, 1000, 4, [&](call_entry& c) { ended.push_back(c.key); }) == 0);
    CHECK(ended.empty());
    CHECK(t.expire(150, 16, 1000, 4, [&](call_entry& c) { ended.push_back(c.key); }) == 0);
    CHECK(ended == std::vector<std::uint64_t>{1});
    CHECK(t.at(a).state == call_state::ended);
    // It lingers as ended, then goes.
    CHECK(t.expire(170, 16, 1000, 4, [&](call_entry&) { FAIL("ended once"); }) == 1);
    CHECK(t.find(2) != call_table::none);
}

TEST_CASE("tables counting into the same policy counts see each other's calls (max-dialogs over the workers)")
{
    policy_calls counts;
    call_table a(8, &counts), b(8, &counts);
    REQUIRE(a.upsert(1, 100, 7) != call_table::none);
    REQUIRE(b.upsert(2, 100, 7) != call_table::none);
    REQUIRE(b.upsert(3, 100, 9) != call_table::none);
    CHECK(a.live_calls(7) == 2);
    CHECK(b.live_calls(7) == 2);
    CHECK(a.live_calls(9) == 1);
    b.end(b.find(2), 110);
    b.end(b.find(2), 120); // ending twice counts once
    CHECK(a.live_calls(7) == 1);
    a.remove(a.find(1)); // removed before it ended
    CHECK(b.live_calls(7) == 0);
    b.remove(b.find(2)); // removed after it ended: no second count
    CHECK(a.live_calls(7) == 0);
    // A table of its own counts alone.
    call_table c(8);
    REQUIRE(c.upsert(4, 100, 9) != call_table::none);
    CHECK(c.live_calls(9) == 1);
    CHECK(a.live_calls(9) == 1);
}
