// See tcp_stream.hpp.
#include "sip/tcp_stream.hpp"

#include "nat/headers.hpp"
#include "sip/message.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace sipalg::sip {

namespace {

// RFC 793 §3.3: sequence numbers compare modulo 2^32.
constexpr bool before(std::uint32_t a, std::uint32_t b) noexcept
{
    return static_cast<std::int32_t>(a - b) < 0;
}
constexpr std::uint32_t seq_max(std::uint32_t a, std::uint32_t b) noexcept
{
    return before(a, b) ? b : a;
}
constexpr std::uint32_t seq_min(std::uint32_t a, std::uint32_t b) noexcept
{
    return before(a, b) ? a : b;
}

namespace flag = sipalg::tcp_flag;

// A queue that holds no page (a buffer's, as the pool gives it) starts at `base`.
void reset_queue(paged_bytes& q, std::uint32_t base) noexcept
{
    q.base = base;
    q.head = 0;
    q.first = 0;
}

} // namespace

stream_pool::stream_pool(std::uint32_t buffers, std::uint32_t pages)
    : buffers_(buffers), pages_(std::size_t{std::min<std::uint32_t>(pages, paged_bytes::no_page)} * stream_page_bytes)
{
    free_buffers_.reserve(buffers);
    for (std::uint32_t i = buffers; i > 0; --i) {
        free_buffers_.push_back(i - 1);
    }
    const auto n = static_cast<std::uint32_t>(pages_.size() / stream_page_bytes);
    free_pages_.reserve(n);
    for (std::uint32_t i = n; i > 0; --i) {
        free_pages_.push_back(static_cast<std::uint16_t>(i - 1));
    }
}

std::uint32_t stream_pool::take_buffer() noexcept
{
    if (free_buffers_.empty()) {
        return none;
    }
    const std::uint32_t b = free_buffers_.back();
    free_buffers_.pop_back();
    return b;
}

void stream_pool::give_buffer(std::uint32_t b) noexcept
{
    clear(buffers_[b].orig);
    clear(buffers_[b].out);
    free_buffers_.push_back(b);
}

std::uint16_t stream_pool::take_page() noexcept
{
    if (free_pages_.empty()) {
        return paged_bytes::no_page;
    }
    const std::uint16_t p = free_pages_.back();
    free_pages_.pop_back();
    return p;
}

void stream_pool::read(const paged_bytes& q, std::uint32_t from, std::uint32_t n, char* to) noexcept
{
    for_each_piece(q, from, from + n, [&](std::string_view piece) {
        std::memcpy(to, piece.data(), piece.size());
        to += piece.size();
    });
}

bool stream_pool::write(paged_bytes& q, std::uint32_t at, std::string_view data) noexcept
{
    const std::uint32_t off = at - q.base;
    if (before(at, q.base) || std::uint64_t{off} + data.size() > stream_queue_bytes) {
        return false;
    }
    if (data.empty()) {
        return true;
    }
    const std::uint32_t first_page = (q.head + off) / stream_page_bytes;
    const std::uint32_t last_page = (q.head + off + static_cast<std::uint32_t>(data.size()) - 1) / stream_page_bytes;
    std::uint32_t missing = 0;
    for (std::uint32_t k = first_page; k <= last_page; ++k) {
        missing += q.page[(q.first + k) % stream_queue_pages] == paged_bytes::no_page ? 1u : 0u;
    }
    if (missing > free_pages_.size()) {
        return false;
    }
    for (std::uint32_t k = first_page; k <= last_page; ++k) {
        const std::uint32_t at_slot = (q.first + k) % stream_queue_pages;
        if (q.page[at_slot] == paged_bytes::no_page) {
            q.page[at_slot] = take_page();
            q.held |= 1u << at_slot;
        }
    }
    const char* from = data.data();
    for_each_piece(q, at, at + static_cast<std::uint32_t>(data.size()), [&](std::string_view piece) {
        std::memcpy(const_cast<char*>(piece.data()), from, piece.size());
        from += piece.size();
    });
    return true;
}

bool stream_pool::same(const paged_bytes& q, std::uint32_t at, std::string_view data) noexcept
{
    bool equal = true;
    const char* p = data.data();
    for_each_piece(q, at, at + static_cast<std::uint32_t>(data.size()), [&](std::string_view piece) {
        equal = equal && std::memcmp(piece.data(), p, piece.size()) == 0;
        p += piece.size();
    });
    return equal;
}

