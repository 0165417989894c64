// sip/nat: what a SIP message carries of the translated endpoint, rewritten both ways, and the media
// ports asked for; what names other hosts, host names and held or rejected streams stay as they were.
#include "sip/nat.hpp"
#include "sip/fields.hpp"
#include "sip/sdp.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <vector>

using namespace sipalg;
using namespace sipalg::sip;

namespace {

constexpr ipv4_address ip(unsigned a, unsigned b, unsigned c, unsigned d)
{
    return (a << 24) | (b << 16) | (c << 8) | d;
}

const translation phone{{ip(10, 0, 1, 2), 5060}, {ip(198, 51, 100, 1), 40000}};

// Grants the pinholes a translation asks for, as the data path would: the next even port (or the one
// an SDP left as written names), or none when told to refuse.
class fake_media {
public:
    std::optional<std::uint16_t> open(const pinhole_ask& a)
    {
        asked.push_back({a.inside, a.rtcp, a.public_address, a.stream});
        if (refuse) {
            return std::nullopt;
        }
        if (a.preferred != 0) {
            return a.preferred;
        }
        next += 2;
        return static_cast<std::uint16_t>(next - 2);
    }
    struct request {
        endpoint inside;
        std::uint16_t rtcp;
        ipv4_address public_address;
        unsigned stream;
    };
    std::vector<request> asked;
    std::uint16_t next = 30000;
    bool refuse = false;
};

std::string crlf(std::string s)
{
    std::string out;
    for (char c : s) {
        if (c == '\n') {
            out += "\r\n";
        } else {
            out += c;
        }
    }
    return out;
}

// A message with its body and a correct Content-Length.
std::string sip_message(const std::string& head, const std::string& body = {})
{
    const std::string b = crlf(body);
    std::string h = crlf(head);
    h += "Content-Length: " + std::to_string(b.size()) + "\r\n\r\n";
    return h + b;
}

struct translated {
    std::string text;
    nat_summary summary;
    unsigned opened = 0;  // media pinholes granted
    unsigned refused = 0; // media pinholes refused (their ports left as written)
};

// The message translated (the phone's translation unless told otherwise), its pinholes granted by
// `media` (none asked for without it), as text.
translated run(const std::string& in, bool from_inside, fake_media* media, const nat_options& options = {},
               const translation& with = phone)
{
    message m;
    REQUIRE(m.parse(in).ok());
    edit_list edits;
    translated t;
    pinhole_asks asks;
    REQUIRE(translate(m, with, from_inside, media != nullptr ? &asks : nullptr, edits, t.summary, options) == edit_error::ok);
    for (unsigned k = 0; k < asks.n; ++k) {
        const auto port = media->open(asks.list[k]);
        if (port) {
            REQUIRE(grant(edits, asks.list[k], *port) == edit_error::ok);
        }
        if (asks.list[k].kind == ask_kind::media) {
            ++(port ? t.opened : t.refused);
        }
    }
    std::array<char, 8192> out;
    const auto applied = edits.apply(m, out);
    REQUIRE(applied.error == edit_error::ok);
    t.text.assign(out.data(), applied.length);
    return t;
}

const std::string offer_sdp = R"(v=0
o=alice 2890844526 2890844526 IN IP4 10.0.1.2
s=-
c=IN IP4 10.0.1.2
t=0 0
m=audio 4000 RTP/AVP 0 8
a=rtpmap:0 PCMU/8000
m=video 4002 RTP/AVP 31
a=rtcp:4005 IN IP4 10.0.1.2
m=image 4010 udptl t38
c=IN IP4 10.0.1.99
m=audio 0 RTP/AVP 0
)";

const std::string invite_head = R"(INVITE sip:bob@203.0.113.5 SIP/2.0
Via: SIP/2.0/UDP 10.0.1.2:5060;branch=z9hG4bK776asdhds;rport
Max-Forwards: 70
To: Bob <sip:bob@203.0.113.5>
From: Alice <sip:alice@example.com>;tag=1928301774
Call-ID: a84b4c76e66710@10.0.1.2
CSeq: 314159 INVITE
Contact: <sip:alice@10.0.1.2:5060;transport=udp>
Content-Type: application/sdp
)";

} // namespace

