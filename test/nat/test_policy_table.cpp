// nat/policy_table: per-policy entries found by policy id, each its own slot until the table is full,
// then the overflow slot; what is in use is what a reader sees.
#include "nat/policy_counters.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace sipalg::nat;

TEST_CASE("every policy gets a slot of its own, found again, until only the overflow is left")
{
    policy_counters t;
    std::set<std::uint32_t> slots;
    for (std::uint32_t id = 1; id <= 600; ++id) {
        const std::uint32_t s = t.slot_of(id);
        CHECK(s < policy_counters::capacity - 1); // room for all: none in the overflow
        slots.insert(s);
        CHECK(t.slot_of(id) == s);
    }
    CHECK(slots.size() == 600);
    t.opened(t.slot_of(7), 100);
    t.count(t.slot_of(7), 1, 64);
    unsigned seen = 0;
    t.for_each([&](const policy_counts& e) {
        ++seen;
        if (e.policy_id == 7) {
            CHECK(policy_counters::get(e.hits) == 1);
            CHECK(policy_counters::get(e.bytes[1]) == 64);
        }
    });
    CHECK(seen == 600);
    // Full: the policies beyond share the last slot.
    std::uint32_t id = 1000;
    while (t.slot_of(id) != policy_counters::capacity - 1) {
        ++id;
    }
    CHECK(id - 1000 + 600 <= policy_counters::capacity);
}
