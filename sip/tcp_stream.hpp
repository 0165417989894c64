#pragma once
// SIP over TCP as a byte stream (RFC 3261 §18.3 over RFC 793), for a middlebox that translates it.
//
// Each direction of a connection is followed from its SYN. Its bytes are put back in order, framed
// into messages from the first byte (framer.hpp), and each whole message is translated exactly once;
// the translated bytes leave in segments of their own numbering. The first bytes that are not SIP (an
// HTTP request, a STUN header, a framing error, a retransmission that differs from what it repeats, a
// message over the size limit, no memory) end the parsing of that direction for good: from there on
// its bytes pass as they are, only shifted by what earlier translations added. Nothing is ever parsed
// at a segment boundary: that is what NAT Slipstreaming relied on.
//
// The two ends' own TCPs do all the work of a transport: the stream holds what it needs and lets their
// retransmissions drive its own.
// - Bytes of a message not yet complete are held (not forwarded); when the sender retransmits bytes it
//   holds, it acknowledges them itself and keeps them (a sender whose window is used up would
//   otherwise wait forever for the rest of a message it may not send).
// - Translated bytes are kept until the receiver acknowledges them, and sent again when the sender
//   retransmits what they came from. The original bytes are kept as long too, so that a retransmission
//   is compared with what it repeats.
// - Acknowledgements and SACK blocks (RFC 2018) going back are mapped into the sender's numbering, never
//   past what the receiver has: inside a translated message, back to its start.
// - A message the translator takes out (the SIP ALG's discard, or a request it answers itself) becomes
//   no output: its sender is acknowledged for it as soon as the receiver has everything before it. An
//   answer to it is output of the other direction, put in that stream before whatever it holds next.
// - Output respects the receiver's window and MSS (RFC 7323 window scaling); a FIN leaves only after
//   all output before it has been sent.
// Memory: pages from a per-worker pool, taken only while a direction holds bytes; an idle direction is
// a few sequence numbers.
#include "sip/framer.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace sipalg::sip {

inline constexpr std::uint32_t stream_page_bytes = 2048;
inline constexpr std::uint32_t stream_queue_pages = 32;
// The bytes one queue may hold: what a direction may have in flight, and its largest message.
inline constexpr std::uint32_t stream_queue_bytes = stream_page_bytes * (stream_queue_pages - 1);
inline constexpr std::uint32_t stream_max_message = stream_queue_bytes - stream_page_bytes;

// Bytes of one sequence space from `base` on, in pages of the pool.
struct paged_bytes {
    static constexpr std::uint16_t no_page = 0xffff;
    std::uint32_t base = 0;  // sequence number of the first byte kept
    std::uint16_t head = 0;  // offset of `base` in the first page
    std::uint8_t first = 0;  // slot of the first page
    // Bit k: slot k holds a page (the others are no_page). A buffer goes back to the pool after nearly
    // every message; giving back what it holds visits these bits, not all the slots.
    std::uint32_t held = 0;
    std::array<std::uint16_t, stream_queue_pages> page = no_pages();

private:
    static constexpr std::array<std::uint16_t, stream_queue_pages> no_pages() noexcept
    {
        std::array<std::uint16_t, stream_queue_pages> a{};
        a.fill(no_page);
        return a;
    }
};
static_assert(stream_queue_pages <= 32, "paged_bytes::held has a bit per slot");

// One piece of a direction's output: the original bytes up to orig_end became the output bytes up to
// out_end (each starts where the one before ended). `exact`: the same bytes (a keep-alive, a message
// left as it was, bytes passed after the parsing ended): positions inside map one to one.
struct stream_record {
    std::uint32_t orig_end;
    std::uint32_t out_end;
    bool exact;
};

// What a direction needs while it holds bytes (taken from the pool, given back when idle).
struct stream_buffer {
    paged_bytes orig; // original bytes, from the oldest still needed (unacknowledged, or held)
    paged_bytes out;  // translated bytes from the receiver's acknowledgement on
    frame_scanner scanner{stream_max_message};
    std::uint32_t frame_start = 0; // original: where the frame being received began
    std::array<std::uint32_t, 4> gap_start{}; // received out of order, beyond in_nxt: [start, end)
    std::array<std::uint32_t, 4> gap_end{};
    std::uint8_t gaps = 0;
    std::uint8_t first_record = 0;
    std::uint8_t records = 0;
    std::uint32_t rec_orig = 0; // where the first record starts
    std::uint32_t rec_out = 0;
    std::array<stream_record, 32> record{};
};

