// The transaction table: a response is matched only to a request with the same branch and method, call,
// session (slot and generation), direction and CSeq number, still in its lifetime; full sets replace
// what expires first and say when that was still alive.
#include "nat/transaction_table.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace sipalg;
using namespace sipalg::nat;

namespace {

transaction_id request(std::uint64_t key, std::uint64_t call = 77, std::uint32_t session = 3)
{
    transaction_id id;
    id.key = key;
    id.call = call;
    id.session = session;
    id.generation = 1;
    id.dir = 0;
    return id;
}

} // namespace

TEST_CASE("a response matches its own request only, within its lifetime")
{
    transaction_table t(1024);
    CHECK_FALSE(t.record(request(11), 1, 600, 100, 0));
    const auto m = t.match(request(11), 1, 50, true);
    CHECK(m.found);
    CHECK(m.requested == 600);
    CHECK_FALSE(t.match(request(11), 2, 50).found);      // another CSeq number
    CHECK_FALSE(t.match(request(12), 1, 50).found);      // another branch or method
    CHECK_FALSE(t.match(request(11, 78), 1, 50).found);  // another call
    CHECK_FALSE(t.match(request(11, 77, 4), 1, 50).found); // another session
    transaction_id other_generation = request(11);
    other_generation.generation = 2;
    CHECK_FALSE(t.match(other_generation, 1, 50).found); // the slot reused by a new session
    transaction_id other_way = request(11);
    other_way.dir = 1;
    CHECK_FALSE(t.match(other_way, 1, 50).found);        // the request went the other way
    CHECK_FALSE(t.match(request(11), 1, 100).found);     // forgotten at its time
    // A retransmission records it again, with a new lifetime.
    t.record(request(11), 1, 300, 200, 60);
    CHECK(t.match(request(11), 1, 150, true).requested == 300);
    CHECK(t.match(request(11), 1, 150).requested == 0); // read only when asked for
    // Another request keeps no lifetime; its final response ends it.
    t.record(request(13), 1, std::nullopt, 200, 60);
    CHECK(t.match(request(13), 1, 150).found);
    t.erase(request(13), 2); // another CSeq: not this one
    CHECK(t.match(request(13), 1, 150).found);
    t.erase(request(13), 1);
    CHECK_FALSE(t.match(request(13), 1, 150).found);
    CHECK(t.match(request(11), 1, 150).found);
}

TEST_CASE("a full set replaces the entry that expires first, and says whether it was alive")
{
    transaction_table t(16); // four sets of four
    std::mt19937_64 rng(5);
    // Fill: record until some request had to go while alive; every entry expires at a different time.
    unsigned recorded = 0;
    bool evicted = false;
    std::vector<std::pair<std::uint64_t, std::uint32_t>> live;
    while (!evicted) {
        const std::uint64_t key = rng();
        const auto until = static_cast<std::uint32_t>(1000 + recorded);
        evicted = t.record(request(key), 1, std::nullopt, until, 0);
        live.emplace_back(key, until);
        ++recorded;
    }
    CHECK(recorded > 4); // a set holds four
    // The newest is there; of the ones recorded before it, exactly one is gone: the first to expire in
    // its set, which is an older one.
    CHECK(t.match(request(live.back().first), 1, 0).found);
    unsigned gone = 0;
    for (std::size_t i = 0; i + 1 < live.size(); ++i) {
        gone += !t.match(request(live[i].first), 1, 0).found;
    }
    CHECK(gone == 1);
    // Expired entries are taken without counting.
    CHECK_FALSE(t.record(request(rng()), 1, std::nullopt, 5000, 2000));
}
