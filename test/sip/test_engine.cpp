// sip/engine: one message's decision as a value, from the message, the session's view and the dialog's
// state alone: who the message is, whether it is believed, its call's step, its registration's, its
// transaction's, the pinholes it asks for (their ports left as placeholders), and the verdict.
#include "sip/engine.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <string>

using namespace sipalg;
using namespace sipalg::sip;

namespace {

constexpr ipv4_address ip(unsigned a, unsigned b, unsigned c, unsigned d)
{
    return (a << 24) | (b << 16) | (c << 8) | d;
}

std::string crlf(const std::string& s)
{
    std::string out;
    for (const char c : s) {
        out += c == '\n' ? std::string("\r\n") : std::string(1, c);
    }
    return out;
}

std::string with_body(const std::string& head, const std::string& body = {})
{
    const std::string b = crlf(body);
    return crlf(head) + "Content-Length: " + std::to_string(b.size()) + "\r\n\r\n" + b;
}

const std::string sdp_body = R"(v=0
o=alice 1 1 IN IP4 10.0.1.2
s=-
c=IN IP4 10.0.1.2
t=0 0
m=audio 4000 RTP/AVP 0
)";

const std::string invite = with_body(R"(INVITE sip:bob@203.0.113.5 SIP/2.0
Via: SIP/2.0/UDP 10.0.1.2:5060;branch=z9hG4bK1
From: <sip:alice@10.0.1.2>;tag=a1
To: <sip:bob@203.0.113.5>
Call-ID: c1@10.0.1.2
CSeq: 1 INVITE
Contact: <sip:alice@10.0.1.2:5060>
Content-Type: application/sdp
)", sdp_body);

std::string response(unsigned status, const std::string& method = "INVITE", const std::string& extra = {})
{
    return with_body("SIP/2.0 " + std::to_string(status) + " X\n" +
                     "Via: SIP/2.0/UDP 198.51.100.1:40000;branch=z9hG4bK1\n"
                     "From: <sip:alice@198.51.100.1>;tag=a1\n"
                     "To: <sip:bob@203.0.113.5>;tag=b1\n"
                     "Call-ID: c1@198.51.100.1\n"
                     "CSeq: 1 " + method + "\n" + extra);
}

const std::string bye_other_tags = with_body(R"(BYE sip:alice@198.51.100.1:40000 SIP/2.0
Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK9
From: <sip:bob@203.0.113.5>;tag=zz
To: <sip:alice@198.51.100.1>;tag=yy
Call-ID: c1@198.51.100.1
CSeq: 2 BYE
)");

// A phone inside (10.0.1.2:5060) seen as 198.51.100.1:40000.
session_view phone_view(unsigned dir)
{
    session_view v;
    v.t[0] = {{ip(10, 0, 1, 2), 5060}, {ip(198, 51, 100, 1), 40000}};
    v.inside_is_originator[0] = true;
    v.n = 1;
    v.dir = dir;
    return v;
}

struct outcome {
    std::string text; // the message's bytes, which its parse views
    message m;
    edit_list edits;
    decision d;
};

// The three steps over `text`, with `dialog` as the tables' answer.
std::unique_ptr<outcome> decide(const std::string& text, session_view view, const dialog_view& dialog = {})
{
    auto o = std::make_unique<outcome>();
    o->text = text;
    REQUIRE(o->m.parse(o->text).ok());
    begin(o->m, view, o->d);
    translate(o->m, view, o->edits, o->d);
    REQUIRE(o->d.translated);
    settle(view, dialog, o->d);
    follow(dialog, o->d);
    return o;
}

std::string applied(outcome& o)
{
    std::array<char, 8192> out;
    const auto a = o.edits.apply(o.m, out);
    REQUIRE(a.error == edit_error::ok);
    return {out.data(), a.length};
}

} // namespace

TEST_CASE("an INVITE from inside: believed, starts its call, records its transaction, asks for its media port")
{
    auto o = decide(invite, phone_view(0));
    const decision& d = o->d;
    CHECK(d.action == verdict::forward);
    CHECK(d.believed);
    CHECK(d.call == call_step::start);
    CHECK(d.record_transaction);
    CHECK(d.transaction_lifetime_s == 210); // provisional-invite-expiry-time
    CHECK(!d.complete_transaction);
    CHECK(d.sdp_from_inside == ip(10, 0, 1, 2));
    REQUIRE(d.asks.n == 1);
    CHECK(d.asks.list[0].kind == ask_kind::media);
    CHECK(d.asks.list[0].inside == endpoint{ip(10, 0, 1, 2), 4000});
    CHECK(d.asks.list[0].rtcp == 4001);
    CHECK(d.asks.list[0].public_address == ip(198, 51, 100, 1));
    // Until the data path grants the port, the m= line says what it said; granted, the public port.
    CHECK(applied(*o).find("m=audio 4000 ") != std::string::npos);
    REQUIRE(grant(o->edits, d.asks.list[0], 30000) == edit_error::ok);
    const std::string out = applied(*o);
    CHECK(out.find("m=audio 30000 ") != std::string::npos);
    CHECK(out.find("c=IN IP4 198.51.100.1") != std::string::npos);
    CHECK(out.find("10.0.1.2") == std::string::npos);
}