TEST_CASE("an INVITE from the inside phone carries only its public address and ports")
{
    fake_media media;
    const auto t = run(sip_message(invite_head, offer_sdp), true, &media);
    INFO(t.text);
    message m;
    REQUIRE(m.parse(t.text).ok());
    CHECK(t.text.find("10.0.1.2") == std::string::npos);
    CHECK(m.value_of(header_type::via) == "SIP/2.0/UDP 198.51.100.1:40000;branch=z9hG4bK776asdhds;rport");
    CHECK(m.value_of(header_type::contact) == "<sip:alice@198.51.100.1:40000;transport=udp>");
    CHECK(m.value_of(header_type::from) == "Alice <sip:alice@example.com>;tag=1928301774"); // a host name
    CHECK(m.value_of(header_type::to) == "Bob <sip:bob@203.0.113.5>");                      // the peer
    CHECK(m.request_uri() == "sip:bob@203.0.113.5");
    CHECK(m.value_of(header_type::call_id) == "a84b4c76e66710@198.51.100.1"); // SIPp and many phones put it there
    const std::string body(m.body());
    CHECK(body.find("o=alice 2890844526 2890844526 IN IP4 198.51.100.1\r\n") != std::string::npos);
    CHECK(body.find("c=IN IP4 198.51.100.1\r\n") != std::string::npos);
    CHECK(body.find("m=audio 30000 RTP/AVP 0 8\r\n") != std::string::npos);
    CHECK(body.find("m=video 30002 RTP/AVP 31\r\n") != std::string::npos);
    CHECK(body.find("a=rtcp:30003 IN IP4 198.51.100.1\r\n") != std::string::npos);
    CHECK(body.find("m=image 4010 udptl t38\r\nc=IN IP4 10.0.1.99\r\n") != std::string::npos); // another host
    CHECK(body.find("m=audio 0 RTP/AVP 0\r\n") != std::string::npos);                          // rejected
    CHECK(m.has_content_length());
    CHECK(m.content_length() == m.body().size());
    REQUIRE(media.asked.size() == 2);
    CHECK(media.asked[0].inside == endpoint{ip(10, 0, 1, 2), 4000});
    CHECK(media.asked[0].rtcp == 4001);
    CHECK(media.asked[0].public_address == ip(198, 51, 100, 1));
    CHECK(media.asked[1].inside == endpoint{ip(10, 0, 1, 2), 4002});
    CHECK(media.asked[1].rtcp == 4005);
    CHECK(media.asked[0].stream == 0);
    CHECK(media.asked[1].stream == 1);
    CHECK(t.summary.rejected_streams == 0); // the inside party's own port 0 is its own pinholes' business
    CHECK(t.summary.request);
    CHECK(t.summary.method == method::invite);
    CHECK(t.summary.has_sdp);
    CHECK(t.opened == 2);
    CHECK(t.summary.call_id == "a84b4c76e66710@10.0.1.2");
}

TEST_CASE("an answer the inside party receives names the streams it rejects by their place")
{
    // RFC 3264 §6: the answer has the offer's m= lines in order; port 0 rejects that stream.
    const std::string answer = R"(SIP/2.0 200 OK
Via: SIP/2.0/UDP 198.51.100.1:40000;branch=z9hG4bK776asdhds;rport
To: Bob <sip:bob@203.0.113.5>;tag=a6c85cf
From: Alice <sip:alice@example.com>;tag=1928301774
Call-ID: a84b4c76e66710@198.51.100.1
CSeq: 314159 INVITE
Content-Type: application/sdp
)";
    const std::string body = "v=0\no=bob 1 1 IN IP4 203.0.113.5\ns=-\nc=IN IP4 203.0.113.5\nt=0 0\n"
                             "m=audio 6000 RTP/AVP 0\nm=video 0 RTP/AVP 31\nm=image 0 udptl t38\nm=audio 6004 RTP/AVP 0\n";
    fake_media media;
    const auto t = run(sip_message(answer, body), false, &media);
    CHECK(t.summary.has_sdp);
    CHECK(t.summary.rejected_streams == 0b0110);
    CHECK(media.asked.empty()); // the outside party's ports are not translated
}