void stream_pool::advance(paged_bytes& q, std::uint32_t to) noexcept
{
    if (!before(q.base, to)) {
        return;
    }
    const std::uint32_t n = to - q.base;
    if (std::uint64_t{n} + q.head >= std::uint64_t{stream_page_bytes} * stream_queue_pages) {
        clear(q);
        q.base = to;
        return;
    }
    q.base = to;
    std::uint32_t head = q.head + n;
    while (head >= stream_page_bytes) {
        std::uint16_t& slot = q.page[q.first];
        if (slot != paged_bytes::no_page) {
            give_page(slot);
            slot = paged_bytes::no_page;
            q.held &= ~(1u << q.first);
        }
        q.first = static_cast<std::uint8_t>((q.first + 1) % stream_queue_pages);
        head -= stream_page_bytes;
    }
    q.head = static_cast<std::uint16_t>(head);
}

void stream_pool::clear(paged_bytes& q) noexcept
{
    for (std::uint32_t held = q.held; held != 0; held &= held - 1) {
        std::uint16_t& slot = q.page[std::countr_zero(held)];
        give_page(slot);
        slot = paged_bytes::no_page;
    }
    q.held = 0;
    q.head = 0;
    q.first = 0;
}

// The sequence number the receiver of direction d expects next from a segment made on the sender's
// behalf (a bare ACK).
std::uint32_t tcp_stream::next_seq(unsigned d) const noexcept
{
    const stream_direction& D = dir[d];
    switch (D.mode) {
    case stream_mode::sip:
        return D.out_sent;
    case stream_mode::pass:
        return D.in_nxt + static_cast<std::uint32_t>(D.delta);
    case stream_mode::untracked:
        break;
    }
    return D.in_nxt;
}

stream_buffer* tcp_stream::buffer_of(stream_pool& pool, unsigned d) noexcept
{
    return dir[d].buffer == stream_pool::none ? nullptr : &pool.buffer(dir[d].buffer);
}

// A buffer for direction d, set up at its current positions (an idle direction's output is all sent
// and acknowledged, and nothing is held).
stream_buffer* tcp_stream::ensure_buffer(stream_pool& pool, unsigned d) noexcept
{
    stream_direction& D = dir[d];
    if (D.buffer != stream_pool::none) {
        return &pool.buffer(D.buffer);
    }
    const std::uint32_t b = pool.take_buffer();
    if (b == stream_pool::none) {
        return nullptr;
    }
    D.buffer = b;
    stream_buffer& B = pool.buffer(b);
    reset_queue(B.orig, D.in_nxt);
    reset_queue(B.out, D.out_nxt);
    B.scanner = frame_scanner(stream_max_message);
    B.frame_start = D.in_nxt;
    B.gaps = 0;
    B.first_record = 0;
    B.records = 0;
    B.rec_orig = D.in_nxt;
    B.rec_out = D.out_nxt;
    return &B;
}

void tcp_stream::maybe_idle(stream_pool& pool, unsigned d) noexcept
{
    stream_direction& D = dir[d];
    stream_buffer* B = buffer_of(pool, d);
    if (B == nullptr || B->records != 0 || B->gaps != 0 || D.out_sent != D.out_nxt ||
        (D.mode == stream_mode::sip && B->frame_start != D.in_nxt)) {
        return;
    }
    pool.give_buffer(D.buffer);
    D.buffer = stream_pool::none;
}

void tcp_stream::release(stream_pool& pool) noexcept
{
    for (unsigned d = 0; d < 2; ++d) {
        if (dir[d].buffer != stream_pool::none) {
            pool.give_buffer(dir[d].buffer);
            dir[d].buffer = stream_pool::none;
        }
    }
}

std::uint32_t tcp_stream::orig_of(stream_pool& pool, unsigned d, std::uint32_t y, bool round_up) noexcept
{
    const stream_direction& D = dir[d];
    if (D.mode == stream_mode::untracked) {
        return y;
    }
    const stream_buffer* B = buffer_of(pool, d);
    if (B == nullptr || B->records == 0) {
        return y - static_cast<std::uint32_t>(D.delta);
    }
    if (before(y, B->rec_out)) {
        return y - (B->rec_out - B->rec_orig);
    }
    std::uint32_t os = B->rec_orig;
    std::uint32_t outs = B->rec_out;
    for (unsigned k = 0; k < B->records; ++k) {
        const stream_record& r = B->record[(B->first_record + k) % B->record.size()];
        if (before(y, r.out_end)) {
            if (r.exact) {
                return os + (y - outs);
            }
            return y == outs ? os : (round_up ? r.orig_end : os);
        }
        os = r.orig_end;
        outs = r.out_end;
    }
    return y - static_cast<std::uint32_t>(D.delta);
}

