// SIP over TCP as a byte stream (sip/tcp_stream.hpp), between a model sender and a model receiver:
// every message is translated once and the receiver reads exactly the translated stream, however the
// sender cuts, repeats, reorders or loses its segments, and however the output is lost on its way;
// acknowledgements and SACK blocks going back never claim more than the receiver has; streams that are
// not SIP from their first byte, or stop being SIP, pass as they are (NAT Slipstreaming shapes).
#include "sip/tcp_stream.hpp"

#include "nat/headers.hpp"
#include "sip/message.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace sipalg::sip;

namespace {

using sipalg::tcp_flag::ack;
using sipalg::tcp_flag::fin;
using sipalg::tcp_flag::psh;
using sipalg::tcp_flag::rst;
using sipalg::tcp_flag::syn;
constexpr std::uint32_t client_isn = 1000, server_isn = 900000;

bool before(std::uint32_t a, std::uint32_t b)
{
    return static_cast<std::int32_t>(a - b) < 0;
}

// The engine's part, reduced: the inside address becomes the public one (4 bytes longer each time).
// It parses what the stream asks it to, as the worker does, and counts the messages it then translates
// from that parse (the same bytes, in the same place).
struct address_translator final : stream_translator {
    std::string out;
    std::vector<std::string> seen;
    std::unique_ptr<message> parsed = std::make_unique<message>();
    std::string_view parsed_bytes;
    unsigned from_parse = 0;
    std::string remove;  // a message starting with this is taken out (as the ALG's discard)
    std::string answer;  // and answered with this, when not empty
    const message* parse(std::string_view bytes) noexcept override
    {
        parsed_bytes = parsed->parse(bytes).ok() ? bytes : std::string_view{};
        return parsed_bytes.empty() ? nullptr : parsed.get();
    }
    stream_translation translate(std::string_view m) noexcept override
    {
        from_parse += m.data() == parsed_bytes.data() && m.size() == parsed_bytes.size() ? 1u : 0u;
        parsed_bytes = {};
        seen.emplace_back(m);
        if (!remove.empty() && m.starts_with(remove)) {
            return {stream_translation::outcome::removed, answer};
        }
        out = translated(m);
        if (out == m) {
            return {};
        }
        return {stream_translation::outcome::translated, out};
    }
    static std::string translated(std::string_view m)
    {
        std::string s(m);
        for (std::size_t at = s.find("10.0.1.2"); at != std::string::npos; at = s.find("10.0.1.2", at)) {
            s.replace(at, 8, "198.51.100.1");
            at += 12;
        }
        return s;
    }
};

// A receiver's TCP: in-order bytes, early ones kept aside.
struct receiver {
    std::uint32_t rcv_nxt = client_isn + 1;
    std::map<std::uint32_t, std::string> early;
    std::string data;
    bool fin = false;

    void take(std::uint32_t seq, std::string bytes, bool with_fin)
    {
        if (before(seq, rcv_nxt)) {
            const std::uint32_t skip = rcv_nxt - seq;
            if (skip > bytes.size()) {
                return;
            }
            bytes.erase(0, skip);
            seq = rcv_nxt;
        }
        if (seq != rcv_nxt) {
            if (bytes.size() > early[seq].size()) {
                early[seq] = bytes;
            }
            return;
        }
        data += bytes;
        rcv_nxt += static_cast<std::uint32_t>(bytes.size());
        if (with_fin) {
            fin = true;
            ++rcv_nxt;
        }
        for (auto it = early.begin(); it != early.end();) {
            if (!before(rcv_nxt, it->first)) {
                std::string rest = it->second;
                const std::uint32_t at = it->first;
                it = early.erase(it);
                take(at, rest, false);
                it = early.begin();
            } else {
                ++it;
            }
        }
    }
};

std::string msg(const std::string& method, int n, const std::string& body = "")
{
    std::string m = method + " sip:bob@198.51.100.2 SIP/2.0\r\n"
                             "Via: SIP/2.0/TCP 10.0.1.2:5060;branch=z9hG4bK" + std::to_string(n) + "\r\n"
                             "From: <sip:alice@10.0.1.2>;tag=1\r\n"
                             "To: <sip:bob@198.51.100.2>\r\n"
                             "Call-ID: " + std::to_string(n) + "@10.0.1.2\r\n"
                             "CSeq: " + std::to_string(n) + " " + method + "\r\n"
                             "Contact: <sip:alice@10.0.1.2:5060;transport=tcp>\r\n"
                             "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return m;
}

std::string translated_stream(const std::vector<std::string>& messages)
{
    std::string s;
    for (const auto& m : messages) {
        s += address_translator::translated(m);
    }
    return s;
}

std::string joined(const std::vector<std::string>& messages)
{
    std::string s;
    for (const auto& m : messages) {
        s += m;
    }
    return s;
}

// The client (direction 0) sends `src` through the stream to the server; the server acknowledges.
struct connection {
    stream_pool pool{16, 512};
    tcp_stream st;
    address_translator tr;
    std::vector<char> scratch = std::vector<char>(stream_max_message);
    receiver server;
    std::string src;
    std::uint32_t snd_una = client_isn + 1; // what the client was told arrived (original numbering)
    stream_actions out;
    std::uint16_t server_window = 65535;
    bool lose_output = false;