// Pages and buffers of one worker's streams: fixed counts, allocation-free after construction.
class stream_pool {
public:
    static constexpr std::uint32_t none = 0xffffffffu;

    stream_pool(std::uint32_t buffers, std::uint32_t pages);

    std::uint32_t take_buffer() noexcept;
    void give_buffer(std::uint32_t b) noexcept;
    stream_buffer& buffer(std::uint32_t b) noexcept
    {
        return buffers_[b];
    }
    std::uint16_t take_page() noexcept;
    void give_page(std::uint16_t p) noexcept
    {
        free_pages_.push_back(p);
    }
    char* page(std::uint16_t p) noexcept
    {
        return pages_.data() + std::size_t{p} * stream_page_bytes;
    }
    std::uint32_t buffers_in_use() const noexcept
    {
        return static_cast<std::uint32_t>(buffers_.size() - free_buffers_.size());
    }
    std::uint32_t pages_in_use() const noexcept
    {
        return static_cast<std::uint32_t>(pages_.size() / stream_page_bytes - free_pages_.size());
    }
    std::size_t bytes_allocated() const noexcept
    {
        return buffers_.size() * sizeof(stream_buffer) + pages_.size() +
               (free_buffers_.capacity() + free_pages_.capacity() * 2);
    }

    // The queue's bytes [from, from + n) copied to `to` (all held).
    void read(const paged_bytes& q, std::uint32_t from, std::uint32_t n, char* to) noexcept;
    // Writes `data` at `at` (at or after q.base); false when it is beyond what a queue holds or no page
    // is free (nothing written then).
    bool write(paged_bytes& q, std::uint32_t at, std::string_view data) noexcept;
    // Whether the held bytes at `at` are `data`.
    bool same(const paged_bytes& q, std::uint32_t at, std::string_view data) noexcept;
    // Forgets the bytes before `to`.
    void advance(paged_bytes& q, std::uint32_t to) noexcept;
    void clear(paged_bytes& q) noexcept;
    // Calls f(std::string_view) over the bytes [from, to), a page at a time.
    template <class F>
    void for_each_piece(const paged_bytes& q, std::uint32_t from, std::uint32_t to, F&& f)
    {
        while (from != to) {
            const std::uint32_t off = q.head + (from - q.base);
            const std::uint32_t in_page = off % stream_page_bytes;
            const std::uint32_t n = std::min(stream_page_bytes - in_page, to - from);
            f(std::string_view(page(q.page[(q.first + off / stream_page_bytes) % stream_queue_pages]) + in_page, n));
            from += n;
        }
    }

private:
    std::vector<stream_buffer> buffers_;
    std::vector<std::uint32_t> free_buffers_;
    std::vector<char> pages_;
    std::vector<std::uint16_t> free_pages_;
};

// Why a direction stopped being parsed (counted by the data plane).
#define SIPALG_STREAM_ENDS(X)                                                                        \
    X(not_sip, "its first bytes, or the bytes where a message had to start, are not a SIP message")  \
    X(too_large, "a message over the size a stream holds")                                         \
    X(bad_content_length, "a Content-Length that does not frame the message")                      \
    X(divergent, "a retransmission whose bytes differ from the first copy")                        \
    X(no_memory, "no buffer or page was free for it")                                              \
    X(truncated, "the stream ended (FIN or RST) inside a message")

enum class stream_end : std::uint8_t {
    none = 0,
#define SIPALG_X(id, text) id,
    SIPALG_STREAM_ENDS(SIPALG_X)
#undef SIPALG_X
};

enum class stream_mode : std::uint8_t {
    untracked, // no SYN seen: never parsed, passed as it is
    sip,       // framed and translated
    pass,      // parsing ended: passed shifted by delta from pass_from on
};

