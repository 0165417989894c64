#pragma once
// Sequence and acknowledgement numbers of a TCP connection whose payload the SIP engines resize
// (ARCHITECTURE.md "Both engines": SIP over TCP). Each direction keeps the total change so far and the
// last resized segment, so that later segments move by the total, a retransmission of the last resized
// segment is rewritten again without counting twice, and acknowledgements coming back are moved back
// into the sender's numbering (RFC 793 §3.3: sequence space is per byte, so every byte inserted or
// removed shifts everything after it). Pure arithmetic; the data plane applies it to segments.
#include <cstdint>

namespace sipalg::nat {

// RFC 793 §3.3 comparisons modulo 2^32.
constexpr bool seq_before(std::uint32_t a, std::uint32_t b) noexcept
{
    return static_cast<std::int32_t>(a - b) < 0;
}

struct tcp_direction_delta {
    std::int32_t total = 0;       // bytes added (or removed) so far in this direction
    std::uint32_t last_seq = 0;   // original sequence number of the last resized segment
    std::int32_t last_change = 0; // its change
    bool resized = false;

    // The offset for a segment starting at original sequence number `seq`: the changes of the segments
    // before it. A retransmission of the last resized segment (or of older data) does not include that
    // segment's own change.
    std::int32_t offset_for(std::uint32_t seq) const noexcept
    {
        return resized && !seq_before(last_seq, seq) ? total - last_change : total;
    }
    // Records that the segment at `seq` changed by `change` bytes (a first transmission only).
    void record(std::uint32_t seq, std::int32_t change) noexcept
    {
        if (change == 0 || (resized && !seq_before(last_seq, seq))) {
            return;
        }
        total += change;
        last_seq = seq;
        last_change = change;
        resized = true;
    }
    // An acknowledgement number the other side sent, in this direction's changed numbering, back in
    // the original: past the start of the last resized segment (as sent) it includes every change.
    std::uint32_t original_ack(std::uint32_t ack) const noexcept
    {
        if (!resized) {
            return ack;
        }
        const std::uint32_t last_start_sent = last_seq + static_cast<std::uint32_t>(total - last_change);
        return seq_before(last_start_sent, ack) ? ack - static_cast<std::uint32_t>(total)
                                                : ack - static_cast<std::uint32_t>(total - last_change);
    }
};

} // namespace sipalg::nat
