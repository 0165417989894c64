#pragma once
// The SIP engine (ARCHITECTURE.md "The SIP engine"): what one message does, decided as one value, with
// no tables, ports or packets in sight. The data path gives it the parsed message, what it knows of the
// session (its translations, the profile) and, between the engine's steps, what its tables know of the
// message's dialog; it then commits the whole decision, or none of it:
//   begin     who the message is (call key, transaction, CSeq, tags), from the parse alone: the data
//             path prefetches the table entries this names while the next steps run;
//   screen    the ALG's protection: the syntax checks over the same parse, each finding's action
//             (pass, discard, respond), blocked and unknown methods; a verdict other than forward ends
//             the decision there (the data path then takes a rate-limit token: none, and limit() drops);
//   translate the edits of every translation the session carries (SNAT, DNAT, hosted NAT) into one edit
//             list, and the pinholes the message asks for, their public ports left as placeholders in it;
//   settle    with its transaction looked up: whether the message is believed (a request, or a
//             response to a request this session carried the other way, RFC 3261 §17.1.3), the verdict,
//             the registration's step, the transaction's;
//   follow    with its call's entry read: the call's step (a message of an ended call asks for no
//             pinhole any more).
// The engine keeps nothing between messages: the same inputs give the same decision.
#include "nat/call_table.hpp"
#include "nat/firewall.hpp"
#include "sip/checks.hpp"
#include "sip/edit.hpp"
#include "sip/message.hpp"
#include "sip/nat.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>

namespace sipalg::sip {

// What the engine knows of the session a message travels over.
struct session_view {
    // The translations its SIP carries: its SNAT (the originator inside) and its DNAT (a VIP: the
    // responder inside); without NAT the originator as itself, so that its media still gets pinholes.
    std::array<translation, 2> t{};
    std::array<bool, 2> inside_is_originator{};
    unsigned n = 1;
    unsigned dir = 0; // 0: from the session's originator
    nat_options options;
    // hosted-nat-traversal (a session without SNAT: a remote phone that came in through a VIP): where the
    // originator is seen from, and what it wrote of itself in an earlier message (for direction 1).
    bool hosted_nat = false;
    endpoint seen{};
    std::optional<endpoint> written;
    // The profile's (FortiOS's defaults for the session helper).
    bool open_register = true;    // open-register-pinhole
    bool strict_register = true;  // strict-register
    std::uint32_t invite_expiry_s = 210;      // provisional-invite-expiry-time
    std::uint32_t register_expiry_max_s = 3600;
    std::uint32_t max_dialogs = 0; // calls at once per policy, 0: no limit (the ALG only)
    // The ALG's profile (its checks, blocks and rates); null for the session helper, which has none.
    const nat::sip_profile_limits* alg = nullptr;
};

// What the data path's tables say of the message's dialog. settle reads the transaction's part (and for
// an INVITE under max-dialogs the call's), follow the call's.
struct dialog_view {
    bool response_matched = false; // a response: it answers a request of this session sent the other way
    std::uint32_t requested = 0;   // that request's (a REGISTER's) asked lifetime, seconds
    bool call_known = false;       // the call table follows the message's call
    nat::call_state call_state = nat::call_state::calling;
    std::uint64_t call_tag = 0;    // the caller's From tag, hashed (0: none)
    std::uint32_t policy_calls = 0; // calls of the session's policy not yet ended (max-dialogs)
};

enum class verdict : std::uint8_t {
    forward, // translated as decided (or as it came, when nothing changes)
    drop,    // taken out: it does not leave
    respond, // taken out, and its sender answered with `status` (write_response)
};

// Why a message is taken out (or, over TCP, where it cannot be, followed by nothing).
#define SIPALG_SIP_DROP_REASONS(X)                                                                   \
    X(max_dialogs, "an INVITE of a new call beyond the policy's max-dialogs")                       \
    X(malformed, "a check found fault and its action is discard or respond")                        \
    X(method_blocked, "a request of a method the profile blocks (block-<method>)")                  \
    X(unknown_method, "a request of a method not known (block-unknown)")                            \
    X(rate, "a request over its method's rate (<method>-rate)")

enum class drop_reason : std::uint8_t {
    none,
#define SIPALG_X(id, text) id,
    SIPALG_SIP_DROP_REASONS(SIPALG_X)
#undef SIPALG_X
};

// What the message does to its call (RFC 3261 §13, §15): an INVITE starts one, a provisional response
// beyond 100 rings it, a 2xx answers it, BYE, CANCEL or a failure before the answer ends it; any other
// message of the call touches it. A request with other tags belongs to another dialog of the Call-ID.
enum class call_step : std::uint8_t { none, start, ring, answer, end, touch, other_dialog };

// The registration pinhole (open-register-pinhole): a 2xx to the inside phone's REGISTER grants calls from
// anywhere to its Contact for what the registrar granted; a REGISTER with expires 0 or a failure removes it.
enum class registration_step : std::uint8_t { none, grant, remove };

struct decision {
    // As new, but for what begin and translate write before they read it (the pinhole asks' list, the
    // summary): a decision is made per message, and clearing those costs more than the rest of it.
    void reset() noexcept
    {
        action = verdict::forward;
        why = drop_reason::none;
        status = 0;
        failed = check::count_;
        found = 0;
        logged = check::count_;
        translated = false;
        believed = false;
        asks.n = 0;
        sdp_from_inside = 0;
        rejected = {};
        call = call_step::none;
        ending = false;
        registration = {};
        record_transaction = false;
        transaction_lifetime_s = 0;
        requested.reset();
        complete_transaction = false;
        remember_written.reset();
        hosted_nat_rewritten = false;
    }

