// Every RFC 4475 torture-test message (test/sip/rfc4475, bit-exact), one test each, named after the file:
// the valid ones parse and yield the fields the RFC describes; the invalid ones yield the FortiOS finding
// that covers what the RFC describes. Section numbers are RFC 4475's.
#include "sip_test_util.hpp"

#include <catch2/catch.hpp>

using namespace sipalg;
using namespace sipalg::sip;
using namespace sipalg::sip::testing;
using S = std::set<std::string>;

namespace {

std::unique_ptr<checked> rfc(const char* name)
{
    auto c = check_file(std::string("rfc4475/") + name);
    INFO(name << ": " << parse_error_name(c->status.error));
    REQUIRE(c->status.ok());
    return c;
}

} // namespace

// ---- §3.1.1 valid messages ----

TEST_CASE("wsinv: a short tortuous INVITE (3.1.1.1)")
{
    const auto c = rfc("wsinv.dat");
    INFO(c->findings_text());
    const message& m = *c->m;
    REQUIRE(m.method_type() == method::invite);
    REQUIRE(m.request_uri() == "sip:vivekg@chair-dnrc.example.com;unknownparam");
    const auto to = c->addr(header_type::to);
    REQUIRE(to.target.host.host == "chair-dnrc.example.com");
    REQUIRE(param(to.params, "tag") == "1918181833n");
    const auto from = c->addr(header_type::from);
    REQUIRE(from.display_name == R"("J Rosenberg \\\"")");
    REQUIRE(param(from.params, "tag") == "98asjd8");
    REQUIRE(parse_number(c->value(header_type::max_forwards), 10, 255) == 68u);
    REQUIRE(c->value(header_type::call_id) == "wsinv.ndaksdj@192.0.2.1");
    REQUIRE(m.content_length() == 150);
    REQUIRE(m.body().size() == 150);
    const auto cs = parse_cseq(c->value(header_type::cseq));
    REQUIRE(cs.has_value());
    REQUIRE(cs->number == 9);
    REQUIRE(cs->method == "INVITE");
    const auto vias = c->vias();
    REQUIRE(vias.size() == 3);
    REQUIRE(vias[0].transport == "UDP");
    REQUIRE(vias[0].sent_by.host == "192.0.2.2");
    REQUIRE(param(vias[0].params, "branch") == "390skdjuw");
    REQUIRE(vias[1].transport == "TCP");
    REQUIRE(vias[1].sent_by.host == "spindle.example.com");
    REQUIRE(param(vias[1].params, "branch") == "z9hG4bK9ikj8");
    REQUIRE(vias[2].sent_by.host == "192.168.255.111");
    REQUIRE(param(vias[2].params, "branch") == "z9hG4bK30239");
    REQUIRE(m.find(header_type::subject) != nullptr);
    REQUIRE(c->value(header_type::subject).empty());
    const auto route = c->addr(header_type::route);
    REQUIRE(route.target.host.host == "services.example.com");
    REQUIRE(route.target.params.find("lr").has_value());
    const auto contact = c->addr(header_type::contact);
    REQUIRE(contact.display_name == R"("Quoted string \"\"")");
    REQUIRE(param(contact.params, "newparam") == "newvalue");
    REQUIRE(param(contact.params, "q") == "0.33");
    REQUIRE(contact.params.find("secondparam").has_value());
    sdp s;
    s.parse(m.body());
    REQUIRE(s.media().size() == 2);
    REQUIRE(s.media()[0].port == 49217);
    REQUIRE(s.media()[1].port == 3227);
    // Valid: only the two headers sipalg does not know are reported.
    REQUIRE(c->checks() == S{"unknown-header"});
    REQUIRE(c->f.total() == 2);
}