TEST_CASE("a dialog has one key whichever way its messages travel")
{
    nat_summary out;
    nat_summary in;
    message m;
    const std::string a = sip_message("OPTIONS sip:x SIP/2.0\nCall-ID: abc@10.0.1.2\nCSeq: 1 OPTIONS\n");
    const std::string b = sip_message("SIP/2.0 200 OK\nCall-ID: abc@198.51.100.1\nCSeq: 1 OPTIONS\n");
    edit_list edits;
    REQUIRE(m.parse(a).ok());
    REQUIRE(translate(m, phone, true, nullptr, edits, out) == edit_error::ok);
    edits.clear();
    REQUIRE(m.parse(b).ok());
    REQUIRE(translate(m, phone, false, nullptr, edits, in) == edit_error::ok);
    CHECK(out.call_key == in.call_key);
    CHECK(out.call_key != 0);
}

TEST_CASE("a response coming back gets the phone's own Via, received and rport again")
{
    const std::string ok = sip_message(R"(SIP/2.0 200 OK
Via: SIP/2.0/UDP 198.51.100.1:40000;branch=z9hG4bK776asdhds;received=198.51.100.1;rport=40000
To: Bob <sip:bob@203.0.113.5>;tag=a6c85cf
From: Alice <sip:alice@example.com>;tag=1928301774
Call-ID: a84b4c76e66710@10.0.1.2
CSeq: 314159 INVITE
Contact: <sip:bob@203.0.113.5>
Content-Type: application/sdp
)", "v=0\no=bob 1 1 IN IP4 203.0.113.5\ns=-\nc=IN IP4 203.0.113.5\nt=0 0\nm=audio 5004 RTP/AVP 0\n");
    fake_media media;
    const auto t = run(ok, false, &media);
    INFO(t.text);
    message m;
    REQUIRE(m.parse(t.text).ok());
    CHECK(m.value_of(header_type::via) == "SIP/2.0/UDP 10.0.1.2:5060;branch=z9hG4bK776asdhds;received=10.0.1.2;rport=5060");
    CHECK(m.value_of(header_type::contact) == "<sip:bob@203.0.113.5>");
    CHECK(std::string(m.body()).find("m=audio 5004 RTP/AVP 0") != std::string::npos); // the peer's, as sent
    CHECK(media.asked.empty());
    CHECK_FALSE(t.summary.request);
    CHECK(t.summary.status == 200);
    CHECK(t.summary.method == method::invite);
}

TEST_CASE("a request from outside to the phone's public Contact reaches its inside Contact")
{
    const std::string bye = sip_message(R"(BYE sip:alice@198.51.100.1:40000;transport=udp SIP/2.0
Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bKnashds8
To: Alice <sip:alice@example.com>;tag=1928301774
From: Bob <sip:bob@203.0.113.5>;tag=a6c85cf
Call-ID: a84b4c76e66710@10.0.1.2
CSeq: 231 BYE
)");
    const auto t = run(bye, false, nullptr);
    message m;
    REQUIRE(m.parse(t.text).ok());
    CHECK(m.request_uri() == "sip:alice@10.0.1.2:5060;transport=udp");
    CHECK(m.value_of(header_type::via) == "SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bKnashds8");
    CHECK(t.summary.method == method::bye);
}