// One direction: what the sender sent (original numbering) and what the receiver got (output
// numbering). 44 bytes when idle.
struct stream_direction {
    std::uint32_t in_nxt = 0;   // original: the next byte expected in order
    std::uint32_t in_acked = 0; // original: the sender was told it all arrived before here
    std::uint32_t out_nxt = 0;  // output: after all output made
    std::uint32_t out_sent = 0; // output: after all output sent
    std::uint32_t out_una = 0;  // output: the receiver's acknowledgement
    std::uint32_t out_edge = 0; // output: the right edge of the receiver's window
    std::uint32_t pass_from = 0; // original: passed shifted from here on (mode pass)
    std::uint32_t buffer = stream_pool::none;
    std::uint32_t ack_sent = 0; // the acknowledgement field last sent in this direction
    std::uint32_t ts_val = 0;   // the sender's last timestamp value
    std::int32_t delta = 0;     // output minus original after the last record
    std::uint16_t wnd_sent = 0; // the window field last sent in this direction
    std::uint16_t mss = 536;    // the receiver's MSS (RFC 6691; 536 when it sent none, RFC 9293 §3.7.1)
    stream_mode mode = stream_mode::untracked;
    std::int8_t wscale = -1;    // the window scale its sender's SYN offered (-1: none, RFC 7323 §2.2)
    bool acked_any = false;     // ack_sent holds a value
    bool fin_sent = false;
    bool has_timestamps = false; // its sender's SYN offered timestamps
};

// A segment to send: `length` bytes from `seq` on in the output numbering, taken from the direction's
// output queue, from its original bytes (`offset` is then their original position), or from the
// arriving segment's own payload at `offset`; with no bytes, a bare ACK (or FIN, or RST).
enum class emit_source : std::uint8_t { none, output, original, input };

struct stream_emit {
    std::uint32_t seq = 0;
    std::uint32_t length = 0;
    std::uint32_t offset = 0;
    emit_source source = emit_source::none;
    bool fin = false;
};

// What the data plane sends for one arriving segment: segments in its own direction (the first may
// reuse its mbuf), and segments back to its sender (an acknowledgement of bytes the stream took over,
// output of the other direction that the segment's acknowledgement let out).
struct stream_actions {
    static constexpr unsigned max_emits = 12;
    std::array<stream_emit, max_emits> own{};
    unsigned own_count = 0;
    std::uint32_t ack = 0; // the acknowledgement field of the own segments
    std::array<stream_emit, max_emits> back{};
    unsigned back_count = 0;
    std::uint32_t back_ack = 0; // and of the segments back
    std::uint16_t back_window = 0;
    bool rst = false;              // own[0] is the segment's RST
    std::uint8_t sack_blocks = 0;  // SACK blocks kept, mapped into `sack` (the rest become NOPs)
    std::array<std::uint32_t, 8> sack{};
    std::uint32_t messages = 0;    // messages framed
    std::uint32_t removed = 0;     // of them, taken out of the stream
    std::uint32_t answered = 0;    // of those, answered to their sender
    std::uint32_t unanswered = 0;  // answers that could not be put in the other direction
    std::uint32_t held = 0;        // bytes of this segment held
    std::uint32_t refused = 0;     // bytes of this segment refused (flow control, or divergent)
    stream_end ended = stream_end::none; // parsing ended at this segment, why
    bool taken_over = false;       // the stream acknowledged held bytes to their sender
    bool removed_acked = false;    // the stream acknowledged a message it took out to its sender
    bool retransmitted = false;    // output sent again
    bool mid_stream = false;       // a segment of a direction never synchronised
    // The last translation this segment made, and the output sequence number it starts at (in its own
    // direction): its bytes are the translator's (valid until its next call), so emitted output within
    // it is copied from there rather than read back from the pool. Empty: none.
    std::string_view fresh;
    std::uint32_t fresh_seq = 0;
    std::uint8_t fresh_dir = 0;
};

// What becomes of one whole message: it stays as it is, it becomes new bytes, or it is taken out of the
// stream (with an answer for its sender, or none). The bytes are the translator's, valid until its next
// call.
struct stream_translation {
    enum class outcome : std::uint8_t { same, translated, removed };
    outcome what = outcome::same;
    std::string_view bytes; // translated: the message's new bytes; removed: the answer (empty: none)
};