std::uint32_t tcp_stream::out_of(stream_pool& pool, unsigned d, std::uint32_t x, bool round_up) noexcept
{
    const stream_direction& D = dir[d];
    const stream_buffer* B = buffer_of(pool, d);
    if (B == nullptr || B->records == 0 || before(x, B->rec_orig)) {
        return x + (B == nullptr || B->records == 0 ? static_cast<std::uint32_t>(D.delta) : B->rec_out - B->rec_orig);
    }
    std::uint32_t os = B->rec_orig;
    std::uint32_t outs = B->rec_out;
    for (unsigned k = 0; k < B->records; ++k) {
        const stream_record& r = B->record[(B->first_record + k) % B->record.size()];
        if (before(x, r.orig_end)) {
            if (r.exact) {
                return outs + (x - os);
            }
            return x == os ? outs : (round_up ? r.out_end : outs);
        }
        os = r.orig_end;
        outs = r.out_end;
    }
    return x + static_cast<std::uint32_t>(D.delta);
}

// Output made from the original bytes up to orig_end: kept until the receiver acknowledges it, with a
// record of where it came from.
bool tcp_stream::add_output(stream_pool& pool, unsigned d, std::string_view bytes, std::uint32_t orig_end, bool exact) noexcept
{
    stream_direction& D = dir[d];
    stream_buffer& B = pool.buffer(D.buffer);
    if (!pool.write(B.out, D.out_nxt, bytes)) {
        return false;
    }
    const std::uint32_t out_end = D.out_nxt + static_cast<std::uint32_t>(bytes.size());
    const std::size_t cap = B.record.size();
    stream_record* last = B.records != 0 ? &B.record[(B.first_record + B.records - 1) % cap] : nullptr;
    if (last != nullptr && exact && last->exact && last->out_end - last->orig_end == out_end - orig_end) {
        last->orig_end = orig_end; // one exact run
        last->out_end = out_end;
    } else {
        if (B.records == cap) {
            // No room: the two oldest become one. Acknowledgements inside it then map to its start,
            // which is never more than the receiver has.
            stream_record& a = B.record[B.first_record];
            stream_record& b = B.record[(B.first_record + 1) % cap];
            b.exact = a.exact && b.exact && a.out_end - a.orig_end == b.out_end - b.orig_end &&
                      a.out_end - a.orig_end == B.rec_out - B.rec_orig;
            B.first_record = static_cast<std::uint8_t>((B.first_record + 1) % cap);
            --B.records;
        }
        B.record[(B.first_record + B.records) % cap] = {orig_end, out_end, exact};
        ++B.records;
    }
    D.out_nxt = out_end;
    D.delta = static_cast<std::int32_t>(out_end - orig_end);
    B.frame_start = orig_end;
    return true;
}

// A whole message of direction d (its original bytes end at orig_end), translated once: its output,
// or the message as it is when the translation leaves it so. False when the output could not be kept.
bool tcp_stream::add_message(stream_pool& pool, unsigned d, std::string_view message, std::uint32_t orig_end,
                             stream_translator& translator, stream_actions& out) noexcept
{
    ++out.messages;
    out.fresh = {}; // the translator's next call ends the bytes of its last
    const stream_translation t = translator.translate(message);
    stream_direction& D = dir[d];
    const std::uint32_t out_at = D.out_nxt;
    if (t.what == stream_translation::outcome::removed) {
        // No output in its place. Its sender is owed an acknowledgement once the receiver has all before
        // it (orig_of maps the receiver's acknowledgement of that output past it); when it has that
        // already, no acknowledgement of the receiver's will come to carry it, so the stream sends it.
        if (!add_output(pool, d, {}, orig_end, false)) {
            return false;
        }
        ++out.removed;
        const std::uint32_t acked = orig_of(pool, d, D.out_una);
        if (before(D.in_acked, acked)) {
            D.in_acked = acked;
            out.removed_acked = true;
        }
        forget_acknowledged(pool, d);
        if (!t.bytes.empty()) {
            answer(pool, d ^ 1u, t.bytes, out);
        }
        return true;
    }
    const bool translated = t.what == stream_translation::outcome::translated;
    if (!add_output(pool, d, translated ? t.bytes : message, orig_end, !translated)) {
        return false;
    }
    if (translated) {
        // Sent from the translation itself while it lasts (see stream_actions::fresh).
        out.fresh = t.bytes;
        out.fresh_seq = out_at;
        out.fresh_dir = static_cast<std::uint8_t>(d);
    }
    return true;
}

