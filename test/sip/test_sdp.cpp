// SDP views (RFC 4566) and the sdp-* checks: media with port counts, RTCP ports (RFC 3605), directions,
// ICE candidates, multipart bodies, and one finding per malformed line type.
#include "sip_test_util.hpp"

#include <catch2/catch.hpp>

using namespace sipalg::sip;
using namespace sipalg::sip::testing;
using S = std::set<std::string>;

namespace {

std::string invite_with(std::string_view content_type, std::string_view body)
{
    std::string m = "INVITE sip:bob@198.51.100.2 SIP/2.0\r\n"
                    "Via: SIP/2.0/UDP 10.0.1.2:5060;branch=z9hG4bK74bf9\r\n"
                    "Max-Forwards: 70\r\n"
                    "From: <sip:alice@10.0.1.2>;tag=9fxced76sl\r\n"
                    "To: <sip:bob@198.51.100.2>\r\n"
                    "Call-ID: 3848276298220188511@10.0.1.2\r\n"
                    "CSeq: 1 INVITE\r\n"
                    "Contact: <sip:alice@10.0.1.2:5060>\r\n"
                    "Content-Type: ";
    m += content_type;
    m += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    m += body;
    return m;
}

constexpr std::string_view offer = "v=0\r\n"
                                   "o=alice 2890844526 2890844526 IN IP4 10.0.1.2\r\n"
                                   "s=-\r\n"
                                   "c=IN IP4 10.0.1.2\r\n"
                                   "t=0 0\r\n"
                                   "a=sendonly\r\n"
                                   "m=audio 49170/2 RTP/AVP 0 8 101\r\n"
                                   "a=rtcp:53020 IN IP4 10.0.1.3\r\n"
                                   "a=candidate:1 1 UDP 2130706431 10.0.1.2 49170 typ host\r\n"
                                   "a=candidate:2 1 UDP 1694498815 203.0.113.7 49170 typ srflx raddr 10.0.1.2 rport 49170\r\n"
                                   "m=video 0 RTP/AVP 31\r\n"
                                   "m=image 49180 udptl t38\r\n"
                                   "c=IN IP4 10.0.1.9\r\n"
                                   "a=recvonly\r\n";

} // namespace

TEST_CASE("an offer's media, ports, RTCP, directions and candidates")
{
    const auto c = check_bytes(invite_with("application/sdp", offer));
    INFO(c->findings_text());
    REQUIRE(c->f.empty());
    const auto body = find_sdp(*c->m);
    REQUIRE(body.has_value());
    sdp s;
    s.parse(*body);
    REQUIRE(s.origin() == 1);
    REQUIRE(s.session_connection() == 3);
    REQUIRE(s.session_direction() == sdp_direction::sendonly);
    const auto media = s.media();
    REQUIRE(media.size() == 3);
    REQUIRE(media[0].media == "audio");
    REQUIRE(media[0].port == 49170);
    REQUIRE(media[0].port_count == 2);
    REQUIRE(media[0].port_text == "49170");
    REQUIRE(media[0].formats == "0 8 101");
    REQUIRE(media[0].direction == sdp_direction::sendonly); // inherited from the session
    REQUIRE(media[0].candidates == 2);
    REQUIRE(media[0].connection == -1);
    const auto rtcp = parse_rtcp(s.lines()[static_cast<std::size_t>(media[0].rtcp)].value.substr(5));
    REQUIRE(rtcp->port == 53020);
    REQUIRE(rtcp->address->address == "10.0.1.3");
    REQUIRE(media[1].port == 0); // a rejected stream
    REQUIRE(media[2].media == "image");
    REQUIRE(media[2].proto == "udptl");
    REQUIRE(media[2].direction == sdp_direction::recvonly);
    REQUIRE(parse_connection(s.lines()[static_cast<std::size_t>(media[2].connection)].value)->address == "10.0.1.9");
    // Views point into the message: an engine can edit them in place.
    REQUIRE(media[0].port_text.data() > c->bytes.data());
    REQUIRE(media[0].port_text.data() < c->bytes.data() + c->bytes.size());
}

TEST_CASE("an RTCP attribute without an address, and a=rtcp errors")
{
    REQUIRE(parse_rtcp("53021")->port == 53021);
    REQUIRE_FALSE(parse_rtcp("53021")->address);
    REQUIRE_FALSE(parse_rtcp("port"));
    REQUIRE_FALSE(parse_rtcp("70000"));
    REQUIRE_FALSE(parse_rtcp("53021 IN IP4"));
}