    explicit connection(std::string s, std::uint16_t mss = 1460) : src(std::move(s))
    {
        tcp_segment a;
        a.seq = client_isn;
        a.flags = syn;
        a.mss = mss;
        a.window = 65535;
        st.on_segment(pool, 0, a, tr, scratch, out);
        tcp_segment b;
        b.seq = server_isn;
        b.ack = client_isn + 1;
        b.flags = syn | ack;
        b.mss = mss;
        b.window = 65535;
        st.on_segment(pool, 1, b, tr, scratch, out);
        tcp_segment c;
        c.seq = client_isn + 1;
        c.ack = server_isn + 1;
        c.flags = ack;
        c.window = 65535;
        st.on_segment(pool, 0, c, tr, scratch, out);
    }

    std::string bytes_of(const stream_emit& e, const tcp_segment& seg)
    {
        std::string b(e.length, '\0');
        switch (e.source) {
        case emit_source::output:
            pool.read(pool.buffer(st.dir[0].buffer).out, e.seq, e.length, b.data());
            break;
        case emit_source::original:
            pool.read(pool.buffer(st.dir[0].buffer).orig, e.offset, e.length, b.data());
            break;
        case emit_source::input:
            b = std::string(seg.payload.substr(e.offset, e.length));
            break;
        case emit_source::none:
            break;
        }
        return b;
    }

    // The client's bytes [off, off + len) (and a FIN after the last byte).
    const stream_actions& send(std::size_t off, std::size_t len, bool with_fin = false, std::string_view instead = {})
    {
        tcp_segment s;
        s.seq = client_isn + 1 + static_cast<std::uint32_t>(off);
        s.ack = server_isn + 1;
        s.flags = static_cast<std::uint8_t>(ack | psh | (with_fin ? fin : 0));
        s.window = 65535;
        s.payload = instead.empty() ? std::string_view(src).substr(off, len) : instead;
        st.on_segment(pool, 0, s, tr, scratch, out);
        for (unsigned k = 0; k < out.own_count; ++k) {
            if (!lose_output) {
                server.take(out.own[k].seq, bytes_of(out.own[k], s), out.own[k].fin);
            }
        }
        if (out.back_count != 0) {
            snd_una = before(snd_una, out.back_ack) ? out.back_ack : snd_una;
        }
        return out;
    }

    // The server acknowledges what it has (and may SACK a block); returns the acknowledgement the client gets.
    std::uint32_t acknowledge(std::vector<std::uint32_t> sack = {})
    {
        tcp_segment s;
        s.seq = server_isn + 1;
        s.ack = server.rcv_nxt;
        s.flags = ack;
        s.window = server_window;
        s.sack_blocks = static_cast<std::uint8_t>(sack.size() / 2);
        std::copy(sack.begin(), sack.end(), s.sack.begin());
        st.on_segment(pool, 1, s, tr, scratch, out);
        for (unsigned k = 0; k < out.back_count; ++k) {
            if (out.back[k].length != 0) {
                server.take(out.back[k].seq, bytes_of(out.back[k], s), out.back[k].fin);
            }
        }
        REQUIRE(out.own_count == 1);
        snd_una = before(snd_una, out.ack) ? out.ack : snd_una;
        return out.ack;
    }
};

} // namespace