TEST_CASE("intmeth: wide range of valid characters (3.1.1.2)")
{
    const auto c = rfc("intmeth.dat");
    INFO(c->findings_text());
    const message& m = *c->m;
    REQUIRE(m.method_text() == "!interesting-Method0123456789_*+`.%indeed'~");
    const auto u = parse_uri(m.request_uri());
    REQUIRE(u.has_value());
    REQUIRE(u->user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    REQUIRE(u->password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    REQUIRE(u->host.host == "example.com");
    const auto from = c->addr(header_type::from);
    REQUIRE(param(from.params, "tag") == "_token~1'+`*%!-.");
    REQUIRE(c->value(header_type::call_id) == R"(intmeth.word%ZK-!.*_+'@word`~)(><:\/"][?}{)");
    REQUIRE(parse_cseq(c->value(header_type::cseq))->method == m.method_text());
    REQUIRE(c->checks() == S{"block-unknown", "unknown-header"});
}

TEST_CASE("esc01: valid use of the % escaping mechanism (3.1.1.3)")
{
    const auto c = rfc("esc01.dat");
    INFO(c->findings_text());
    const auto u = parse_uri(c->m->request_uri());
    REQUIRE(u->user == "sips%3Auser%40example.com");
    REQUIRE(u->host.host == "example.net");
    REQUIRE(c->addr(header_type::to).target.user == "%75se%72");
    const auto contact = c->addr(header_type::contact);
    REQUIRE(contact.target.params.text() == ";%6C%72;n%61me=v%61lue%25%34%31");
    REQUIRE(c->f.empty());
}

TEST_CASE("escnull: escaped nulls in URIs (3.1.1.4)")
{
    const auto c = rfc("escnull.dat");
    INFO(c->findings_text());
    const header* first = c->m->find(header_type::contact);
    const header* second = c->m->find_next(header_type::contact, first);
    REQUIRE(parse_address(c->m->value(*first))->target.user == "%00");
    REQUIRE(parse_address(c->m->value(*second))->target.user == "%00%00");
    REQUIRE(c->f.empty());
}

TEST_CASE("esc02: use of % when it is not an escape (3.1.1.5)")
{
    const auto c = rfc("esc02.dat");
    INFO(c->findings_text());
    REQUIRE(c->m->method_text() == "RE%47IST%45R"); // not REGISTER: methods are not unescaped
    REQUIRE(c->m->method_type() == method::unknown);
    REQUIRE(c->addr(header_type::to).display_name == R"("%Z%45")");
    // "C%6Fntact" is a header of its own, not Contact.
    int contacts = 0;
    for (const auto& h : c->m->headers()) {
        contacts += h.type == header_type::contact ? 1 : 0;
    }
    REQUIRE(contacts == 2);
    REQUIRE(c->checks() == S{"block-unknown", "unknown-header"});
}

TEST_CASE("lwsdisp: no LWS between display name and < (3.1.1.6)")
{
    const auto c = rfc("lwsdisp.dat");
    REQUIRE(c->addr(header_type::from).display_name == "caller");
    REQUIRE(c->f.empty());
}

TEST_CASE("longreq: long values in header fields (3.1.1.7)")
{
    const auto c = rfc("longreq.dat");
    INFO(c->findings_text());
    REQUIRE(c->vias().size() == 34);
    REQUIRE(c->value(header_type::call_id).size() > 100);
    REQUIRE(param(c->vias().back().params, "received") == "192.0.2.5");
    REQUIRE(c->m->content_length() == c->m->body().size());
    REQUIRE(c->checks() == S{"unknown-header"});
    // With a profile whose max-line-length is short, the long lines are reported.
    check_options strict;
    strict.max_line_length = 120;
    const auto s = check_file("rfc4475/longreq.dat", strict);
    REQUIRE(s->f.has(check::max_line_length));
}

TEST_CASE("dblreq: extra trailing octets in a UDP datagram (3.1.1.8)")
{
    const auto c = rfc("dblreq.dat");
    REQUIRE(c->m->method_type() == method::register_);
    REQUIRE(c->m->content_length() == 0);
    REQUIRE(c->m->body().empty());
    // The INVITE after the REGISTER is trailing octets, not part of the message.
    REQUIRE(c->m->body_offset() < c->bytes.find("INVITE sip:joe"));
    REQUIRE(c->f.empty());
}

TEST_CASE("semiuri: semicolon-separated parameters in the URI user part (3.1.1.9)")
{
    const auto c = rfc("semiuri.dat");
    const auto u = parse_uri(c->m->request_uri());
    REQUIRE(u->user == "user;par=u%40example.net");
    REQUIRE(u->host.host == "example.com");
    REQUIRE(u->params.text().empty());
    REQUIRE(c->f.empty());
}

TEST_CASE("transports: varied and unknown transport types (3.1.1.10)")
{
    const auto c = rfc("transports.dat");
    const auto vias = c->vias();
    REQUIRE(vias.size() == 5);
    REQUIRE(vias[1].transport == "SCTP");
    REQUIRE(vias[2].transport == "TLS");
    REQUIRE(vias[3].transport == "UNKNOWN");
    REQUIRE(c->f.empty());
}

TEST_CASE("mpart01: multipart MIME message (3.1.1.11)")
{
    const auto c = rfc("mpart01.dat");
    REQUIRE(c->m->body().size() == 553);
    REQUIRE(!find_sdp(*c->m).has_value()); // text/plain and application/octet-stream parts only
    REQUIRE(c->f.empty());
}

TEST_CASE("unreason: unusual reason phrase (3.1.1.12)")
{
    const auto c = rfc("unreason.dat");
    REQUIRE_FALSE(c->m->is_request());
    REQUIRE(c->m->status_code() == 200);
    REQUIRE(c->m->reason().substr(0, 14) == "= 2**3 * 5**2 ");
    REQUIRE(c->f.empty());
}

TEST_CASE("noreason: empty reason phrase (3.1.1.13)")
{
    const auto c = rfc("noreason.dat");
    REQUIRE(c->m->status_code() == 100);
    REQUIRE(c->m->reason().empty());
    REQUIRE(c->f.empty());
}

// ---- §3.1.2 invalid messages ----

TEST_CASE("badinv01: extraneous header field separators (3.1.2.1)")
{
    const auto c = rfc("badinv01.dat");
    REQUIRE(c->checks() == S{"malformed-header-via", "malformed-header-contact"});
}

TEST_CASE("clerr: Content-Length larger than the message (3.1.2.2)")
{
    const auto c = rfc("clerr.dat");
    REQUIRE(c->m->body_truncated());
    REQUIRE(c->checks() == S{"malformed-header-content-length"});
}

TEST_CASE("ncl: negative Content-Length (3.1.2.3)")
{
    const auto c = rfc("ncl.dat");
    REQUIRE_FALSE(c->m->has_content_length());
    REQUIRE(c->checks() == S{"malformed-header-content-length"});
}

TEST_CASE("scalar02: request scalar fields with overlarge values (3.1.2.4)")
{
    const auto c = rfc("scalar02.dat");
    REQUIRE(c->checks() == S{"malformed-header-cseq", "malformed-header-max-forwards", "malformed-header-expires",
                             "malformed-header-contact"});
}

TEST_CASE("scalarlg: response scalar fields with overlarge values (3.1.2.5)")
{
    const auto c = rfc("scalarlg.dat");
    REQUIRE(c->m->status_code() == 503);
    REQUIRE(c->checks() == S{"malformed-header-cseq"});
}

TEST_CASE("quotbal: unterminated quoted string in display name (3.1.2.6)")
{
    const auto c = rfc("quotbal.dat");
    REQUIRE(c->checks() == S{"malformed-header-to"});
}

TEST_CASE("ltgtruri: <> enclosing the Request-URI (3.1.2.7)")
{
    REQUIRE(rfc("ltgtruri.dat")->checks() == S{"malformed-request-line"});
}

TEST_CASE("lwsruri: malformed Request-URI with embedded LWS (3.1.2.8)")
{
    REQUIRE(rfc("lwsruri.dat")->checks() == S{"malformed-request-line"});
}

TEST_CASE("lwsstart: multiple SP separating request-line elements (3.1.2.9)")
{
    REQUIRE(rfc("lwsstart.dat")->checks() == S{"malformed-request-line"});
}

TEST_CASE("trws: SP characters at the end of the request line (3.1.2.10)")
{
    REQUIRE(rfc("trws.dat")->checks() == S{"malformed-request-line"});
}

TEST_CASE("escruri: escaped headers in the SIP Request-URI (3.1.2.11)")
{
    const auto c = rfc("escruri.dat");
    REQUIRE(c->checks() == S{"malformed-request-line"});
    REQUIRE(c->f.list()[0].detail == "Request-URI carries headers");
}

TEST_CASE("baddate: invalid time zone in the Date header (3.1.2.12)")
{
    // No FortiOS check covers Date: the message parses, and Date is exposed as it is.
    const auto c = rfc("baddate.dat");
    REQUIRE(c->value(header_type::date) == "Fri, 01 Jan 2010 16:00:00 EST");
    REQUIRE(c->f.empty());
}

TEST_CASE("regbadct: name-addr URI not enclosed in <> (3.1.2.13)")
{
    REQUIRE(rfc("regbadct.dat")->checks() == S{"malformed-header-contact"});
}

TEST_CASE("badaspec: spaces within addr-spec (3.1.2.14)")
{
    REQUIRE(rfc("badaspec.dat")->checks() == S{"malformed-header-to"});
}

TEST_CASE("baddn: non-token characters in display name (3.1.2.15)")
{
    const auto c = rfc("baddn.dat");
    REQUIRE(c->checks() == S{"malformed-header-from", "malformed-header-to"});
    // The archive's copy ends without the empty line: a datagram parser copes.
    REQUIRE_FALSE(c->m->headers_terminated());
}

TEST_CASE("badvers: unknown protocol version (3.1.2.16)")
{
    const auto c = rfc("badvers.dat");
    REQUIRE(c->m->version() == "SIP/7.0");
    REQUIRE(c->checks() == S{"malformed-request-line", "malformed-header-via"});
}

TEST_CASE("mismatch01: start line and CSeq method mismatch (3.1.2.17)")
{
    REQUIRE(rfc("mismatch01.dat")->checks() == S{"malformed-header-cseq"});
}

TEST_CASE("mismatch02: unknown method with CSeq method mismatch (3.1.2.18)")
{
    const auto c = rfc("mismatch02.dat");
    // Its SDP also lacks the s= and t= lines RFC 4566 requires.
    REQUIRE(c->checks() ==
            S{"block-unknown", "malformed-header-cseq", "malformed-header-sdp-s", "malformed-header-sdp-t"});
}

TEST_CASE("bigcode: overlarge response code (3.1.2.19)")
{
    const auto c = rfc("bigcode.dat");
    REQUIRE(c->m->status_code() == 0);
    REQUIRE(c->checks() == S{"malformed-request-line"});
}

// ---- §3.2, §3.3: well-formed; the torture is in transaction or application semantics ----

TEST_CASE("badbranch: missing transaction identifier (3.2.1)")
{
    const auto c = rfc("badbranch.dat");
    REQUIRE(param(c->vias()[0].params, "branch") == "z9hG4bK");
    REQUIRE(c->f.empty());
}

TEST_CASE("insuf: missing required header fields (3.3.1)")
{
    const auto c = rfc("insuf.dat");
    REQUIRE(c->checks() == S{"malformed-header-to", "malformed-header-from", "malformed-header-call-id"});
    for (const auto& x : c->f.list()) {
        REQUIRE(x.detail == "missing");
    }
}

TEST_CASE("unkscm: Request-URI with an unknown scheme (3.3.2)")
{
    const auto c = rfc("unkscm.dat");
    REQUIRE(parse_uri(c->m->request_uri())->scheme == uri_scheme::other);
    REQUIRE(c->f.empty());
}

TEST_CASE("novelsc: Request-URI with a known but atypical scheme (3.3.3)")
{
    const auto c = rfc("novelsc.dat");
    REQUIRE(parse_uri(c->m->request_uri())->scheme_text == "soap.beep");
    REQUIRE(c->f.empty());
}

TEST_CASE("unksm2: unknown URI schemes in header fields (3.3.4)")
{
    const auto c = rfc("unksm2.dat");
    REQUIRE(c->addr(header_type::to).target.scheme_text == "isbn");
    REQUIRE(c->addr(header_type::from).target.scheme_text == "http");
    REQUIRE(c->addr(header_type::contact).target.scheme_text == "name");
    REQUIRE(c->f.empty());
}

TEST_CASE("bext01: Proxy-Require and Require (3.3.5)")
{
    check_options o;
    o.require_require = true;
    o.require_proxy_require = true;
    const auto c = check_file("rfc4475/bext01.dat", o);
    REQUIRE(c->status.ok());
    REQUIRE(c->f.empty()); // both present
    // The same profile flags a request that lacks them.
    const auto without = check_file("rfc4475/zeromf.dat", o);
    REQUIRE(without->checks() == S{"malformed-header-no-require", "malformed-header-no-proxy-require"});
}

TEST_CASE("invut: unknown Content-Type (3.3.6)")
{
    const auto c = rfc("invut.dat");
    REQUIRE(c->value(header_type::content_type) == "application/unknownformat");
    REQUIRE_FALSE(find_sdp(*c->m).has_value());
    REQUIRE(c->f.empty());
}

TEST_CASE("regaut01: unknown authorization scheme (3.3.7)")
{
    const auto c = rfc("regaut01.dat");
    REQUIRE(c->value(header_type::authorization) == "NoOneKnowsThisScheme opaque-data=here");
    REQUIRE(c->f.empty());
}

TEST_CASE("multi01: multiple values in single-value required fields (3.3.8)")
{
    REQUIRE(rfc("multi01.dat")->checks() == S{"malformed-header-cseq", "malformed-header-call-id", "malformed-header-to",
                                                "malformed-header-from", "malformed-header-max-forwards"});
}

TEST_CASE("mcl01: multiple Content-Length values (3.3.9)")
{
    REQUIRE(rfc("mcl01.dat")->checks() == S{"malformed-header-content-length"});
}

TEST_CASE("bcast: 200 OK with a broadcast Via (3.3.10)")
{
    const auto c = rfc("bcast.dat");
    REQUIRE(c->vias()[1].sent_by.kind == host_kind::ipv4);
    REQUIRE(c->vias()[1].sent_by.v4 == 0xffffffffu);
    REQUIRE(c->f.empty());
}

TEST_CASE("zeromf: Max-Forwards of zero (3.3.11)")
{
    const auto c = rfc("zeromf.dat");
    REQUIRE(parse_number(c->value(header_type::max_forwards), 10, 255) == 0u);
    REQUIRE(c->f.empty());
}

TEST_CASE("cparam01: REGISTER with a Contact header parameter (3.3.12)")
{
    const auto c = rfc("cparam01.dat");
    const auto contact = c->addr(header_type::contact);
    REQUIRE_FALSE(contact.angle);
    REQUIRE(contact.params.find("unknownparam").has_value()); // a header parameter, not a URI one
    REQUIRE(contact.target.params.text().empty());
    REQUIRE(c->f.empty());
}

TEST_CASE("cparam02: REGISTER with a url-parameter (3.3.13)")
{
    const auto c = rfc("cparam02.dat");
    const auto contact = c->addr(header_type::contact);
    REQUIRE(contact.angle);
    REQUIRE(contact.target.params.find("unknownparam").has_value());
    REQUIRE(c->f.empty());
}

TEST_CASE("regescrt: REGISTER with a URL escaped header (3.3.14)")
{
    const auto c = rfc("regescrt.dat");
    REQUIRE(c->addr(header_type::contact).target.headers == "Route=%3Csip:sip.example.com%3E");
    REQUIRE(c->f.empty());
}

TEST_CASE("sdp01: unacceptable Accept offering (3.3.15)")
{
    const auto c = rfc("sdp01.dat");
    REQUIRE(find_sdp(*c->m).has_value());
    REQUIRE(c->f.empty());
}

TEST_CASE("inv2543: INVITE with RFC 2543 syntax (3.4.1)")
{
    const auto c = rfc("inv2543.dat");
    REQUIRE(c->m->find(header_type::max_forwards) == nullptr);
    REQUIRE_FALSE(c->vias()[0].params.find("branch").has_value());
    REQUIRE(c->f.empty()); // accepted, as RFC 4475 asks
}

TEST_CASE("test.dat: in the archive, not in the RFC: a header line without a colon")
{
    const auto c = check_file("rfc4475/test.dat");
    REQUIRE(c->status.error == parse_error::header_without_colon);
    REQUIRE(c->m->position_of(c->status.offset).line == 10);
}

TEST_CASE("only the checks asked for run and report (the ALG runs those whose action is not pass)")
{
    // scalar02 and the like find several faults; each asked alone finds itself, none asked finds nothing.
    const auto all = rfc("scalar02.dat");
    REQUIRE(all->checks().size() >= 1);
    for (const std::string& name : all->checks()) {
        check_options o;
        o.only = 0;
        for (std::size_t c = 0; c < check_count; ++c) {
            if (check_name(static_cast<check>(c)) == name) {
                o.only = std::uint64_t{1} << c;
            }
        }
        REQUIRE(o.only != 0);
        const auto one = check_file("rfc4475/scalar02.dat", o);
        CHECK(one->checks() == S{name});
    }
    check_options none;
    none.only = 0;
    CHECK(check_file("rfc4475/scalar02.dat", none)->f.empty());
}