TEST_CASE("ports: the default port stays implicit when it maps to the default, and appears when it does not")
{
    const translation same_port{{ip(10, 0, 1, 2), 5060}, {ip(198, 51, 100, 1), 5060}};
    const std::string reg = sip_message(R"(REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP 10.0.1.2;branch=z9hG4bKreg
To: <sip:alice@example.com>
From: <sip:alice@example.com>;tag=1
Call-ID: r1
CSeq: 1 REGISTER
Contact: <sip:alice@10.0.1.2>;expires=3600, <sip:alice@10.0.1.2:5070>
)");
    message r;
    const auto kept = run(reg, true, nullptr, {}, same_port);
    REQUIRE(r.parse(kept.text).ok());
    CHECK(r.value_of(header_type::via) == "SIP/2.0/UDP 198.51.100.1;branch=z9hG4bKreg");
    CHECK(r.value_of(header_type::contact) == "<sip:alice@198.51.100.1>;expires=3600, <sip:alice@198.51.100.1:5070>");
    // Translated to another port: the implicit 5060 must now be written.
    const auto t = run(reg, true, nullptr);
    REQUIRE(r.parse(t.text).ok());
    CHECK(r.value_of(header_type::via) == "SIP/2.0/UDP 198.51.100.1:40000;branch=z9hG4bKreg");
    CHECK(r.value_of(header_type::contact) == "<sip:alice@198.51.100.1:40000>;expires=3600, <sip:alice@198.51.100.1:5070>");
    CHECK(t.summary.method == method::register_);
}

TEST_CASE("hold, rtp disabled and no ports left: addresses follow, no media port is invented")
{
    const std::string hold = "v=0\no=alice 1 2 IN IP4 10.0.1.2\ns=-\nc=IN IP4 0.0.0.0\nt=0 0\nm=audio 4000 RTP/AVP 0\na=sendonly\n";
    fake_media media;
    auto t = run(sip_message(invite_head, hold), true, &media);
    CHECK(media.asked.empty());
    CHECK(t.text.find("c=IN IP4 0.0.0.0\r\n") != std::string::npos);
    CHECK(t.text.find("m=audio 4000 RTP/AVP 0\r\n") != std::string::npos);
    // rtp disable: the addresses are translated, the ports stay (no pinholes behind them).
    t = run(sip_message(invite_head, offer_sdp), true, nullptr);
    CHECK(t.text.find("m=audio 4000 RTP/AVP 0 8\r\n") != std::string::npos);
    CHECK(t.text.find("c=IN IP4 198.51.100.1\r\n") != std::string::npos);
    // The data plane had no port pair: the stream is left as it was, and counted.
    media.refuse = true;
    t = run(sip_message(invite_head, offer_sdp), true, &media);
    CHECK(t.refused == 2);
    CHECK(t.text.find("m=audio 4000 RTP/AVP 0 8\r\n") != std::string::npos);
}

TEST_CASE("a message too big for the edit list's arena is refused whole, not half-rewritten")
{
    std::string head = "OPTIONS sip:x@203.0.113.5 SIP/2.0\nVia: SIP/2.0/UDP 10.0.1.2:5060;branch=z9hG4bKa\n"
                       "Call-ID: c\nCSeq: 1 OPTIONS\n";
    for (int i = 0; i < 80; ++i) {
        head += "Contact: <sip:a@10.0.1.2:5060>\n";
    }
    message m;
    const std::string in = sip_message(head);
    REQUIRE(m.parse(in).ok());
    edit_list edits;
    nat_summary s;
    CHECK(translate(m, phone, true, nullptr, edits, s) == edit_error::too_many);
}

TEST_CASE("contact-fixup disabled: only a Contact of exactly the session's address and port is translated")
{
    const std::string reg = sip_message(R"(OPTIONS sip:bob@203.0.113.5 SIP/2.0
Via: SIP/2.0/UDP 10.0.1.2:5060;branch=z9hG4bKo
Call-ID: o1
CSeq: 1 OPTIONS
Contact: <sip:alice@10.0.1.2:5060>, <sip:alice@10.0.1.2:5070>
)");
    const auto t = run(reg, true, nullptr, nat_options{false, true});
    message r;
    REQUIRE(r.parse(t.text).ok());
    CHECK(r.value_of(header_type::contact) == "<sip:alice@198.51.100.1:40000>, <sip:alice@10.0.1.2:5070>");
}