TEST_CASE("the same inputs give the same decision")
{
    auto a = decide(invite, phone_view(0));
    auto b = decide(invite, phone_view(0));
    CHECK(a->d.id.call_key == b->d.id.call_key);
    CHECK(a->d.id.transaction == b->d.id.transaction);
    CHECK(applied(*a) == applied(*b));
    CHECK(a->d.asks.n == b->d.asks.n);
}

TEST_CASE("a response that answers no request of the session is translated but believed in nothing")
{
    auto o = decide(response(200, "INVITE", "Content-Type: application/sdp\n"), phone_view(1));
    CHECK(o->d.action == verdict::forward);
    CHECK(!o->d.believed);
    CHECK(o->d.call == call_step::none);
    CHECK(!o->d.complete_transaction);
    CHECK(o->d.registration.step == registration_step::none);
    // Still translated back to the inside phone.
    CHECK(applied(*o).find("Via: SIP/2.0/UDP 10.0.1.2:5060;") != std::string::npos);
}

TEST_CASE("responses move the call on: ringing, answered, ended before the answer, not after")
{
    dialog_view calling;
    calling.response_matched = true;
    calling.call_known = true;
    calling.call_tag = 0;
    CHECK(decide(response(100), phone_view(1), calling)->d.call == call_step::touch);
    CHECK(decide(response(180), phone_view(1), calling)->d.call == call_step::ring);
    auto ok = decide(response(200), phone_view(1), calling);
    CHECK(ok->d.call == call_step::answer);
    CHECK(ok->d.complete_transaction);
    auto busy = decide(response(486), phone_view(1), calling);
    CHECK(busy->d.call == call_step::end);
    CHECK(busy->d.ending);
    dialog_view answered = calling;
    answered.call_state = nat::call_state::answered;
    // A refused re-INVITE leaves an answered call as it was (RFC 3261 §14.1).
    CHECK(decide(response(488), phone_view(1), answered)->d.call == call_step::touch);
}

TEST_CASE("a BYE with other tags belongs to another dialog of the Call-ID")
{
    dialog_view known;
    known.call_known = true;
    known.call_state = nat::call_state::answered;
    auto caller = decide(invite, phone_view(0));
    known.call_tag = caller->d.id.from_tag;
    auto o = decide(bye_other_tags, phone_view(1), known);
    CHECK(o->d.believed);
    CHECK(o->d.call == call_step::other_dialog);
}

TEST_CASE("max-dialogs: a new call beyond the limit is dropped")
{
    session_view v = phone_view(0);
    v.max_dialogs = 2;
    dialog_view full;
    full.policy_calls = 2;
    auto udp = decide(invite, v, full);
    CHECK(udp->d.action == verdict::drop);
    CHECK(udp->d.why == drop_reason::max_dialogs);
    CHECK(!udp->d.record_transaction);
    // A re-INVITE of a call the table has is no new call; under the limit, nothing is refused.
    dialog_view known = full;
    known.call_known = true;
    CHECK(decide(invite, v, known)->d.action == verdict::forward);
    full.policy_calls = 1;
    CHECK(decide(invite, v, full)->d.why == drop_reason::none);
}

TEST_CASE("a REGISTER's 2xx grants the registration for no longer than asked, granted and register-expiry-max")
{
    const std::string ok = response(200, "REGISTER", "Contact: <sip:alice@198.51.100.1:40000>;expires=7200\n");
    dialog_view matched;
    matched.response_matched = true;
    matched.requested = 600;
    auto o = decide(ok, phone_view(1), matched);
    CHECK(o->d.registration.step == registration_step::grant);
    CHECK(o->d.registration.seconds == 600);
    CHECK(o->d.registration.strict);
    CHECK(o->d.registration.at.inside == endpoint{ip(10, 0, 1, 2), 5060});
    matched.requested = 100000;
    CHECK(decide(ok, phone_view(1), matched)->d.registration.seconds == 3600);
    session_view closed = phone_view(1);
    closed.open_register = false;
    CHECK(decide(ok, closed, matched)->d.registration.step == registration_step::none);
    // Refused, or expired by the phone: removed.
    CHECK(decide(response(403, "REGISTER"), phone_view(1), matched)->d.registration.step == registration_step::remove);
    const std::string unregister = with_body(R"(REGISTER sip:203.0.113.5 SIP/2.0
Via: SIP/2.0/UDP 10.0.1.2:5060;branch=z9hG4bK7
From: <sip:alice@203.0.113.5>;tag=r1
To: <sip:alice@203.0.113.5>
Call-ID: r1@10.0.1.2
CSeq: 3 REGISTER
Contact: <sip:alice@10.0.1.2:5060>;expires=0
)");
    auto u = decide(unregister, phone_view(0));
    CHECK(u->d.registration.step == registration_step::remove);
    REQUIRE(u->d.requested);
    CHECK(*u->d.requested == 0);
}

