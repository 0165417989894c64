// See engine.hpp.
#include "sip/engine.hpp"

#include <algorithm>

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
        d.error = sip::translate(m, view.t[i], inside_sends, &d.asks, edits, sum, view.options, i == 0);
        if (d.error != edit_error::ok) {
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
            d.error = sip::translate(m, {*written, view.seen}, view.dir == 0, nullptr, edits, hnt, o);
            if (d.error != edit_error::ok) {
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
        // call it has is no new call). Over UDP the INVITE is dropped (the caller hears nothing and gives
        // up or retries); over TCP, where a message cannot be taken out of the stream, it goes on without
        // pinholes and is not followed.
        d.why = drop_reason::max_dialogs;
        if (!view.tcp) {
            d.action = verdict::drop;
            return;
        }
        d.believed = false;
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
}

} // namespace sipalg::sip