TEST_CASE("no-sdp-fixup: the SDP stays as written and its streams are opened on the ports it names")
{
    // A PBX that already writes its public address in c= (the case Fortinet's option is for).
    const std::string body = "v=0\no=pbx 1 1 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\n"
                             "m=audio 4000 RTP/AVP 0\nm=video 4002 RTP/AVP 31\nc=IN IP4 192.0.2.7\n";
    fake_media media;
    message m;
    const std::string in = sip_message(invite_head, body);
    REQUIRE(m.parse(in).ok());
    const auto t = run(in, true, &media, nat_options{true, false});
    message r;
    REQUIRE(r.parse(t.text).ok());
    CHECK(r.body() == m.body()); // untouched
    REQUIRE(media.asked.size() == 1); // the video stream is another host's
    CHECK(media.asked[0].inside == endpoint{ip(10, 0, 1, 2), 4000});
    CHECK(t.opened == 1);
    // The headers are still translated.
    CHECK(r.value_of(header_type::via) == "SIP/2.0/UDP 198.51.100.1:40000;branch=z9hG4bK776asdhds;rport");
}

TEST_CASE("nat-trace keeps the inside address in the SDP i= line: added after s=, appended, or replaced")
{
    const auto run_with = [](const std::string& body, bool preserve_override) {
        nat_options o;
        o.nat_trace = true;
        o.preserve_override = preserve_override;
        const auto t = run(sip_message(invite_head, body), true, nullptr, o);
        message r;
        REQUIRE(r.parse(t.text).ok());
        CHECK(r.content_length() == r.body().size());
        return std::string(r.body());
    };
    const std::string plain = "v=0\no=a 1 1 IN IP4 10.0.1.2\ns=-\nc=IN IP4 10.0.1.2\nt=0 0\nm=audio 4000 RTP/AVP 0\n";
    CHECK(run_with(plain, false).find("s=-\r\ni=(o=IN IP4 10.0.1.2)\r\nc=IN IP4 198.51.100.1\r\n") != std::string::npos);
    const std::string with_i = "v=0\no=a 1 1 IN IP4 10.0.1.2\ns=-\ni=desk phone\nc=IN IP4 10.0.1.2\nt=0 0\n";
    CHECK(run_with(with_i, false).find("i=desk phone(o=IN IP4 10.0.1.2)\r\n") != std::string::npos);
    CHECK(run_with(with_i, true).find("i=(o=IN IP4 10.0.1.2)\r\n") != std::string::npos);
    // Off (this product's default): nothing of the inside address is left.
    CHECK(run(sip_message(invite_head, plain), true, nullptr).text.find("10.0.1.2") == std::string::npos);
}

TEST_CASE("contact-fixup disabled: a message from outside with a Record-Route keeps its Contact")
{
    const std::string from_outside = sip_message(R"(INVITE sip:alice@198.51.100.1:40000 SIP/2.0
Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bKr
Record-Route: <sip:proxy.example.com;lr>
Call-ID: r9
CSeq: 1 INVITE
Contact: <sip:alice@198.51.100.1:40000>
)");
    for (const bool fixup : {true, false}) {
        const auto t = run(from_outside, false, nullptr, nat_options{fixup, true});
        message r;
        REQUIRE(r.parse(t.text).ok());
        CHECK(r.value_of(header_type::contact) == (fixup ? "<sip:alice@10.0.1.2:5060>" : "<sip:alice@198.51.100.1:40000>"));
        CHECK(r.request_uri() == "sip:alice@10.0.1.2:5060"); // the Request-URI is translated either way
    }
}

TEST_CASE("where a sender says it is: the top Via of a request, the first Contact of a response")
{
    message m;
    const std::string req = sip_message("OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP 192.168.1.11:5062;branch=z9hG4bKa, SIP/2.0/UDP 10.9.9.9\nCall-ID: w\nCSeq: 1 OPTIONS\n");
    REQUIRE(m.parse(req).ok());
    CHECK(written_endpoint(m) == endpoint{ip(192, 168, 1, 11), 5062});
    const std::string resp = sip_message("SIP/2.0 200 OK\nVia: SIP/2.0/UDP 10.9.9.9\nContact: <sip:a@192.168.1.11>\nCall-ID: w\nCSeq: 1 OPTIONS\n");
    REQUIRE(m.parse(resp).ok());
    CHECK(written_endpoint(m) == endpoint{ip(192, 168, 1, 11), 5060});
    const std::string named = sip_message("OPTIONS sip:x SIP/2.0\nVia: SIP/2.0/UDP phone.example.com\nCall-ID: w\nCSeq: 1 OPTIONS\n");
    REQUIRE(m.parse(named).ok());
    CHECK_FALSE(written_endpoint(m).has_value());
}

