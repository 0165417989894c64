// Sequence numbers of a connection whose payload was resized: later segments move by the total,
// retransmissions of the resized segment are not counted twice, acknowledgements come back.
#include "nat/tcp_delta.hpp"

#include <catch2/catch.hpp>

using namespace sipalg::nat;

TEST_CASE("segments after a resized one move; its retransmission does not move twice; acks come back")
{
    tcp_direction_delta d;
    CHECK(d.offset_for(1000) == 0);
    d.record(1000, +24); // the segment at 1000 grew by 24 bytes
    CHECK(d.offset_for(1000) == 0);  // retransmitted: starts where it always did
    CHECK(d.offset_for(1500) == 24); // after it
    d.record(1000, +24);             // its retransmission, resized again: not counted twice
    CHECK(d.offset_for(1500) == 24);
    d.record(1500, -4);
    CHECK(d.offset_for(1500) == 24);
    CHECK(d.offset_for(1600) == 20);
    // The peer acknowledges in the changed numbering; the sender gets its own back.
    CHECK(d.original_ack(1600 + 20) == 1600);
    CHECK(d.original_ack(1500 + 24) == 1500); // up to the start of the last resized segment
    // Wrapping around 2^32.
    tcp_direction_delta w;
    w.record(0xfffffff0u, 8);
    CHECK(w.offset_for(0x10) == 8);
    CHECK(w.original_ack(0x18) == 0x10);
}