// Bytes of the appliance's own (an answer to a message taken out of direction d ^ 1) as output of
// direction d, where its output so far ends: no original bytes behind them, so an acknowledgement of
// them maps to where the direction's own bytes resume. Only while d is parsed: a direction that
// passes as it is has no room for bytes of its own.
void tcp_stream::answer(stream_pool& pool, unsigned d, std::string_view bytes, stream_actions& out) noexcept
{
    stream_direction& D = dir[d];
    stream_buffer* B = D.mode == stream_mode::sip ? ensure_buffer(pool, d) : nullptr;
    if (B == nullptr || !add_output(pool, d, bytes, B->frame_start, false)) {
        ++out.unanswered;
        if (B != nullptr) {
            maybe_idle(pool, d);
        }
        return;
    }
    ++out.answered;
    const std::uint32_t per_segment = std::max<std::uint32_t>(64, D.mss > 52u ? D.mss - 12u : D.mss);
    send_new(pool, d, out.back, out.back_count, per_segment);
}

// Parsing ends for direction d: what it holds of a message leaves as it is, and from the next byte on
// its segments pass shifted by what earlier translations added.
void tcp_stream::end_parsing(stream_pool& pool, unsigned d, stream_end why, stream_actions& out) noexcept
{
    stream_direction& D = dir[d];
    if (out.ended == stream_end::none) {
        out.ended = why;
    }
    if (stream_buffer* B = buffer_of(pool, d)) {
        B->gaps = 0; // never acknowledged: their sender sends them again
        const std::uint32_t held = D.in_nxt - B->frame_start;
        if (held != 0) {
            // Kept as output (they may have been acknowledged to their sender already); with no page
            // free, sent once from the original bytes.
            std::array<char, stream_page_bytes> chunk;
            std::uint32_t at = B->frame_start;
            bool stored = true;
            while (stored && at != D.in_nxt) {
                const std::uint32_t n = std::min<std::uint32_t>(D.in_nxt - at, chunk.size());
                pool.read(B->orig, at, n, chunk.data());
                stored = add_output(pool, d, {chunk.data(), n}, at + n, true);
                at += stored ? n : 0;
            }
            if (!stored) {
                const std::uint32_t seq = D.out_nxt;
                D.out_nxt += D.in_nxt - at;
                D.out_sent = D.out_nxt;
                D.delta = static_cast<std::int32_t>(D.out_nxt - D.in_nxt);
                if (out.own_count < out.own.size()) {
                    out.own[out.own_count++] = {seq, D.in_nxt - at, at, emit_source::original, false};
                }
                B->frame_start = D.in_nxt;
            }
        }
    }
    D.mode = stream_mode::pass;
    D.pass_from = D.in_nxt;
}

// Frames the bytes that just became contiguous ([from, in_nxt)): every whole message is translated once
// and becomes output.
void tcp_stream::frame_new_bytes(stream_pool& pool, unsigned d, std::uint32_t from, const tcp_segment& seg,
                                 stream_translator& translator, std::span<char> scratch, stream_actions& out) noexcept
{
    stream_direction& D = dir[d];
    std::uint32_t pos = from;
    if (const std::uint32_t at = from - seg.seq; D.mode == stream_mode::sip && pool.buffer(D.buffer).scanner.at_boundary() &&
                                                 !before(from, seg.seq) && at + std::uint64_t{D.in_nxt - from} == seg.payload.size() &&
                                                 D.in_nxt - from <= scratch.size()) {
        // The segment's new bytes start a message and end the segment (the usual case: one message, one
        // segment): if their parse shows them to be exactly one message, as the scanner would frame it,
        // they are translated from that parse, and the scanner, still at a boundary, never reads them.
        const std::string_view bytes = seg.payload.substr(at);
        if (const message* m = translator.parse(bytes); m != nullptr && frame_scanner::frame_of(*m, stream_max_message)) {
            if (!add_message(pool, d, bytes, D.in_nxt, translator, out)) {
                end_parsing(pool, d, stream_end::no_memory, out);
            }
            return;
        }
    }
    while (D.mode == stream_mode::sip && pos != D.in_nxt) {
        stream_buffer& B = pool.buffer(D.buffer);
        // The next piece: up to the end of its page.
        const std::uint32_t off = B.orig.head + (pos - B.orig.base);
        const std::uint32_t in_page = off % stream_page_bytes;
        const std::uint32_t n = std::min(stream_page_bytes - in_page, D.in_nxt - pos);
        const char* p = pool.page(B.orig.page[(B.orig.first + off / stream_page_bytes) % stream_queue_pages]) + in_page;
        const frame_scanner::result r = B.scanner.feed({p, n});
        pos += static_cast<std::uint32_t>(r.used);
        if (r.error != frame_error::none) {
            end_parsing(pool, d,
                        r.error == frame_error::too_large            ? stream_end::too_large
                        : r.error == frame_error::bad_content_length ? stream_end::bad_content_length
                                                                     : stream_end::not_sip,
                        out);
            return;
        }
        if (!r.complete) {
            continue;
        }
        const std::uint32_t start = pos - r.length;
        bool stored = false;
        if (r.kind == frame_kind::message && r.length <= scratch.size()) {
            // The message as the pool holds it: read from the arriving segment when it lies wholly in
            // it (the same bytes, just written), else gathered from the pages.
            std::string_view message;
            if (const std::uint32_t at = start - seg.seq; !before(start, seg.seq) && at + std::uint64_t{r.length} <= seg.payload.size()) {
                message = seg.payload.substr(at, r.length);
            } else {
                pool.read(B.orig, start, r.length, scratch.data());
                message = {scratch.data(), r.length};
            }
            stored = add_message(pool, d, message, pos, translator, out);
        } else if (r.kind != frame_kind::message) {
            std::array<char, 4> keepalive{};
            pool.read(B.orig, start, r.length, keepalive.data());
            stored = add_output(pool, d, {keepalive.data(), r.length}, pos, true);
        }
        if (!stored) {
            end_parsing(pool, d, stream_end::no_memory, out);
            return;
        }
    }
}