TEST_CASE("mentions_address finds the address as a whole dotted quad at any offset")
{
    const ipv4_address a = 0x0a000102; // 10.0.1.2
    CHECK(mentions_address("10.0.1.2", a));
    CHECK(mentions_address("Via: SIP/2.0/UDP 10.0.1.2:5060", a));
    CHECK_FALSE(mentions_address("10.0.1.22", a));
    CHECK_FALSE(mentions_address("110.0.1.2", a));
    CHECK_FALSE(mentions_address("1.10.0.1.2", a));
    CHECK_FALSE(mentions_address("10.0.1.", a));
    CHECK_FALSE(mentions_address("", a));
    // Every position across the 16-byte steps of the scan, and a near miss before each.
    for (std::size_t at = 0; at < 70; ++at) {
        const std::string pad(at, 'x');
        const std::string tail(at % 7, 'y');
        CHECK(mentions_address(pad + "10.0.1.3 10.0.1.2" + tail, a));
        CHECK_FALSE(mentions_address(pad + "10.0.1.3 10.0.1.9" + tail, a));
    }
    // The shortest and longest dotted quads (their middles compare as words of four and eight bytes),
    // at every offset and with every tail length the last overlapping step of the scan can see; a
    // difference in any one byte of the middle is a miss.
    for (const char* text : {"1.2.3.4", "192.168.100.200"}) {
        const std::string quad(text);
        const ipv4_address q = *parse_ipv4(quad);
        for (std::size_t at = 0; at < 40; ++at) {
            for (std::size_t tail = 0; tail < 17; ++tail) {
                const std::string pad(at, 'x');
                const std::string end(tail, 'y');
                CHECK(mentions_address(pad + quad + end, q));
                std::string near = quad;
                near[1 + (at + tail) % (quad.size() - 2)] ^= 1;
                CHECK_FALSE(mentions_address(pad + near + end, q));
            }
        }
    }
}

TEST_CASE("every octet value is written as its decimal text")
{
    // The engine writes dotted quads from a table of the 256 octets; the address it looks for is written
    // the same way, so it must be found where std::to_string writes it, and nowhere else.
    for (unsigned v = 0; v < 256; ++v) {
        const std::array<unsigned, 4> o{v, 255 - v, v / 2, (v * 7) % 256};
        const ipv4_address a = o[0] << 24 | o[1] << 16 | o[2] << 8 | o[3];
        const std::string text = std::to_string(o[0]) + "." + std::to_string(o[1]) + "." + std::to_string(o[2]) + "." +
                                 std::to_string(o[3]);
        INFO(text);
        CHECK(mentions_address("c=IN IP4 " + text + "\r\n", a));
        CHECK_FALSE(mentions_address("c=IN IP4 " + text + "0\r\n", a));
    }
}