    verdict action = verdict::forward;
    drop_reason why = drop_reason::none;
    std::uint16_t status = 0;          // respond: the status code (400, 413)
    check failed = check::count_;      // malformed: the check whose action decided
    std::uint64_t found = 0;           // screen: the checks that found fault (a bit per sip::check)
    check logged = check::count_;      // screen: the first of them (count_: none), for the log
    std::uint32_t logged_offset = 0;   // where in the message it is
    std::string_view logged_detail;    // what was found (a static text)
    nat_summary id;          // begin's, then the first translation's facts (SDP, tags, expiry)
    bool translated = false; // translate recorded its edits; false: the message passes as it came, and
                             // nothing of this decision is committed
    bool believed = false;   // settle: the message may change state
    pinhole_asks asks;       // empty unless believed
    // An SDP of an inside party: that party (its call's pinholes it no longer asks for close, RFC 3264
    // §8); per translation, the inside party's streams the other party's SDP rejects (port 0, §6).
    ipv4_address sdp_from_inside = 0;
    std::array<std::uint32_t, 2> rejected{};
    call_step call = call_step::none;
    // A request or response that ends a call (BYE, CANCEL, a failure to the INVITE): the pinholes of a
    // call the table does not follow close with it too.
    bool ending = false;
    struct registration_change {
        registration_step step = registration_step::none;
        translation at{};         // the inside phone, and what it registered as outside
        std::uint32_t seconds = 0; // grant: how long
        bool strict = false;       // grant: only the registrar may use it (strict-register)
    } registration;
    // The transaction: a request (not ACK) is recorded for its responses to be matched; a final response
    // completes its request's (RFC 3261 §17.1.1.2).
    bool record_transaction = false;
    std::uint32_t transaction_lifetime_s = 0;
    std::optional<std::uint32_t> requested; // a REGISTER's asked lifetime
    bool complete_transaction = false;
    // Hosted NAT: what the remote phone wrote of itself, to remember for the session; whether its
    // addresses were rewritten.
    std::optional<endpoint> remember_written;
    bool hosted_nat_rewritten = false;
};

// Step one: who the message is (d.id), and for hosted NAT which Call-ID host stands for what (view.options).
void begin(const message& m, session_view& view, decision& d) noexcept;
// The ALG's screen (view.alg set): nothing for the session helper.
void screen(const message& m, const session_view& view, decision& d) noexcept;
// A request over its method's rate: dropped (FortiOS drops, and counts it).
void limit(decision& d) noexcept;
// The response `status` to request `m` (RFC 3261 §8.2.6): its Via headers, From, To (with a tag added when
// it has none, §8.2.6.2), Call-ID and CSeq, no body. Its length in `out`, or 0 when it cannot be written
// (a header it must copy is missing, or `out` is too small): the request is then only dropped.
std::size_t write_response(const message& m, unsigned status, std::span<char> out) noexcept;

// Step two: the edits into `edits` (cleared first) and the pinholes asked for.
void translate(const message& m, const session_view& view, edit_list& edits, decision& d) noexcept;
// Step three, with the transaction's state.
void settle(const session_view& view, const dialog_view& dialog, decision& d) noexcept;
// Step four, with the call's state: d.call (of a believed message; none otherwise).
void follow(const dialog_view& dialog, decision& d) noexcept;

} // namespace sipalg::sip