TEST_CASE("a message split at every byte position is translated once, whole")
{
    const std::string m = msg("INVITE", 1, "v=0\r\no=- 1 1 IN IP4 10.0.1.2\r\n");
    for (std::size_t cut = 1; cut < m.size(); ++cut) {
        connection c(m);
        const stream_actions& first = c.send(0, cut);
        REQUIRE(first.own_count == 0); // held: nothing of an incomplete message leaves
        c.send(cut, m.size() - cut);
        REQUIRE(c.server.data == address_translator::translated(m));
        REQUIRE(c.tr.seen.size() == 1);
        // Acknowledging everything maps back to the end of the original bytes.
        REQUIRE(c.acknowledge() == client_isn + 1 + m.size());
        REQUIRE(c.st.idle());
    }
}

TEST_CASE("a message taken out leaves nothing in its place; its sender is acknowledged for it")
{
    const std::string i1 = msg("INVITE", 1), m2 = msg("MESSAGE", 2), i3 = msg("INVITE", 3);
    const auto end_of = [](std::size_t n) { return client_isn + 1 + static_cast<std::uint32_t>(n); };
    {
        // The receiver has everything before it: no acknowledgement of its will come, so the stream's own.
        connection c(i1 + m2 + i3);
        c.tr.remove = "MESSAGE";
        c.send(0, i1.size());
        REQUIRE(c.acknowledge() == end_of(i1.size()));
        const stream_actions& a = c.send(i1.size(), m2.size());
        CHECK(a.removed == 1);
        CHECK(a.own_count == 0);
        REQUIRE(a.back_count == 1);
        CHECK(a.back[0].length == 0);
        CHECK(a.back_ack == end_of(i1.size() + m2.size()));
        c.send(i1.size() + m2.size(), i3.size());
        CHECK(c.server.data == address_translator::translated(i1) + address_translator::translated(i3));
        CHECK(c.acknowledge() == end_of(c.src.size()));
        CHECK(c.st.idle());
    }
    {
        // The receiver has not yet acknowledged what came before it: its acknowledgement covers it.
        connection c(i1 + m2 + i3);
        c.tr.remove = "MESSAGE";
        c.send(0, i1.size());
        const stream_actions& a = c.send(i1.size(), m2.size());
        CHECK(a.removed == 1);
        CHECK(a.back_count == 0);
        CHECK(c.acknowledge() == end_of(i1.size() + m2.size()));
        // Sent again by a sender that missed that acknowledgement: acknowledged again, not translated again.
        const stream_actions& again = c.send(i1.size(), m2.size());
        CHECK(again.back_count == 1);
        CHECK(again.back_ack == end_of(i1.size() + m2.size()));
        CHECK(c.tr.seen.size() == 2);
        CHECK(c.st.idle());
    }
    {
        // A whole flood taken out with the receiver silent holds nothing: the stream does not fill.
        std::string flood;
        for (int k = 0; k < 200; ++k) {
            flood += msg("MESSAGE", 10 + k);
        }
        connection c(flood);
        c.tr.remove = "MESSAGE";
        for (std::size_t off = 0; off < flood.size(); off += 1000) {
            const stream_actions& a = c.send(off, std::min<std::size_t>(1000, flood.size() - off));
            CHECK(a.refused == 0);
        }
        CHECK(c.snd_una == end_of(flood.size()));
        CHECK(c.server.data.empty());
        CHECK(c.st.idle());
    }
}

TEST_CASE("an answer to a message taken out goes to its sender, in order with the other direction's bytes")
{
    const std::string i1 = msg("INVITE", 1), m2 = msg("MESSAGE", 2);
    const std::string answer = "SIP/2.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    connection c(i1 + m2);
    c.tr.remove = "MESSAGE";
    c.tr.answer = answer;
    std::string client; // what the client receives, in order
    std::uint32_t client_rcv = server_isn + 1;
    // What the client receives of direction 1's segments (`emits`, `count` of them), in order.
    const auto take = [&](const auto& emits, unsigned count, std::string_view input) {
        for (unsigned k = 0; k < count; ++k) {
            const stream_emit& e = emits[k];
            std::string b(e.length, '\0');
            if (e.source == emit_source::output) {
                c.pool.read(c.pool.buffer(c.st.dir[1].buffer).out, e.seq, e.length, b.data());
            } else if (e.source == emit_source::input) {
                b = std::string(input.substr(e.offset, e.length));
            }
            if (e.seq == client_rcv) {
                client += b;
                client_rcv += e.length;
            }
        }
    };
    c.send(0, i1.size());
    const stream_actions& a = c.send(i1.size(), m2.size());
    CHECK(a.removed == 1);
    CHECK(a.answered == 1);
    take(a.back, a.back_count, {});
    CHECK(client == answer);
    // The server's own response follows the answer in what the client receives.
    const std::string ok = "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 10.0.1.2:5060;branch=z9hG4bK1\r\nCall-ID: 1@10.0.1.2\r\n"
                           "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    tcp_segment s;
    s.seq = server_isn + 1;
    s.ack = c.server.rcv_nxt;
    s.flags = ack | psh;
    s.window = 65535;
    s.payload = ok;
    c.st.on_segment(c.pool, 1, s, c.tr, c.scratch, c.out);
    take(c.out.own, c.out.own_count, ok);
    CHECK(client == answer + address_translator::translated(ok));
    // The client acknowledges all it has: the server hears of its own bytes only.
    tcp_segment k;
    k.seq = c.server.rcv_nxt;
    k.ack = client_rcv;
    k.flags = ack;
    k.window = 65535;
    c.st.on_segment(c.pool, 0, k, c.tr, c.scratch, c.out);
    CHECK(c.out.ack == server_isn + 1 + ok.size());
}