TEST_CASE("a request and its response have one transaction key, whichever side of the NAT reads it")
{
    // RFC 3261 §17.1.3: the top Via's branch and the CSeq method. The request is read as the inside party
    // wrote it, its response as it comes back translated; another branch or method is another
    // transaction, and a branch of a later Via element is not the top one's.
    const translation t{{0x0a000102, 5060}, {0xc6336401, 5060}};
    const auto key = [&](const std::string& text, bool from_inside) {
        message m;
        REQUIRE(m.parse(text).ok());
        return identify(m, t, from_inside, {}).transaction;
    };
    const std::string request = "INVITE sip:b@198.51.100.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.1.2:5060;branch=z9hG4bK-77;rport\r\n"
                                "From: <sip:a@10.0.1.2>;tag=y\r\nTo: <sip:b@198.51.100.2>\r\nCall-ID: k@10.0.1.2\r\n"
                                "CSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n";
    const std::string response = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK-77;rport=5060\r\n"
                                 "From: <sip:a@198.51.100.1>;tag=y\r\nTo: <sip:b@198.51.100.2>;tag=x\r\n"
                                 "Call-ID: k@198.51.100.1\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n";
    const std::uint64_t k = key(request, true);
    CHECK(k == key(response, false));
    std::string other = response;
    other.replace(other.find("z9hG4bK-77"), 10, "z9hG4bK-78");
    CHECK(key(other, false) != k);
    other = response;
    other.replace(other.find("7 INVITE"), 8, "7 UPDATE");
    CHECK(key(other, false) != k);
    other = response;
    other.replace(other.find(";branch=z9hG4bK-77"), 18, ", SIP/2.0/UDP 203.0.113.9;branch=z9hG4bK-77");
    CHECK(key(other, false) != k);
    // The summary of a translation carries the same key.
    message m;
    REQUIRE(m.parse(response).ok());
    edit_list e;
    nat_summary s;
    REQUIRE(translate(m, t, false, nullptr, e, s) == edit_error::ok);
    CHECK(s.transaction == k);
    CHECK(s.cseq == 7);
    CHECK(s.from_tag != 0);
    CHECK(s.to_tag != 0);
}

TEST_CASE("a tag or branch is read from its element's parameters, never from a quoted name, a URI or a later element")
{
    // parameter_of's shortcut (the first ";tag=" when nothing before it is a quote, a comma or an open
    // '<') and its full scan must agree: each From value's tag hashes as the plain one does.
    const translation t{{0x0a000102, 5060}, {0xc6336401, 5060}};
    const auto tags = [&](const std::string& from, const std::string& via) {
        const std::string text = "SIP/2.0 200 OK\r\nVia: " + via + "\r\nFrom: " + from +
                                 "\r\nTo: <sip:b@203.0.113.5>;tag=x\r\nCall-ID: k@203.0.113.5\r\nCSeq: 7 INVITE\r\n"
                                 "Content-Length: 0\r\n\r\n";
        message m;
        REQUIRE(m.parse(text).ok());
        edit_list e;
        nat_summary s;
        REQUIRE(translate(m, t, false, nullptr, e, s) == edit_error::ok);
        return std::pair(s.from_tag, s.transaction);
    };
    const std::string via = "SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK-1";
    const std::uint64_t good = tags("<sip:z@q>;tag=good", via).first;
    const std::uint64_t branch = tags("<sip:z@q>;tag=good", via).second;
    CHECK(good != tags("<sip:z@q>;tag=bad", via).first);
    for (const std::string from : {
             "<sip:a@203.0.113.5>;tag=good",                          // short and long prefixes
             "<sip:alice-with-a-long-name@host.example.com:5060>;tag=good",
             "sip:a@h;tag=good",                                     // addr-spec: the parameters are the header's
             "\"x;tag=bad\" <sip:a@h>;tag=good",                      // a quoted name first
             "\"Alice, Bob\" <sip:a@h>;tag=good",                    // a comma in it
             "<sip:a@h;tag=bad>;tag=good",                            // a URI parameter
             "<sip:a@h>;tag=good;p=\"q,r\"",                          // a quote and a comma after it
             "<sip:a@h>;TAG = good",                                  // other case, white space
         }) {
        INFO(from);
        CHECK(tags(from, via).first == good);
    }
    CHECK(tags("<sip:a@h>", via).first == 0);
    CHECK(tags("<sip:a@h;tag=bad>", via).first == 0);
    CHECK(tags("\"x;tag=bad\" <sip:a@h>", via).first == 0);
    // The top Via's branch, with or without elements after it; a later element's is not the top one's.
    CHECK(tags("<sip:z@q>;tag=good", via + ", SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-2").second == branch);
    CHECK(tags("<sip:z@q>;tag=good", "SIP/2.0/UDP 203.0.113.5:5060;received=\"x\";branch=z9hG4bK-1").second == branch);
    CHECK(tags("<sip:z@q>;tag=good", "SIP/2.0/UDP h, SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK-1").second != branch);
}
