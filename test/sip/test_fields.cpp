// Header-value parsers on their own: hosts, IPv6 forms, URIs, parameters, name-addr and addr-spec,
// Via, CSeq, Call-ID, media types, list splitting.
#include "sip/fields.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace sipalg;
using namespace sipalg::sip;

TEST_CASE("hosts: names, dotted quads and IPv6 references, with and without ports")
{
    auto hp = parse_host_port("192.0.2.7:5062");
    REQUIRE(hp);
    REQUIRE(hp->kind == host_kind::ipv4);
    REQUIRE(hp->v4 == make_ipv4(192, 0, 2, 7));
    REQUIRE(hp->port == 5062);
    hp = parse_host_port("pbx.example.com");
    REQUIRE(hp->kind == host_kind::name);
    REQUIRE_FALSE(hp->port);
    hp = parse_host_port("[2001:db8::1]:5060");
    REQUIRE(hp->kind == host_kind::ipv6);
    REQUIRE(hp->host == "[2001:db8::1]");
    for (const char* bad : {"", "host:", "host:65536", "host:5x", "[2001:db8::1", "-bad.example.com", "a..b",
                            "192.0.2.300", "exa mple.com", "[1::2::3]"}) {
        INFO(bad);
        REQUIRE_FALSE(parse_host_port(bad));
    }
}

TEST_CASE("IPv6 text forms of RFC 4291 and the RFC 5118 tolerance")
{
    for (const char* good : {"::1", "::", "2001:db8::10", "2001:db8:0:0:0:0:0:1", "::ffff:192.0.2.2",
                             "2001:db8::192.0.2.1", "2001:db8:::192.0.2.1", "fe80::1:2:3:4:5:6"}) {
        INFO(good);
        REQUIRE(valid_ipv6(good));
    }
    for (const char* bad : {"", ":", "2001:db8::10::1", "2001:db8:0:0:0:0:0:0:1", "12345::", "g::1",
                            "2001:db8:::1", "1:2:3:4:5:6:7:192.0.2.1", "::ffff:192.0.2.256"}) {
        INFO(bad);
        REQUIRE_FALSE(valid_ipv6(bad));
    }
}

TEST_CASE("SIP URIs: userinfo, host, port, parameters, headers")
{
    const auto u = parse_uri("sip:alice:secret@[2001:db8::2]:5070;transport=tcp;lr;maddr=239.255.255.1?subject=x&priority=y");
    REQUIRE(u);
    REQUIRE(u->scheme == uri_scheme::sip);
    REQUIRE(u->user == "alice");
    REQUIRE(u->password == "secret");
    REQUIRE(u->host.host == "[2001:db8::2]");
    REQUIRE(u->host.port == 5070);
    REQUIRE(u->params.find("transport")->value == "tcp");
    REQUIRE(u->params.find("lr").has_value());
    REQUIRE_FALSE(u->params.find("lr")->has_value);
    REQUIRE(u->params.find("maddr")->value == "239.255.255.1");
    REQUIRE(u->headers == "subject=x&priority=y");
    const auto s = parse_uri("sips:+15551234@gw.example.com;user=phone");
    REQUIRE(s->scheme == uri_scheme::sips);
    REQUIRE(s->user == "+15551234");
    const auto t = parse_uri("tel:+1-201-555-0123;phone-context=example.com");
    REQUIRE(t->scheme == uri_scheme::tel);
    REQUIRE(t->user == "+1-201-555-0123");
    for (const char* bad : {"sip:", "sip:@host", "sip:user@", "sip:host;", "sip:host;a b", "sip:us er@host",
                            "sip:host:port", "1sip:host", ":host", "sip:host?a b", "<sip:host>"}) {
        INFO(bad);
        REQUIRE_FALSE(parse_uri(bad));
    }
}