TEST_CASE("a message that is a whole segment is framed from its parse; others by the scanner")
{
    // One message a segment: each framed from the parse the translation then uses. Two in one segment,
    // a keep-alive, or a message over two segments: the scanner frames them, and the parse is not used.
    const std::vector<std::string> ms = {msg("INVITE", 1, "v=0\r\nc=IN IP4 10.0.1.2\r\n"), msg("ACK", 2), msg("BYE", 3)};
    connection c(joined(ms));
    std::size_t off = 0;
    for (const auto& m : ms) {
        c.send(off, m.size());
        off += m.size();
        c.acknowledge();
    }
    REQUIRE(c.server.data == translated_stream(ms));
    REQUIRE(c.tr.seen.size() == 3);
    REQUIRE(c.tr.from_parse == 3);
    const std::vector<std::string> more = {msg("OPTIONS", 4), "\r\n\r\n", msg("OPTIONS", 5), msg("INFO", 6)};
    connection d(joined(more));
    d.send(0, more[0].size() + more[1].size() + more[2].size());
    d.send(d.src.size() - more[3].size(), 10);
    d.send(d.src.size() - more[3].size() + 10, more[3].size() - 10);
    REQUIRE(d.server.data == translated_stream(more));
    REQUIRE(d.tr.seen.size() == 3);
    REQUIRE(d.tr.from_parse == 0);
}

TEST_CASE("several messages in one segment, one message in many small segments")
{
    const std::vector<std::string> ms = {msg("INVITE", 1), "\r\n\r\n", msg("ACK", 2), msg("BYE", 3)};
    {
        connection c(joined(ms));
        c.send(0, c.src.size());
        REQUIRE(c.server.data == translated_stream(ms));
        REQUIRE(c.tr.seen.size() == 3);
    }
    for (std::size_t mss : {536u, 200u, 1u}) {
        connection c(joined(ms), static_cast<std::uint16_t>(mss));
        for (std::size_t off = 0; off < c.src.size(); off += mss) {
            c.send(off, std::min(mss, c.src.size() - off));
            c.acknowledge();
        }
        REQUIRE(c.server.data == translated_stream(ms));
        REQUIRE(c.tr.seen.size() == 3);
        REQUIRE(c.snd_una == client_isn + 1 + c.src.size());
        // Output segments keep to the receiver's MSS.
        REQUIRE(c.st.idle());
    }
}

TEST_CASE("segments out of order are held until what is missing arrives")
{
    const std::vector<std::string> ms = {msg("INVITE", 1), msg("BYE", 2)};
    connection c(joined(ms));
    const std::size_t n = c.src.size();
    c.send(2 * n / 3, n - 2 * n / 3);
    c.send(n / 3, n / 3);
    REQUIRE(c.server.data.empty());
    c.send(0, n / 3);
    REQUIRE(c.server.data == translated_stream(ms));
    REQUIRE(c.tr.seen.size() == 2);
}