// New output of direction d, as far as the receiver's window lets it, in segments of `per_segment`.
void tcp_stream::send_new(stream_pool& pool, unsigned d, std::array<stream_emit, stream_actions::max_emits>& list,
                          unsigned& count, std::uint32_t per_segment) noexcept
{
    stream_direction& D = dir[d];
    if (D.buffer == stream_pool::none) {
        return;
    }
    const std::uint32_t limit = seq_min(D.out_nxt, D.out_edge);
    while (count < list.size() && before(D.out_sent, limit)) {
        const std::uint32_t n = std::min(limit - D.out_sent, per_segment);
        list[count++] = {D.out_sent, n, 0, emit_source::output, false};
        D.out_sent += n;
    }
    (void)pool;
}

// Output [from, to) of direction d sent again (what was sent before and is not yet acknowledged).
void tcp_stream::resend(unsigned d, std::uint32_t from, std::uint32_t to, stream_actions& out, std::uint32_t per_segment) noexcept
{
    const stream_direction& D = dir[d];
    from = seq_max(from, D.out_una);
    to = seq_min(to, D.out_sent);
    while (out.own_count < out.own.size() && before(from, to)) {
        const std::uint32_t n = std::min(to - from, per_segment);
        out.own[out.own_count++] = {from, n, 0, emit_source::output, false};
        out.retransmitted = true;
        from += n;
    }
}

// An acknowledgement of direction d's output (up to `ack`, window to `edge`): what the receiver has is
// forgotten, and output the window now admits goes out.
void tcp_stream::on_ack(stream_pool& pool, unsigned d, std::uint32_t ack, std::uint32_t edge, stream_actions& out) noexcept
{
    stream_direction& D = dir[d];
    if (D.mode == stream_mode::untracked || (D.mode == stream_mode::pass && D.buffer == stream_pool::none)) {
        return;
    }
    if (before(D.out_sent, ack)) {
        ack = D.out_sent; // acknowledges what was never sent: no more than what was
    }
    if (before(D.out_una, ack)) {
        D.out_una = ack;
    }
    D.out_edge = edge;
    D.in_acked = seq_max(D.in_acked, orig_of(pool, d, D.out_una));
    if (buffer_of(pool, d) != nullptr) {
        forget_acknowledged(pool, d);
        const std::uint32_t per_segment = std::max<std::uint32_t>(64, D.mss > 52u ? D.mss - 12u : D.mss);
        send_new(pool, d, out.back, out.back_count, per_segment);
        maybe_idle(pool, d);
    }
}

// What direction d's receiver has acknowledged is forgotten: its records, its output, and the original
// bytes behind them that no framing still needs.
void tcp_stream::forget_acknowledged(stream_pool& pool, unsigned d) noexcept
{
    stream_direction& D = dir[d];
    stream_buffer* B = buffer_of(pool, d);
    while (B->records != 0 && !before(D.out_una, B->record[B->first_record].out_end)) {
        B->rec_orig = B->record[B->first_record].orig_end;
        B->rec_out = B->record[B->first_record].out_end;
        B->first_record = static_cast<std::uint8_t>((B->first_record + 1) % B->record.size());
        --B->records;
    }
    pool.advance(B->out, seq_min(D.out_una, D.out_nxt));
    const std::uint32_t needed = B->records != 0 ? B->rec_orig : B->frame_start;
    pool.advance(B->orig, D.mode == stream_mode::sip ? seq_min(needed, B->frame_start) : needed);
}