TEST_CASE("addresses: name-addr with display names, addr-spec with header parameters")
{
    auto a = parse_address(R"("Alice \"A\" Liddell" <sip:alice@192.0.2.10:5060;transport=udp>;tag=1928301774)");
    REQUIRE(a);
    REQUIRE(a->angle);
    REQUIRE(a->display_name == R"("Alice \"A\" Liddell")");
    REQUIRE(a->target.host.v4 == make_ipv4(192, 0, 2, 10));
    REQUIRE(a->target.params.find("transport")->value == "udp");
    REQUIRE(a->params.find("tag")->value == "1928301774");
    a = parse_address("sip:bob@biloxi.example.com;tag=a6c85cf");
    REQUIRE(a);
    REQUIRE_FALSE(a->angle);
    REQUIRE(a->target.params.text().empty());
    REQUIRE(a->params.find("tag")->value == "a6c85cf");
    a = parse_address("Bob Smith <sip:bob@example.com> ; expires = 3600 ; q=0.7");
    REQUIRE(a->display_name == "Bob Smith");
    REQUIRE(a->params.find("expires")->value == "3600");
    for (const char* bad : {"", "<sip:a@b", "\"unterminated <sip:a@b>", "< sip:a@b>", "<sip:a@b >", "a,b <sip:a@b>",
                            "sip:a@b?x=y", "<sip:a@b>;;"}) {
        INFO(bad);
        REQUIRE_FALSE(parse_address(bad));
    }
    // A parameter without a value is allowed (generic-param), so only the others are refused.
    REQUIRE(parse_address("<sip:a@b>;tag"));
}

TEST_CASE("list splitting respects quotes and angle brackets")
{
    std::vector<std::string> elements;
    const bool ok = for_each_element(R"("Smith, John" <sip:j@a.example>, <sip:x@b.example;p=1,2>, sip:y@c.example)",
                                     [&](std::string_view e) { elements.emplace_back(e); });
    REQUIRE(ok);
    REQUIRE(elements == std::vector<std::string>{R"("Smith, John" <sip:j@a.example>)", "<sip:x@b.example;p=1,2>",
                                                 "sip:y@c.example"});
    REQUIRE_FALSE(for_each_element("\"open, <sip:a@b>", [](std::string_view) {}));
    REQUIRE_FALSE(for_each_element("<sip:a@b", [](std::string_view) {}));
}

TEST_CASE("Via: protocol, sent-by, parameters, folded LWS")
{
    const auto v = parse_via("SIP / 2.0 / UDP 192.0.2.4 : 5061 ;branch=z9hG4bK776asdhds;rport;received=198.51.100.9");
    REQUIRE(v);
    REQUIRE(v->transport == "UDP");
    REQUIRE(v->sent_by.v4 == make_ipv4(192, 0, 2, 4));
    REQUIRE(v->sent_by.port == 5061);
    REQUIRE(v->sent_by.text == "192.0.2.4 : 5061");
    REQUIRE(v->params.find("rport").has_value());
    REQUIRE_FALSE(v->params.find("rport")->has_value);
    REQUIRE(v->params.find("received")->value == "198.51.100.9");
    REQUIRE(parse_via("SIP/2.0/TCP\r\n [2001:db8::1];branch=z9hG4bKx")->sent_by.kind == host_kind::ipv6);
    for (const char* bad : {"SIP/2.0/UDP", "SIP/2.0 192.0.2.1", "SIP/2.0/UDP192.0.2.1", "SIP/2.0/UDP 192.0.2.1;;",
                            "SIP/2.0/UDP host:70000"}) {
        INFO(bad);
        REQUIRE_FALSE(parse_via(bad));
    }
}

TEST_CASE("CSeq, Call-ID and media types")
{
    REQUIRE(parse_cseq("314159 INVITE")->number == 314159);
    REQUIRE(parse_cseq(" 2147483647   ACK ")->method == "ACK");
    REQUIRE_FALSE(parse_cseq("2147483648 INVITE")); // must be below 2^31
    REQUIRE_FALSE(parse_cseq("1INVITE"));
    REQUIRE_FALSE(parse_cseq("1 INVITE x"));
    REQUIRE(valid_call_id("a84b4c76e66710@pc33.atlanta.example.com"));
    REQUIRE_FALSE(valid_call_id("a b@c"));
    REQUIRE_FALSE(valid_call_id("a@b@c"));
    const auto mt = parse_media_type("multipart/mixed;boundary=\"unique-boundary-1\"");
    REQUIRE(mt->type == "multipart");
    REQUIRE(mt->params.find("boundary")->value == "\"unique-boundary-1\"");
    REQUIRE_FALSE(parse_media_type("application"));
}

TEST_CASE("numbers have a digit limit and a range")
{
    REQUIRE(parse_number("65535", 5, 65535) == 65535u);
    REQUIRE_FALSE(parse_number("65536", 5, 65535));
    REQUIRE_FALSE(parse_number("000065535", 5, 65535));
    REQUIRE_FALSE(parse_number("", 5, 65535));
    REQUIRE_FALSE(parse_number("-1", 5, 65535));
    REQUIRE_FALSE(parse_number("99999999999999999999999", 30, ~std::uint64_t{0})); // would overflow: too many digits
}