TEST_CASE("a retransmission is sent again as translated before; lost output is recovered")
{
    const std::string m = msg("INVITE", 1);
    connection c(m);
    c.lose_output = true;
    c.send(0, m.size());
    REQUIRE(c.server.data.empty());
    // The server has nothing: its acknowledgement says so, and the client sends again.
    REQUIRE(c.acknowledge() == client_isn + 1);
    c.lose_output = false;
    const stream_actions& again = c.send(0, m.size());
    REQUIRE(again.retransmitted);
    REQUIRE(c.server.data == address_translator::translated(m));
    REQUIRE(c.tr.seen.size() == 1); // never translated twice
    // Half of the output acknowledged: the client hears of none of the message.
    c.server = receiver{};
    c.server.take(client_isn + 1, address_translator::translated(m).substr(0, 100), false);
    REQUIRE(c.acknowledge() == client_isn + 1);
}

TEST_CASE("a retransmission with other bytes ends the parsing and acts on neither copy")
{
    // NAT Slipstreaming S7: the first copy is harmless, the second starts a REGISTER.
    const std::string first = "OPTIONS sip:a@198.51.100.2 SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.1.2;branch=z9hG4bK1\r\n";
    const std::string second = "REGISTER sip:samy.pl;transport=TCP SIP/2.0\r\nContact: <sip:x@10.0.1.2:22>\r\n";
    connection c(first + "Content-Length: 0\r\n\r\n");
    c.send(0, 60);
    const stream_actions& r = c.send(0, 60, false, std::string_view(second).substr(0, 60));
    REQUIRE(r.ended == stream_end::divergent);
    REQUIRE(c.tr.seen.empty());
    c.send(60, c.src.size() - 60);
    REQUIRE(c.tr.seen.empty());
    REQUIRE(c.server.data == c.src); // the first copy, as it was
}

TEST_CASE("streams that are not SIP from their first byte pass as they are and are never parsed")
{
    const std::string sip_text = msg("REGISTER", 7);
    for (const std::string& prefix : {std::string("POST /samy_n?0012 HTTP/1.1\r\nContent-Length: 1000\r\n\r\n"),
                                     std::string("\x00\x03\x00\x50\x21\x12\xa4\x42xxxxxxxxxxxx", 20),
                                     std::string("GET / HTTP/1.1\r\n\r\n")}) {
        connection c(prefix + sip_text);
        c.send(0, prefix.size());
        const stream_actions& r = c.send(prefix.size(), sip_text.size()); // REGISTER at a segment start
        REQUIRE(c.st.dir[0].mode == stream_mode::pass);
        REQUIRE(r.messages == 0);
        REQUIRE(c.tr.seen.empty());
        REQUIRE(c.server.data == c.src);
    }
}

TEST_CASE("after a framing error nothing more is parsed, even a REGISTER at a segment start")
{
    const std::string good = msg("OPTIONS", 1);
    const std::string bad = "OPTIONS sip:a SIP/2.0\r\nContent-Length: x\r\n\r\n";
    const std::string reg = msg("REGISTER", 2);
    connection c(good + bad + reg);
    c.send(0, good.size() + bad.size());
    REQUIRE(c.out.ended == stream_end::bad_content_length);
    c.send(good.size() + bad.size(), reg.size());
    REQUIRE(c.tr.seen.size() == 1);
    // The good message is translated, the rest passes shifted by what it grew.
    REQUIRE(c.server.data == address_translator::translated(good) + bad + reg);
    REQUIRE(c.acknowledge() == client_isn + 1 + c.src.size());
}

TEST_CASE("bytes held by a sender that waits for their acknowledgement are taken over")
{
    const std::string m = msg("INVITE", 1, std::string(600, 'x'));
    connection c(m);
    c.send(0, 500);
    REQUIRE(c.snd_una == client_isn + 1);
    // The sender's timer: the same bytes again. The stream acknowledges them so the rest may come.
    const stream_actions& r = c.send(0, 500);
    REQUIRE(r.taken_over);
    REQUIRE(c.snd_una == client_isn + 1 + 500);
    c.send(500, m.size() - 500);
    REQUIRE(c.server.data == address_translator::translated(m));
    // What the stream took over is never acknowledged again from the receiver's side before it has it.
    REQUIRE(c.acknowledge() == client_isn + 1 + m.size());
}

TEST_CASE("output waits for the receiver's window, and its acknowledgement lets it out")
{
    const std::vector<std::string> ms = {msg("INVITE", 1), msg("BYE", 2)};
    connection c(joined(ms));
    c.server_window = 100;
    c.acknowledge();
    c.send(0, c.src.size());
    REQUIRE(c.server.data.size() == 100);
    for (int i = 0; i < 40 && c.server.data.size() < translated_stream(ms).size(); ++i) {
        c.acknowledge();
    }
    REQUIRE(c.server.data == translated_stream(ms));
}