TEST_CASE("the SDP part of a multipart/mixed body")
{
    std::string body = "--boundary42\r\n"
                       "Content-Type: text/plain\r\n"
                       "\r\n"
                       "hello\r\n"
                       "--boundary42\r\n"
                       "Content-Type: application/sdp\r\n"
                       "\r\n";
    body += offer;
    body += "\r\n--boundary42--\r\n";
    const auto c = check_bytes(invite_with("multipart/mixed;boundary=boundary42", body));
    INFO(c->findings_text());
    const auto sdp_part = find_sdp(*c->m);
    REQUIRE(sdp_part.has_value());
    REQUIRE(*sdp_part == offer);
    REQUIRE(c->f.empty());
}

TEST_CASE("each malformed line type yields its own sdp check")
{
    const struct {
        std::string_view line;
        const char* check;
    } cases[] = {
        {"v=1", "malformed-header-sdp-v"},
        {"o=alice 1 1 IN IP4", "malformed-header-sdp-o"},
        {"o=alice one 1 IN IP4 10.0.1.2", "malformed-header-sdp-o"},
        {"i=first\r\ni=second", "malformed-header-sdp-i"},
        {"c=IN IP4 10.0.1.300", "malformed-header-sdp-c"},
        {"c=IN IP6 2001:db8::1::2", "malformed-header-sdp-c"},
        {"c=IN IP4 224.2.1.1/x", "malformed-header-sdp-c"},
        {"b=AS", "malformed-header-sdp-b"},
        {"b=AS:lots", "malformed-header-sdp-b"},
        {"z=2882844526 -1h 2898848070", "malformed-header-sdp-z"},
        {"k=passphrase:secret", "malformed-header-sdp-k"},
        {"a=rtcp:abc", "malformed-header-sdp-a"},
        {"a=not a token", "malformed-header-sdp-a"},
        {"t=0", "malformed-header-sdp-t"},
        {"r=7d 1h", "malformed-header-sdp-r"},
        {"m=audio notaport RTP/AVP 0", "malformed-header-sdp-m"},
        {"m=audio 49170/0 RTP/AVP 0", "malformed-header-sdp-m"},
        {"m =video 3227 RTP/AVP 31", "malformed-header-sdp-m"},
    };
    for (const auto& tc : cases) {
        std::string body = "v=0\r\no=alice 2890844526 2890844526 IN IP4 10.0.1.2\r\ns=-\r\nc=IN IP4 10.0.1.2\r\nt=0 0\r\n";
        if (tc.line[0] == 'v' || tc.line[0] == 'o' || tc.line[0] == 't') {
            // Replace the valid line of that type.
            const std::string key = std::string(tc.line.substr(0, 2));
            const auto at = body.find(key);
            body.replace(at, body.find("\r\n", at) - at, tc.line);
        } else {
            body += std::string(tc.line) + "\r\n";
        }
        body += "m=audio 49170 RTP/AVP 0\r\n";
        const auto c = check_bytes(invite_with("application/sdp", body));
        INFO(tc.line << "\n" << c->findings_text());
        REQUIRE(c->checks() == S{tc.check});
    }
}

TEST_CASE("missing o=, s=, t= and a media section without any c=")
{
    const auto c = check_bytes(invite_with("application/sdp", "v=0\r\nm=audio 49170 RTP/AVP 0\r\n"));
    REQUIRE(c->checks() == S{"malformed-header-sdp-o", "malformed-header-sdp-s", "malformed-header-sdp-t",
                             "malformed-header-sdp-c"});
}

TEST_CASE("a description that does not start with v=")
{
    const auto c = check_bytes(invite_with("application/sdp", "o=alice 1 1 IN IP4 10.0.1.2\r\ns=-\r\nc=IN IP4 10.0.1.2\r\nt=0 0\r\n"));
    REQUIRE(c->checks() == S{"malformed-header-sdp-v"});
}

TEST_CASE("a description with more lines than the index holds is cut short, and says so")
{
    std::string body = "v=0\r\no=a 1 1 IN IP4 10.0.1.2\r\ns=-\r\nc=IN IP4 10.0.1.2\r\nt=0 0\r\n";
    for (int i = 0; i < 300; ++i) {
        body += "a=x" + std::to_string(i) + "\r\n";
    }
    sdp s;
    s.parse(body);
    REQUIRE(s.truncated());
    REQUIRE(s.lines().size() == sdp::max_lines);
}
