// nat/rate_meter: token buckets of the ALG's request rates: one second's worth held, refilled with table
// time, one per policy, method and tracked address; a full set gives up its least recently used bucket.
#include "nat/rate_meter.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace sipalg::nat;

TEST_CASE("a bucket starts with one second of its rate and refills with time")
{
    rate_meters m(64, 16); // 16 ticks a second
    unsigned passed = 0;
    for (int i = 0; i < 10; ++i) {
        passed += m.take(1, 1, 0, 4, 100) ? 1u : 0u;
    }
    CHECK(passed == 4);
    CHECK_FALSE(m.take(1, 1, 0, 4, 101)); // a sixteenth of a second: a quarter of a token
    CHECK(m.take(1, 1, 0, 4, 104));       // a quarter second: one token
    CHECK_FALSE(m.take(1, 1, 0, 4, 104));
    // Never more than one second's worth, however long it was idle.
    passed = 0;
    for (int i = 0; i < 10; ++i) {
        passed += m.take(1, 1, 0, 4, 10000) ? 1u : 0u;
    }
    CHECK(passed == 4);
    bool seen = false;
    m.for_each([&](const rate_meter& r) {
        seen = true;
        CHECK(r.policy_id == 1);
        CHECK(r.count == 23);
        CHECK(r.dropped == 23 - 4 - 1 - 4);
        CHECK(r.peak == 13); // ticks 100 to 104 are one second
    });
    CHECK(seen);
}

TEST_CASE("policies, methods and tracked addresses have buckets of their own")
{
    rate_meters m(64, 16);
    CHECK(m.take(1, 1, 0, 1, 0));
    CHECK_FALSE(m.take(1, 1, 0, 1, 0));
    CHECK(m.take(2, 1, 0, 1, 0));          // another policy
    CHECK(m.take(1, 2, 0, 1, 0));          // another method
    CHECK(m.take(1, 1, 0x0a000102, 1, 0)); // an address
    CHECK(m.take(1, 1, 0x0a000103, 1, 0));
    CHECK_FALSE(m.take(1, 1, 0x0a000103, 1, 0));
}

TEST_CASE("a full table gives the least recently used bucket of a set to a new one")
{
    rate_meters m(4, 16); // one set of four
    for (std::uint32_t a = 1; a <= 4; ++a) {
        CHECK(m.take(1, 1, a, 1, a));
        CHECK_FALSE(m.take(1, 1, a, 1, a));
    }
    CHECK(m.take(1, 1, 5, 1, 5)); // takes address 1's place (used longest ago)
    unsigned n = 0;
    m.for_each([&](const rate_meter& r) {
        ++n;
        CHECK(r.address != 1);
    });
    CHECK(n == 4);
    CHECK(m.take(1, 1, 1, 1, 6)); // address 1 starts full again
}

TEST_CASE("workers taking from the same bucket at once pass the rate between them, no more")
{
    rate_meters m(64, 16);
    std::atomic<unsigned> passed{0};
    const auto hammer = [&](std::uint32_t address) {
        unsigned mine = 0;
        for (int i = 0; i < 200000; ++i) {
            mine += m.take(1, 1, address, 1000, 100) ? 1u : 0u; // the clock stands: only the bucket's second
        }
        passed += mine;
    };
    std::thread a(hammer, 0), b(hammer, 0);
    a.join();
    b.join();
    CHECK(passed == 1000);
    m.for_each([&](const rate_meter& r) {
        CHECK(r.count == 400000);
        CHECK(r.dropped == 399000);
    });
    // A clock a little behind the last take (another worker's, started later) neither refills nor
    // moves the bucket's time back.
    CHECK_FALSE(m.take(1, 1, 0, 1000, 90));
    CHECK(m.take(1, 1, 0, 1000, 101)); // a sixteenth of a second after 100: 62 tokens
}
