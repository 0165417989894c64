// TCP framing (RFC 3261 §18.3, RFC 5626 keep-alives): the same frames whether a stream arrives whole,
// one byte at a time, or in random segments; partial messages held back; streams that are not SIP
// refused with a reason.
#include "sip/framer.hpp"
#include "sip_test_util.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

using namespace sipalg::sip;
using namespace sipalg::sip::testing;

namespace {

struct framed {
    std::vector<std::pair<frame_kind, std::string>> frames;
    frame_error error = frame_error::none;
    std::size_t pending = 0;
};

framed run(const std::string& stream, const std::vector<std::size_t>& cuts)
{
    stream_framer f;
    framed out;
    std::size_t pos = 0;
    for (std::size_t i = 0; i <= cuts.size() && out.error == frame_error::none; ++i) {
        const std::size_t end = i < cuts.size() ? cuts[i] : stream.size();
        out.error = f.feed(std::string_view(stream).substr(pos, end - pos),
                           [&](const frame& fr) { out.frames.emplace_back(fr.kind, std::string(fr.bytes)); });
        pos = end;
    }
    out.pending = f.pending();
    return out;
}

framed whole(const std::string& s)
{
    return run(s, {});
}

framed bytewise(const std::string& s)
{
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < s.size(); ++i) {
        cuts.push_back(i);
    }
    return run(s, cuts);
}

// Valid RFC 4475 messages whose Content-Length frames them exactly, back to back with keep-alives.
std::string stream_of_messages()
{
    std::string s;
    for (const char* name : {"wsinv.dat", "esc01.dat", "longreq.dat", "mpart01.dat", "unreason.dat", "noreason.dat",
                             "transports.dat", "sdp01.dat"}) {
        s += load(std::string("rfc4475/") + name);
        s += name[0] == 'e' ? "\r\n\r\n" : (name[0] == 'u' ? "\r\n" : "");
    }
    return s;
}

} // namespace

TEST_CASE("a stream fed one byte at a time gives the same frames as fed whole")
{
    const std::string s = stream_of_messages();
    const framed a = whole(s);
    REQUIRE(a.error == frame_error::none);
    REQUIRE(a.pending == 0);
    std::size_t messages = 0;
    for (const auto& [kind, bytes] : a.frames) {
        messages += kind == frame_kind::message ? 1u : 0u;
    }
    REQUIRE(messages == 8);
    REQUIRE(a.frames.size() == 10); // and one ping, one pong
    const framed b = bytewise(s);
    REQUIRE(b.error == frame_error::none);
    REQUIRE(b.frames == a.frames);
    // Every framed message parses, with its whole body.
    for (const auto& [kind, bytes] : a.frames) {
        if (kind == frame_kind::message) {
            const auto c = check_bytes(bytes);
            REQUIRE(c->status.ok());
            REQUIRE(c->m->body().size() == c->m->content_length());
        }
    }
}

TEST_CASE("random segmentation gives the same frames")
{
    const std::string s = stream_of_messages();
    const framed a = whole(s);
    std::mt19937 rng(18);
    for (int round = 0; round < 200; ++round) {
        std::vector<std::size_t> cuts;
        std::size_t at = 0;
        while (true) {
            at += 1 + rng() % 700;
            if (at >= s.size()) {
                break;
            }
            cuts.push_back(at);
        }
        REQUIRE(run(s, cuts).frames == a.frames);
    }
}

TEST_CASE("a partial message is held back until its body is complete")
{
    const std::string msg = load("rfc4475/wsinv.dat");
    stream_framer f;
    int frames = 0;
    REQUIRE(f.feed(std::string_view(msg).substr(0, msg.size() - 10), [&](const frame&) { ++frames; }) ==
            frame_error::none);
    REQUIRE(frames == 0);
    REQUIRE(f.pending() == msg.size() - 10);
    REQUIRE(f.feed(std::string_view(msg).substr(msg.size() - 10), [&](const frame& fr) {
        ++frames;
        REQUIRE(fr.bytes == msg);
    }) == frame_error::none);
    REQUIRE(frames == 1);
    REQUIRE(f.pending() == 0);
}

TEST_CASE("streams that do not start a SIP message are refused with a reason")
{
    REQUIRE(whole("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n").error == frame_error::not_sip);
    REQUIRE(bytewise("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n").error == frame_error::not_sip);
    REQUIRE(whole(std::string("\0\0\0\0REGISTER sip:a SIP/2.0\r\n\r\n", 30)).error == frame_error::not_sip);
    // NAT Slipstreaming: a REGISTER inside an HTTP POST body is never a message boundary.
    const std::string post = "POST /upload HTTP/1.1\r\nContent-Length: 60\r\n\r\n"
                             "REGISTER sip:attacker.example SIP/2.0\r\nContact: <sip:x@10.0.0.5:1234>\r\n\r\n";
    REQUIRE(whole(post).error == frame_error::not_sip);
    // After a refusal, nothing more is framed.
    stream_framer f;
    REQUIRE(f.feed("HTTP/1.1 200 OK\r\n\r\n", [](const frame&) {}) == frame_error::not_sip);
    REQUIRE(f.feed(load("rfc4475/wsinv.dat"), [](const frame&) { FAIL("framed after an error"); }) ==
            frame_error::not_sip);
}