TEST_CASE("hosted NAT: what the remote phone writes of itself is remembered and replaced by where it is seen")
{
    // A remote phone (192.168.1.10 behind its own NAT, seen as 203.0.113.9:6000) calls in through a VIP.
    session_view v;
    v.t[0] = {{ip(10, 0, 1, 50), 5060}, {ip(198, 51, 100, 1), 5060}};
    v.inside_is_originator[0] = false;
    v.n = 1;
    v.dir = 0;
    v.hosted_nat = true;
    v.seen = {ip(203, 0, 113, 9), 6000};
    const std::string remote = with_body(R"(INVITE sip:pbx@198.51.100.1 SIP/2.0
Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK5
From: <sip:r@192.168.1.10>;tag=h1
To: <sip:pbx@198.51.100.1>
Call-ID: h1@192.168.1.10
CSeq: 1 INVITE
Contact: <sip:r@192.168.1.10:5060>
)");
    auto o = decide(remote, v);
    REQUIRE(o->d.remember_written);
    CHECK(*o->d.remember_written == endpoint{ip(192, 168, 1, 10), 5060});
    CHECK(o->d.hosted_nat_rewritten);
    const std::string out = applied(*o);
    CHECK(out.find("Via: SIP/2.0/UDP 203.0.113.9:6000;") != std::string::npos);
    CHECK(out.find("192.168.1.10") == std::string::npos);
}

namespace {

// The three steps with the ALG's profile `p`, screened after begin as the data path does.
std::unique_ptr<outcome> screened(const std::string& text, const nat::sip_profile_limits& p)
{
    session_view v = phone_view(0);
    v.alg = &p;
    auto o = std::make_unique<outcome>();
    o->text = text;
    REQUIRE(o->m.parse(o->text).ok());
    begin(o->m, v, o->d);
    screen(o->m, v, o->d);
    translate(o->m, v, o->edits, o->d);
    settle(v, {}, o->d);
    return o;
}

nat::sip_profile_limits with_action(check c, nat::sip_action a)
{
    nat::sip_profile_limits p;
    p.check_actions[static_cast<std::size_t>(check::max_line_length)] = nat::sip_action::respond;
    p.check_actions[static_cast<std::size_t>(check::unknown_method)] = nat::sip_action::discard;
    if (c != check::count_) {
        p.check_actions[static_cast<std::size_t>(c)] = a;
    }
    p.derive();
    return p;
}

const std::string bad_cseq = [] {
    std::string s = invite;
    s.replace(s.find("CSeq: 1 INVITE"), 14, "CSeq: x INVITE");
    return s;
}();

} // namespace

TEST_CASE("screen: a finding's action decides; respond answers requests only; a check that would pass is not run")
{
    const auto pass = screened(bad_cseq, with_action(check::malformed_header_cseq, nat::sip_action::pass));
    CHECK(pass->d.action == verdict::forward);
    CHECK(pass->d.found == 0);
    const auto discard = screened(bad_cseq, with_action(check::malformed_header_cseq, nat::sip_action::discard));
    CHECK(discard->d.action == verdict::drop);
    CHECK(discard->d.why == drop_reason::malformed);
    CHECK(discard->d.failed == check::malformed_header_cseq);
    const auto respond = screened(bad_cseq, with_action(check::malformed_header_cseq, nat::sip_action::respond));
    CHECK(respond->d.action == verdict::respond);
    CHECK(respond->d.status == 400);
    // A response with the fault cannot be answered: discarded.
    std::string bad_response = response(200);
    bad_response.replace(bad_response.find("CSeq: 1 INVITE"), 14, "CSeq: x INVITE");
    const auto r = screened(bad_response, with_action(check::malformed_header_cseq, nat::sip_action::respond));
    CHECK(r->d.action == verdict::drop);
}