TEST_CASE("SACK blocks map to whole messages only")
{
    const std::vector<std::string> ms = {msg("INVITE", 1), msg("BYE", 2)};
    connection c(joined(ms));
    c.lose_output = true;
    c.send(0, c.src.size());
    const std::uint32_t second_out = client_isn + 1 + static_cast<std::uint32_t>(address_translator::translated(ms[0]).size());
    const std::uint32_t end_out = second_out + static_cast<std::uint32_t>(address_translator::translated(ms[1]).size());
    c.acknowledge({second_out, end_out});
    REQUIRE(c.out.sack_blocks == 1);
    REQUIRE(c.out.sack[0] == client_isn + 1 + ms[0].size());
    REQUIRE(c.out.sack[1] == client_isn + 1 + c.src.size());
    // A block inside a translated message says nothing.
    c.acknowledge({second_out + 10, end_out - 10});
    REQUIRE(c.out.sack_blocks == 0);
}

TEST_CASE("a FIN leaves after the last output; a FIN inside a message lets its bytes pass")
{
    {
        const std::string m = msg("BYE", 1);
        connection c(m);
        c.send(0, m.size(), true);
        REQUIRE(c.server.fin);
        REQUIRE(c.server.data == address_translator::translated(m));
    }
    {
        const std::string m = msg("BYE", 1);
        connection c(m);
        const stream_actions& r = c.send(0, 50, true);
        REQUIRE(r.ended == stream_end::truncated);
        REQUIRE(c.server.fin);
        REQUIRE(c.server.data == m.substr(0, 50));
    }
}

TEST_CASE("any cutting, loss, repetition and reordering ends in the translated stream")
{
    std::mt19937 rng(2026);
    for (int round = 0; round < 300; ++round) {
        // Every third round, MESSAGE requests among them are taken out of the stream.
        const bool removing = round % 3 == 0;
        std::vector<std::string> ms;
        std::vector<std::string> kept;
        for (int i = 0, n = 1 + static_cast<int>(rng() % 6); i < n; ++i) {
            const char* method = removing && rng() % 3 == 0 ? "MESSAGE" : i % 2 ? "ACK" : "INVITE";
            ms.push_back(msg(method, i, std::string(rng() % 900, 'b')));
            if (std::string_view(method) != "MESSAGE") {
                kept.push_back(ms.back());
            }
            if (rng() % 4 == 0) {
                ms.push_back("\r\n\r\n");
                kept.push_back(ms.back());
            }
        }
        const std::string expected = translated_stream(kept);
        const std::uint16_t mss = static_cast<std::uint16_t>(100 + rng() % 1400);
        connection c(joined(ms), mss);
        c.tr.remove = removing ? "MESSAGE" : "";
        const auto total = static_cast<std::uint32_t>(c.src.size());
        for (int step = 0; step < 3000 && (c.server.data.size() < expected.size() ||
                                           c.snd_una != client_isn + 1 + total);
             ++step) {
            // The client sends from what it believes unacknowledged, a window's worth, in random pieces;
            // some are lost before the appliance, some output after it; some come twice or late.
            std::vector<std::pair<std::size_t, std::size_t>> segs;
            for (std::size_t off = c.snd_una - client_isn - 1; off < total && segs.size() < 8;) {
                const std::size_t n = std::min<std::size_t>(1 + rng() % mss, total - off);
                segs.emplace_back(off, n);
                off += n;
            }
            std::shuffle(segs.begin(), segs.end(), rng);
            for (const auto& [off, n] : segs) {
                if (rng() % 5 == 0) {
                    continue;
                }
                c.lose_output = rng() % 6 == 0;
                c.send(off, n);
                if (rng() % 7 == 0) {
                    c.send(off, n);
                }
            }
            c.lose_output = false;
            c.acknowledge();
            // Acknowledgements never run ahead of what the server has, translated.
            REQUIRE(!before(client_isn + 1 + total, c.snd_una));
        }
        REQUIRE(c.server.data == expected);
        REQUIRE(c.snd_una == client_isn + 1 + total);
        std::size_t messages = 0;
        for (const auto& m : ms) {
            messages += m[0] == '\r' ? 0 : 1;
        }
        REQUIRE(c.tr.seen.size() == messages);
        REQUIRE(c.st.idle());
        REQUIRE(c.pool.pages_in_use() == 0);
    }
}