void tcp_stream::on_data(stream_pool& pool, unsigned d, const tcp_segment& seg, stream_translator& translator,
                         std::span<char> scratch, stream_actions& out) noexcept
{
    stream_direction& D = dir[d];
    const std::uint32_t per_segment = std::max<std::uint32_t>(64, D.mss > seg.options_length ? D.mss - seg.options_length : D.mss);
    const auto len = static_cast<std::uint32_t>(seg.payload.size());
    const std::uint32_t seq = seg.seq;
    const std::uint32_t end = seq + len;
    const bool fin = (seg.flags & flag::fin) != 0;

    if (D.mode == stream_mode::pass) {
        // Bytes before pass_from were output of the parsing: sent again from there.
        if (buffer_of(pool, d) != nullptr && before(seq, D.pass_from)) {
            resend(d, out_of(pool, d, seq, false), out_of(pool, d, seq_min(end, D.pass_from), true), out, per_segment);
        }
        pass_through(pool, d, seg, per_segment, out);
        return;
    }
    stream_buffer* B = buffer_of(pool, d);
    if (len != 0 && !before(D.in_acked, end) && out.back_count < out.back.size()) {
        // All of it acknowledged before (the acknowledgement was lost): said again.
        out.back[out.back_count++] = {next_seq(d ^ 1u), 0, 0, emit_source::none, false};
    }
    // What it repeats of what is held must be the same bytes (NAT Slipstreaming with overlapping
    // segments: act on one copy only, and on none once they differ).
    if (B != nullptr) {
        const std::uint32_t lo = seq_max(seq, B->orig.base);
        const std::uint32_t hi = seq_min(end, D.in_nxt);
        if (before(lo, hi) && !pool.same(B->orig, lo, seg.payload.substr(lo - seq, hi - lo))) {
            out.refused += len;
            end_parsing(pool, d, stream_end::divergent, out);
            send_new(pool, d, out.own, out.own_count, per_segment);
            return;
        }
        if (before(lo, hi)) {
            // A retransmission: the output it became is sent again. Bytes of a message still incomplete
            // are acknowledged by the stream, when nothing before them awaits the receiver, so that a
            // sender whose window is used up may send the rest.
            if (before(lo, B->frame_start)) {
                resend(d, out_of(pool, d, lo, false), out_of(pool, d, seq_min(hi, B->frame_start), true), out, per_segment);
            }
            if (before(B->frame_start, hi) && B->records == 0 && D.out_sent == D.out_nxt && before(D.in_acked, D.in_nxt)) {
                D.in_acked = D.in_nxt;
                out.taken_over = true;
            }
        }
    }
    const std::uint32_t from = seq_max(seq, D.in_nxt);
    if (before(from, end)) {
        B = ensure_buffer(pool, d);
        const std::string_view fresh = seg.payload.substr(from - seq);
        if (B == nullptr) {
            end_parsing(pool, d, stream_end::no_memory, out);
        } else if (std::uint64_t{from - B->orig.base} + fresh.size() > stream_queue_bytes) {
            out.refused += static_cast<std::uint32_t>(fresh.size()); // more than it may hold: sent again later
        } else if (!pool.write(B->orig, from, fresh)) {
            end_parsing(pool, d, stream_end::no_memory, out);
        } else if (from == D.in_nxt) {
            const std::uint32_t old = D.in_nxt;
            D.in_nxt = end;
            // Bytes that came early and now follow on.
            for (unsigned g = 0; g < B->gaps;) {
                if (!before(D.in_nxt, B->gap_start[g])) {
                    D.in_nxt = seq_max(D.in_nxt, B->gap_end[g]);
                    B->gap_start[g] = B->gap_start[B->gaps - 1];
                    B->gap_end[g] = B->gap_end[B->gaps - 1];
                    --B->gaps;
                    g = 0;
                } else {
                    ++g;
                }
            }
            frame_new_bytes(pool, d, old, seg, translator, scratch, out);
            B = buffer_of(pool, d);
            if (B != nullptr && D.mode == stream_mode::sip) {
                out.held += std::min(len, D.in_nxt - B->frame_start);
            }
        } else {
            // Out of order: held until what is missing arrives (a few ranges; more are refused).
            bool placed = false;
            for (unsigned g = 0; g < B->gaps && !placed; ++g) {
                if (!before(end, B->gap_start[g]) && !before(B->gap_end[g], from)) {
                    B->gap_start[g] = seq_min(B->gap_start[g], from);
                    B->gap_end[g] = seq_max(B->gap_end[g], end);
                    placed = true;
                }
            }
            if (!placed && B->gaps < B->gap_start.size()) {
                B->gap_start[B->gaps] = from;
                B->gap_end[B->gaps] = end;
                ++B->gaps;
                placed = true;
            }
            out.held += placed ? end - from : 0;
            out.refused += placed ? 0 : end - from;
        }
    }
    send_new(pool, d, out.own, out.own_count, per_segment);
    if (D.mode == stream_mode::pass) {
        pass_through(pool, d, seg, per_segment, out); // what parsing could not take (no memory), and a FIN
        return;
    }
    maybe_idle(pool, d); // messages taken out leave nothing to wait for
    // A FIN in order ends the stream: bytes of a message it cut leave as they are; the FIN itself leaves
    // once all output before it has been sent (until then its sender sends it again).
    if (!fin || end != D.in_nxt) {
        return;
    }
    if (B = buffer_of(pool, d); B != nullptr && B->frame_start != D.in_nxt) {
        end_parsing(pool, d, stream_end::truncated, out);
        send_new(pool, d, out.own, out.own_count, per_segment);
    }
    if (D.out_sent != D.out_nxt) {
        return;
    }
    D.mode = stream_mode::pass;
    D.pass_from = D.in_nxt;
    D.delta = static_cast<std::int32_t>(D.out_nxt - D.in_nxt);
    pass_through(pool, d, seg, per_segment, out);
}