TEST_CASE("screen: blocked and unknown methods")
{
    nat::sip_profile_limits p = with_action(check::count_, nat::sip_action::pass);
    p.blocked_methods = 1u << static_cast<unsigned>(method::invite);
    const auto blocked = screened(invite, p);
    CHECK(blocked->d.action == verdict::drop);
    CHECK(blocked->d.why == drop_reason::method_blocked);
    std::string foo = invite;
    foo.replace(0, 6, "FOO");
    foo.replace(foo.find("CSeq: 1 INVITE"), 14, "CSeq: 1 FOO");
    const auto unknown = screened(foo, with_action(check::count_, nat::sip_action::pass));
    CHECK(unknown->d.action == verdict::drop);
    CHECK(unknown->d.why == drop_reason::unknown_method);
}

TEST_CASE("write_response: the request's Vias, From, Call-ID and CSeq, a To tag added once, no body")
{
    message m;
    REQUIRE(m.parse(invite).ok());
    std::array<char, 2048> out;
    const std::size_t n = write_response(m, 413, out);
    REQUIRE(n != 0);
    const std::string r(out.data(), n);
    CHECK(r.rfind("SIP/2.0 413 Request Entity Too Large\r\n", 0) == 0);
    CHECK(r.find("\r\nVia: SIP/2.0/UDP 10.0.1.2:5060;branch=z9hG4bK1\r\n") != std::string::npos);
    CHECK(r.find("\r\nFrom: <sip:alice@10.0.1.2>;tag=a1\r\n") != std::string::npos);
    CHECK(r.find("\r\nTo: <sip:bob@203.0.113.5>;tag=") != std::string::npos);
    CHECK(r.find("\r\nCall-ID: c1@10.0.1.2\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n") != std::string::npos);
    // The same tag for a retransmission; a To that has a tag keeps it.
    CHECK(std::string(out.data(), write_response(m, 413, out)) == r);
    message tagged;
    std::string with_tag = invite;
    with_tag.replace(with_tag.find("To: <sip:bob@203.0.113.5>"), 25, "To: <sip:bob@203.0.113.5>;tag=x9");
    REQUIRE(tagged.parse(with_tag).ok());
    const std::string t(out.data(), write_response(tagged, 400, out));
    CHECK(t.find("\r\nTo: <sip:bob@203.0.113.5>;tag=x9\r\n") != std::string::npos);
    // Too small a buffer, or a response: nothing.
    CHECK(write_response(m, 400, std::span<char>(out.data(), 40)) == 0);
    message resp;
    const std::string ok = response(200);
    REQUIRE(resp.parse(ok).ok());
    CHECK(write_response(resp, 400, out) == 0);
}

TEST_CASE("rfc2543-branch: a branch without the magic cookie is matched by the RFC 2543 rule")
{
    // Two requests of an RFC 2543 phone with the same branch (RFC 2543 had no unique branch): taken as
    // one transaction by the branch, as two by the RFC 2543 rule (their CSeq differs).
    std::string first = invite;
    first.replace(first.find("branch=z9hG4bK1"), 15, "branch=old1");
    std::string second = first;
    second.replace(second.find("CSeq: 1 INVITE"), 14, "CSeq: 2 INVITE");
    session_view v = phone_view(0);
    const auto key = [&](const std::string& text) { return decide(text, v)->d.id.transaction; };
    CHECK(key(first) == key(second));
    v.options.rfc2543_branch = true;
    CHECK(key(first) != key(second));
    // A branch with the cookie is unique as it is, either way.
    CHECK(decide(invite, v)->d.id.transaction == decide(invite, phone_view(0))->d.id.transaction);
    // The response is matched to its request by the same rule: same Call-ID, From tag, CSeq and sent-by
    // as the request carried them (the response to the phone, translated back, says the same).
    std::string answer = response(200);
    answer.replace(answer.find("branch=z9hG4bK1"), 15, "branch=old1");
    session_view back = phone_view(1);
    back.options.rfc2543_branch = true;
    CHECK(decide(answer, back)->d.id.transaction == key(first));
    std::string other = answer;
    other.replace(other.find("CSeq: 1 INVITE"), 14, "CSeq: 2 INVITE");
    CHECK(decide(other, back)->d.id.transaction == key(second));
}

TEST_CASE("a message of a call that has ended asks for no pinhole any more")
{
    dialog_view ended;
    ended.call_known = true;
    ended.call_state = nat::call_state::ended;
    auto late = decide(invite, phone_view(0), ended);
    CHECK(late->d.call == call_step::touch);
    CHECK(late->d.asks.n == 0);
    CHECK(applied(*late).find("m=audio 4000 ") != std::string::npos); // its port as written
    CHECK(decide(invite, phone_view(0))->d.asks.n == 1);
}
