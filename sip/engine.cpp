// See engine.hpp.
#include "sip/engine.hpp"

#include "sip/fields.hpp"
#include "sip/text.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <functional>

namespace sipalg::sip {

namespace {

bool from_inside(const session_view& v, unsigned i) noexcept
{
    return v.inside_is_originator[i] == (v.dir == 0);
}

// Where the remote phone of a hosted-NAT session says it is: in its own messages (direction 0) what it
// writes now, in those to it what it wrote before.
std::optional<endpoint> hosted_written(const message& m, const session_view& v) noexcept
{
    if (!v.hosted_nat) {
        return std::nullopt;
    }
    return v.dir == 0 ? written_endpoint(m) : v.written;
}

// The registration pinhole's step for translation `t` (RFC 3261 §10.2.2, §10.3).
void registration(const session_view& v, const dialog_view& dialog, const translation& t, bool inside_sends, decision& d) noexcept
{
    const nat_summary& s = d.id;
    if (s.method != method::register_) {
        return;
    }
    const bool removal = (inside_sends && s.request && s.expires == 0u) ||
                         (!inside_sends && !s.request && (s.status >= 300 || s.expires == 0u));
    if (removal) {
        d.registration.step = registration_step::remove;
        d.registration.at = t;
        return;
    }
    if (inside_sends || s.request || s.status < 200 || s.status >= 300 || !s.expires || !v.open_register) {
        return;
    }
    // The binding lasts what the registrar granted, but never longer than the REGISTER asked for, nor
    // than register-expiry-max (an answer cannot open a hole for longer than was asked).
    d.registration.step = registration_step::grant;
    d.registration.at = t;
    d.registration.seconds = std::min({*s.expires, dialog.requested, v.register_expiry_max_s});
    d.registration.strict = v.strict_register;
}

// The call's step (RFC 3261 §13, §15), from what the call table says of it.
call_step step_of(const nat_summary& s, const dialog_view& dialog) noexcept
{
    if (s.call_key == 0) {
        return call_step::none;
    }
    if (!dialog.call_known) {
        return s.request && s.method == method::invite ? call_step::start : call_step::none;
    }
    // A message of the call's dialog carries the caller's tag, in From or in To (§12.2.1.1): a request
    // with other tags belongs to another dialog and changes nothing here.
    if (dialog.call_tag != 0 && s.from_tag != dialog.call_tag && s.to_tag != dialog.call_tag && s.request) {
        return call_step::other_dialog;
    }
    if (dialog.call_state == nat::call_state::ended) {
        return call_step::touch;
    }
    const bool invite_response = !s.request && s.method == method::invite;
    // (A refused re-INVITE leaves an answered call as it was, §14.1.)
    if ((s.request && (s.method == method::bye || s.method == method::cancel)) ||
        (invite_response && s.status >= 300 && dialog.call_state != nat::call_state::answered)) {
        return call_step::end;
    }
    if (invite_response && s.status >= 200 && s.status < 300) {
        return call_step::answer;
    }
    if (invite_response && s.status > 100 && s.status < 200 && dialog.call_state == nat::call_state::calling) {
        return call_step::ring;
    }
    return call_step::touch;
}

// The ALG's checks over `m` (those of p.acted_checks): the first finding, in message order, whose action is
// not pass decides (FortiOS: "discard" stops the checks). Respond answers requests only: a response, or
// an ACK (RFC 3261 §17.1.1.3: never answered), is discarded instead. Whether one decided.
bool decide_checks(const message& m, const nat::sip_profile_limits& p, bool request, decision& d) noexcept
{
    const auto action = [&](check c) { return p.check_actions[static_cast<std::size_t>(c)]; };
    check_options options;
    options.max_line_length = p.max_line_length;
    options.max_body_length = p.max_body_length;
    options.require_require = action(check::malformed_header_no_require) != nat::sip_action::pass;
    options.require_proxy_require = action(check::malformed_header_no_proxy_require) != nat::sip_action::pass;
    options.only = p.screened_checks;
    const findings f = check_message(m, options);
    if (f.empty()) {
        return false;
    }
    for (const finding& x : f.list()) {
        d.found |= std::uint64_t{1} << static_cast<unsigned>(x.id);
    }
    // The first finding, for the log (44034): what, where, and what was found.
    const finding& first = f.list().front();
    d.logged = first.id;
    d.logged_offset = first.offset;
    d.logged_detail = first.detail;
    for (const finding& x : f.list()) {
        const nat::sip_action a = action(x.id);
        if (a == nat::sip_action::pass) {
            continue;
        }
        d.failed = x.id;
        d.why = x.id == check::unknown_method ? drop_reason::unknown_method : drop_reason::malformed;
        if (a == nat::sip_action::respond && request && d.id.method != method::ack) {
            d.action = verdict::respond;
            d.status = x.id == check::max_line_length || x.id == check::max_body_length ? 413 : 400;
        } else {
            d.action = verdict::drop;
        }
        return true;
    }
    return false;
}

} // namespace

void begin(const message& m, session_view& view, decision& d) noexcept
{
    if (const auto written = hosted_written(m, view)) {
        // The two forms of the remote phone's Call-ID (as it wrote it, and as it is seen) are one call.
        view.options.call_host_seen = view.seen.address;
        view.options.call_host_written = written->address;
    }
    d.id = identify(m, view.t[0], from_inside(view, 0), view.options);
}

void screen(const message& m, const session_view& view, decision& d) noexcept
{
    if (view.alg == nullptr) {
        return;
    }
    const nat::sip_profile_limits& p = *view.alg;
    const bool request = m.is_request();
    // Only the checks whose action is not pass run: a finding that changes nothing is not looked for
    // (logging, which reports them all, runs them all when it is on).
    if (p.screened_checks != 0 && decide_checks(m, p, request, d)) {
        return;
    }
    if (request && (p.blocked_methods >> static_cast<unsigned>(d.id.method) & 1u) != 0 && d.id.method != method::unknown) {
        d.action = verdict::drop;
        d.why = drop_reason::method_blocked;
    }
}

void limit(decision& d) noexcept
{
    d.action = verdict::drop;
    d.why = drop_reason::rate;
}

std::size_t write_response(const message& m, unsigned status, std::span<char> out) noexcept
{
    std::size_t n = 0;
    bool fits = true;
    const auto put = [&](std::string_view t) {
        if (t.size() > out.size() - n) {
            fits = false;
            return;
        }
        std::memcpy(out.data() + n, t.data(), t.size());
        n += t.size();
    };
    const header* to = m.find(header_type::to);
    if (!m.is_request() || m.find(header_type::via) == nullptr || m.find(header_type::from) == nullptr || to == nullptr ||
        m.find(header_type::call_id) == nullptr || m.find(header_type::cseq) == nullptr) {
        return 0;
    }
    put("SIP/2.0 ");
    std::array<char, 8> code{};
    const auto [end, ec] = std::to_chars(code.data(), code.data() + code.size(), status);
    (void)ec;
    put({code.data(), static_cast<std::size_t>(end - code.data())});
    put(status == 413 ? " Request Entity Too Large\r\n" : " Bad Request\r\n");
    // Every Via in order (§8.2.6.2: the response goes back the way the request came), then the dialog's
    // identifiers as the request wrote them.
    for (const header& h : m.headers()) {
        if (h.type == header_type::via) {
            put("Via: ");
            put(m.value(h));
            put("\r\n");
        }
    }
    put("From: ");
    put(m.value_of(header_type::from));
    put("\r\nTo: ");
    const std::string_view to_value = m.value(*to);
    put(to_value);
    if (const auto a = parse_address_lenient(to_value); !a || !a->tag.has_value) {
        // A tag of our own, the same for each retransmission of the request (§8.2.6.2).
        std::array<char, 24> tag{};
        const std::uint64_t h = std::hash<std::string_view>{}(m.value_of(header_type::call_id)) | 1;
        const auto [t, e] = std::to_chars(tag.data(), tag.data() + tag.size(), h, 16);
        (void)e;
        put(";tag=");
        put({tag.data(), static_cast<std::size_t>(t - tag.data())});
    }
    put("\r\nCall-ID: ");
    put(m.value_of(header_type::call_id));
    put("\r\nCSeq: ");
    put(m.value_of(header_type::cseq));
    put("\r\nContent-Length: 0\r\n\r\n");
    return fits ? n : 0;
}

void translate(const message& m, const session_view& view, edit_list& edits, decision& d) noexcept
{
    edits.clear();
    d.asks.n = 0;
    d.translated = false;
    for (unsigned i = 0; i < view.n; ++i) {
        // The first translation's summary is begin's; a second is worked out afresh.
        nat_summary second;
        nat_summary& sum = i == 0 ? d.id : second;
        const bool inside_sends = from_inside(view, i);
        if (sip::translate(m, view.t[i], inside_sends, &d.asks, edits, sum, view.options, i == 0) != edit_error::ok) {
            return;
        }
        if (inside_sends && sum.has_sdp) {
            d.sdp_from_inside = view.t[i].inside.address;
        }
        d.rejected[i] = sum.rejected_streams;
    }
    // hosted-nat-traversal: the originator is a remote phone behind a NAT of its own; what it writes of
    // itself becomes where it is seen from, and what is sent to it goes back to what it wrote: it must
    // find its own Via sent-by (RFC 3261 §18.1.2) and Call-ID (§12.2.2) in what it receives. Its media
    // ports are left as written (its NAT is expected to keep them, or to be symmetric).
    if (const auto written = hosted_written(m, view)) {
        if (view.dir == 0 && written->address != view.seen.address) {
            d.remember_written = written;
        }
        if (written->address != view.seen.address) {
            nat_summary hnt;
            nat_options o = view.options;
            o.nat_trace = false;
            if (sip::translate(m, {*written, view.seen}, view.dir == 0, nullptr, edits, hnt, o) != edit_error::ok) {
                return;
            }
            d.hosted_nat_rewritten = true;
        }
    }
    d.translated = true;
}

void settle(const session_view& view, const dialog_view& dialog, decision& d) noexcept
{
    const nat_summary& s = d.id;
    d.believed = s.request || dialog.response_matched;
    if (s.request && s.method == method::invite && view.max_dialogs != 0 && dialog.policy_calls >= view.max_dialogs &&
        !dialog.call_known) {
        // FortiOS max-dialogs: a new call beyond the policy's calls at once is refused (a re-INVITE of a
        // call it has is no new call). The INVITE is dropped (taken out of its stream over TCP): the
        // caller hears nothing and gives up or retries.
        d.why = drop_reason::max_dialogs;
        d.action = verdict::drop;
        return;
    }
    // RFC 3261 §17.1.1.2 Timer B, §17.1.2.2 Timer F: 64*T1; an INVITE waits for its answer as long as
    // provisional-invite-expiry-time.
    d.record_transaction = s.request && s.method != method::ack;
    d.transaction_lifetime_s = s.method == method::invite ? view.invite_expiry_s : 32u;
    if (s.method == method::register_ && d.record_transaction) {
        d.requested = s.expires.value_or(3600u);
    }
    if (!d.believed) {
        d.asks.n = 0; // what an unbelieved message asks for is not opened (its ports stay as written)
        return;
    }
    d.complete_transaction = !s.request && s.status >= 200;
    d.ending = (s.request && (s.method == method::bye || s.method == method::cancel)) ||
               (!s.request && s.method == method::invite && s.status >= 300);
    for (unsigned i = 0; i < view.n; ++i) {
        if (view.inside_is_originator[i]) {
            registration(view, dialog, view.t[i], from_inside(view, i), d);
        }
    }
}

void follow(const dialog_view& dialog, decision& d) noexcept
{
    d.call = d.believed ? step_of(d.id, dialog) : call_step::none;
    if (dialog.call_known && dialog.call_state == nat::call_state::ended) {
        d.asks.n = 0; // a message of a call that has ended (a late retransmission) opens nothing again
    }
}

} // namespace sipalg::sip