// The part of a segment from pass_from on, shifted, with its FIN.
void tcp_stream::pass_through(stream_pool& pool, unsigned d, const tcp_segment& seg, std::uint32_t per_segment,
                              stream_actions& out) noexcept
{
    stream_direction& D = dir[d];
    const std::uint32_t end = seg.seq + static_cast<std::uint32_t>(seg.payload.size());
    const std::uint32_t from = before(seg.seq, D.pass_from) ? seq_min(end, D.pass_from) : seg.seq;
    const bool fin = (seg.flags & flag::fin) != 0;
    D.in_nxt = seq_max(D.in_nxt, end + (fin ? 1u : 0u)); // how far its sender got, for segments made on its behalf
    send_new(pool, d, out.own, out.own_count, per_segment);
    if (fin && from == end && out.own_count != 0 &&
        out.own[out.own_count - 1].seq + out.own[out.own_count - 1].length == from + static_cast<std::uint32_t>(D.delta)) {
        out.own[out.own_count - 1].fin = true;
        D.fin_sent = true;
        return;
    }
    if ((before(from, end) || fin) && out.own_count < out.own.size()) {
        out.own[out.own_count++] = {from + static_cast<std::uint32_t>(D.delta), end - from, from - seg.seq,
                                    from == end ? emit_source::none : emit_source::input, fin};
        D.fin_sent |= fin;
    }
}