class stream_translator {
public:
    virtual stream_translation translate(std::string_view message) noexcept = 0;
    // The parse of `bytes` (a segment's bytes from a message boundary), kept for translate() to use when
    // they are its message next: a whole message in one segment, the usual case, is then framed from
    // its parse (frame_scanner::frame_of) rather than read by the scanner first. nullptr: no parse (the
    // bytes are not a message, or the translator parses only what it translates).
    virtual const message* parse(std::string_view bytes) noexcept
    {
        (void)bytes;
        return nullptr;
    }

protected:
    ~stream_translator() = default;
};

struct tcp_segment {
    std::uint32_t seq = 0;
    std::uint32_t ack = 0;
    std::uint16_t window = 0;
    std::uint8_t flags = 0;
    std::uint8_t options_length = 0; // of its TCP header (the output's segments carry as many)
    std::string_view payload;
    // From its options (nat/tcp_options.hpp).
    std::uint16_t mss = 0;
    std::int8_t window_scale = -1;
    bool has_timestamps = false;
    std::uint32_t ts_val = 0;
    std::uint8_t sack_blocks = 0;
    std::array<std::uint32_t, 8> sack{}; // left, right edges
};

class tcp_stream {
public:
    std::array<stream_direction, 2> dir{};

    // Handles a segment of direction `d` (0: from the connection's originator). `scratch` holds a
    // whole message for the translator (at least stream_max_message bytes).
    void on_segment(stream_pool& pool, unsigned d, const tcp_segment& seg, stream_translator& translator,
                    std::span<char> scratch, stream_actions& out) noexcept;

    // Gives back every buffer (the connection is gone).
    void release(stream_pool& pool) noexcept;

    // Whether the connection holds no buffer (its idle size is all it costs).
    bool idle() const noexcept
    {
        return dir[0].buffer == stream_pool::none && dir[1].buffer == stream_pool::none;
    }
    // Whether segments only need their numbers moved (parsing has ended both ways).
    bool passing() const noexcept
    {
        return idle() && dir[0].mode == stream_mode::pass && dir[1].mode == stream_mode::pass;
    }

    // The original position of output position `y` of direction `d`: exact positions one to one, a
    // position inside a translated message back to its start (round_up: on to its end).
    std::uint32_t orig_of(stream_pool& pool, unsigned d, std::uint32_t y, bool round_up = false) noexcept;

private:
    void on_ack(stream_pool& pool, unsigned d, std::uint32_t ack, std::uint32_t window_edge, stream_actions& out) noexcept;
    void forget_acknowledged(stream_pool& pool, unsigned d) noexcept;
    void answer(stream_pool& pool, unsigned d, std::string_view bytes, stream_actions& out) noexcept;
    void on_data(stream_pool& pool, unsigned d, const tcp_segment& seg, stream_translator& translator,
                 std::span<char> scratch, stream_actions& out) noexcept;
    void pass_through(stream_pool& pool, unsigned d, const tcp_segment& seg, std::uint32_t per_segment,
                      stream_actions& out) noexcept;
    void frame_new_bytes(stream_pool& pool, unsigned d, std::uint32_t from, const tcp_segment& seg,
                         stream_translator& translator, std::span<char> scratch, stream_actions& out) noexcept;
    void end_parsing(stream_pool& pool, unsigned d, stream_end why, stream_actions& out) noexcept;
    bool add_output(stream_pool& pool, unsigned d, std::string_view bytes, std::uint32_t orig_end, bool exact) noexcept;
    bool add_message(stream_pool& pool, unsigned d, std::string_view message, std::uint32_t orig_end,
                     stream_translator& translator, stream_actions& out) noexcept;
    void send_new(stream_pool& pool, unsigned d, std::array<stream_emit, stream_actions::max_emits>& list,
                  unsigned& count, std::uint32_t per_segment) noexcept;
    void resend(unsigned d, std::uint32_t from, std::uint32_t to, stream_actions& out, std::uint32_t per_segment) noexcept;
    std::uint32_t out_of(stream_pool& pool, unsigned d, std::uint32_t x, bool round_up) noexcept;
    stream_buffer* buffer_of(stream_pool& pool, unsigned d) noexcept;
    std::uint32_t next_seq(unsigned d) const noexcept;
    stream_buffer* ensure_buffer(stream_pool& pool, unsigned d) noexcept;
    void maybe_idle(stream_pool& pool, unsigned d) noexcept;
};

} // namespace sipalg::sip