TEST_CASE("ambiguous Content-Length and oversized messages are refused")
{
    REQUIRE(whole("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 5\r\nl: 6\r\n\r\n123456").error ==
            frame_error::bad_content_length);
    REQUIRE(whole("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n").error == frame_error::bad_content_length);
    stream_framer small(200);
    const std::string big = load("rfc4475/wsinv.dat");
    REQUIRE(small.feed(big, [](const frame&) {}) == frame_error::too_large);
    // A start line that never ends is refused once it is longer than any start line may be.
    const std::string endless = "INVITE sip:" + std::string(stream_framer::max_start_line, 'a');
    REQUIRE(whole(endless).error == frame_error::too_large);
}

TEST_CASE("a message without Content-Length has an empty body")
{
    const framed a = whole("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\r\nOPTIONS sip:a@b SIP/2.0\r\n\r\n");
    REQUIRE(a.frames.size() == 2);
}

TEST_CASE("Content-Length is recognised by its name alone, in any case, whole or byte by byte")
{
    // {header line, the body length it gives (npos: the line is not Content-Length)}
    const std::pair<std::string, std::size_t> lines[] = {
        {"Content-Length: 3", 3}, {"CONTENT-LENGTH: 3", 3}, {"content-length  :3", 3}, {"l: 3", 3},
        {"L\t: 3", 3}, {"Content-Length\r: 3", 3},
        // A CR folds to '-' by its 0x20 bit: it is no dash.
        {"Content\rLength: 3", std::string::npos}, {"Content_Length: 3", std::string::npos},
        {"Content-Lengths: 3", std::string::npos}, {"Content-Type: 3", std::string::npos},
        {"Content-Lengt: 3", std::string::npos}, {"Content-Length", std::string::npos},
        {"lx: 3", std::string::npos}, {"Call-ID: 3", std::string::npos}, {"C", std::string::npos},
    };
    for (const auto& [line, length] : lines) {
        const std::string s = "OPTIONS sip:a@b SIP/2.0\r\n" + line + "\r\n\r\nabcOPTIONS sip:a@b SIP/2.0\r\n\r\n";
        const framed a = whole(s);
        INFO(line);
        REQUIRE(a.frames == bytewise(s).frames);
        // Without Content-Length the body is empty, and "abcOPTIONS ..." is a request of its own.
        REQUIRE(a.error == frame_error::none);
        REQUIRE(a.frames.size() == 2);
        REQUIRE(a.frames[0].second.size() == s.find("abc") + (length == std::string::npos ? 0 : length));
    }
}

TEST_CASE("a whole message is framed from its parse exactly as the scanner frames it, or not at all")
{
    const auto from_parse = [](const std::string& bytes) -> std::optional<std::uint32_t> {
        auto m = std::make_unique<message>();
        if (!m->parse(bytes).ok()) {
            return std::nullopt;
        }
        return frame_scanner::frame_of(*m, 65535);
    };
    // Messages whose Content-Length frames them exactly: the scanner's one frame, and the same length;
    // those that fold a line are left to the scanner.
    for (const char* name : {"wsinv.dat", "esc01.dat", "longreq.dat", "mpart01.dat", "unreason.dat", "noreason.dat",
                             "transports.dat", "sdp01.dat"}) {
        const std::string msg = load(std::string("rfc4475/") + name);
        INFO(name);
        const framed a = whole(msg);
        REQUIRE(a.frames.size() == 1);
        const bool folds = msg.find("\n ") < msg.find("\r\n\r\n") || msg.find("\n\t") < msg.find("\r\n\r\n");
        if (folds) {
            CHECK_FALSE(from_parse(msg).has_value());
        } else {
            CHECK(from_parse(msg) == a.frames[0].second.size());
        }
    }
    const std::string head = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n";
    CHECK(from_parse(head + "Content-Length: 3\r\n\r\nabc") == head.size() + 24);
    CHECK(from_parse(head + "l: 3\r\n\r\nabc") == head.size() + 11);
    CHECK(from_parse(head + "\r\n") == head.size() + 2);
    CHECK(from_parse("SIP/2.0 200 OK\nContent-Length: 0\n\n") == 34u);
    // What the scanner would frame otherwise, or refuse, is left to it.
    for (const std::string& other : {
             head + "Content-Length: 3\r\n\r\nabcd",               // another message follows
             head + "Content-Length: 5\r\n\r\nabc",                // its body is still to come
             head + "Content-Length:\r\n 3\r\n\r\nabc",            // a folded Content-Length
             head + "Content-Length: 3\r\nX: y\r\n z\r\n\r\nabc",  // a folded last line
             head + "X: y\r\n\tz\r\nContent-Length: 3\r\n\r\nabc", // a folded line before
             head + "Content-Length: 3\r\nl: 4\r\n\r\nabc",        // two that differ
             head + "Content-Length: 3x\r\n\r\nabc",               // not a number
             std::string("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
             "\r\n" + head + "\r\n",                                // a keep-alive first
             "INVITE sip:" + std::string(frame_scanner::max_start_line, 'a') + " SIP/2.0\r\n\r\n",
         }) {
        INFO(other);
        CHECK_FALSE(from_parse(other).has_value());
    }
}