void tcp_stream::on_segment(stream_pool& pool, unsigned d, const tcp_segment& seg, stream_translator& translator,
                            std::span<char> scratch, stream_actions& out) noexcept
{
    stream_direction& D = dir[d];
    stream_direction& O = dir[d ^ 1u];
    out.own_count = 0;
    out.back_count = 0;
    out.sack_blocks = 0;
    out.rst = false;
    out.messages = out.held = out.refused = 0;
    out.removed = out.answered = out.unanswered = 0;
    out.ended = stream_end::none;
    out.taken_over = out.removed_acked = out.retransmitted = out.mid_stream = false;
    out.fresh = {};
    const bool syn = (seg.flags & flag::syn) != 0;
    const bool has_ack = (seg.flags & flag::ack) != 0;
    const auto len = static_cast<std::uint32_t>(seg.payload.size());

    if (syn) {
        // A SYN (or SYN-ACK) starts this direction's numbering (again, if retransmitted before any data).
        if (D.mode == stream_mode::untracked || (D.buffer == stream_pool::none && D.in_nxt == seg.seq + 1 && D.delta == 0)) {
            const std::uint16_t mss = D.mss;
            D = stream_direction{};
            D.mss = mss;
            D.in_nxt = D.in_acked = D.out_nxt = D.out_sent = D.out_una = D.pass_from = seg.seq + 1;
            D.out_edge = D.out_una + 65535;
            // Data on a SYN (TCP Fast Open) is not followed: the direction passes as it is.
            D.mode = len == 0 ? stream_mode::sip : stream_mode::untracked;
            D.wscale = seg.window_scale;
            D.has_timestamps = seg.has_timestamps;
        }
        O.mss = seg.mss != 0 ? seg.mss : 536;
    }
    if (seg.has_timestamps) {
        D.ts_val = seg.ts_val;
    }
    const bool had_ack = D.acked_any;
    const std::uint32_t ack_before = D.ack_sent;
    const std::uint16_t window_before = D.wnd_sent;
    out.ack = seg.ack;
    if (has_ack && O.mode != stream_mode::untracked) {
        // The window this sender writes is scaled by its own shift, once both SYNs offered scaling;
        // never in a SYN (RFC 7323 §2.2).
        const unsigned shift = !syn && D.wscale >= 0 && O.wscale >= 0 ? static_cast<unsigned>(D.wscale) : 0u;
        on_ack(pool, d ^ 1u, seg.ack, seg.ack + (std::uint32_t{seg.window} << shift), out);
        O.in_acked = seq_max(O.in_acked, orig_of(pool, d ^ 1u, seg.ack));
        out.ack = O.in_acked;
        // SACK blocks (RFC 2018 §3) say what arrived of the other direction's output: in the original
        // numbering only what surely arrived (a translated message whole, or nothing of it).
        for (unsigned k = 0; k < seg.sack_blocks && k < 4; ++k) {
            const std::uint32_t l = orig_of(pool, d ^ 1u, seg.sack[2 * k], true);
            const std::uint32_t r = orig_of(pool, d ^ 1u, seg.sack[2 * k + 1], false);
            if (before(l, r)) {
                out.sack[2 * out.sack_blocks] = l;
                out.sack[2 * out.sack_blocks + 1] = r;
                ++out.sack_blocks;
            }
        }
        D.ack_sent = out.ack;
        D.wnd_sent = seg.window;
        D.acked_any = true;
    }
    const bool ack_news = has_ack && (!had_ack || out.ack != ack_before || seg.window != window_before);

    if ((seg.flags & flag::rst) != 0) {
        // The connection ends: whatever is held goes with it.
        out.rst = true;
        std::uint32_t rst_seq = seg.seq;
        if (D.mode == stream_mode::pass && !before(seg.seq, D.pass_from)) {
            rst_seq = seg.seq + static_cast<std::uint32_t>(D.delta);
        } else if (D.mode == stream_mode::sip) {
            rst_seq = D.buffer == stream_pool::none ? seg.seq + static_cast<std::uint32_t>(D.delta) : D.out_sent;
        }
        out.own[out.own_count++] = {rst_seq, 0, 0, emit_source::none, false};
        for (unsigned k = 0; k < 2; ++k) {
            if (dir[k].mode == stream_mode::sip) {
                if (stream_buffer* B = buffer_of(pool, k); B != nullptr && B->frame_start != dir[k].in_nxt && k == d) {
                    out.ended = stream_end::truncated;
                }
                dir[k].mode = stream_mode::pass;
                dir[k].pass_from = dir[k].in_nxt;
                dir[k].delta = static_cast<std::int32_t>(dir[k].out_nxt - dir[k].in_nxt);
            }
        }
        release(pool);
        return;
    }

    if (syn || D.mode == stream_mode::untracked || (len == 0 && (seg.flags & flag::fin) == 0)) {
        // A SYN, a connection picked up mid-stream, or a bare ACK: forwarded, its numbers mapped.
        out.mid_stream = D.mode == stream_mode::untracked && !syn;
        std::uint32_t seq = seg.seq;
        if (!syn && D.mode != stream_mode::untracked) {
            seq = D.buffer == stream_pool::none || (D.mode == stream_mode::pass && !before(seg.seq, D.pass_from))
                      ? seg.seq + static_cast<std::uint32_t>(D.delta)
                      : D.out_sent;
        }
        out.own[out.own_count++] = {seq, len, 0, len != 0 ? emit_source::input : emit_source::none,
                                    (seg.flags & flag::fin) != 0};
    } else {
        on_data(pool, d, seg, translator, scratch, out);
        if (out.own_count == 0 && ack_news) {
            // Its bytes are held, but its acknowledgement is news for the other side.
            out.own[out.own_count++] = {next_seq(d), 0, 0, emit_source::none, false};
        }
    }
    if ((out.taken_over || out.removed_acked) && out.back_count == 0) { // segments back carry it already
        out.back[out.back_count++] = {next_seq(d ^ 1u), 0, 0, emit_source::none, false};
    }
    // Segments back to the sender acknowledge what it is owed: what the receiver has, and what the stream
    // took over.
    out.back_ack = D.in_acked;
    out.back_window = O.wnd_sent;
    if (out.back_count != 0) {
        O.ack_sent = out.back_ack;
        O.acked_any = true;
    }
}

} // namespace sipalg::sip
