#pragma once
// NAT of the addresses a SIP message carries (what both engines do; sip/engine.hpp runs it): *what* to
// rewrite and which pinholes to ask for, their public ports left as placeholders; the data plane grants
// the pinholes, fills the placeholders and applies the edits to the packet. A translation is one inside endpoint and what it is seen as
// outside (SNAT: the inside phone and its public address and port; a VIP: the inside server and the
// VIP). A message the inside party sends is rewritten inside -> public, one it receives public ->
// inside. Only what carries the translated address changes: host names and other hosts' addresses stay.
#include "nat/ipv4.hpp"
#include "sip/edit.hpp"
#include "sip/message.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sipalg::sip {

struct endpoint {
    ipv4_address address = 0;
    std::uint16_t port = 0;
    friend bool operator==(const endpoint&, const endpoint&) = default;
};

struct translation {
    endpoint inside;  // as the inside host knows itself
    endpoint outside; // as the other side sees it
};

// A pinhole a message asks for (ARCHITECTURE.md "The SIP engine"): the translation writes no public
// port itself. It leaves a placeholder in the edit list where the port goes, which the data path fills
// when it gives the pinhole a port (grant), or leaves reading what the message said when it refuses.
enum class ask_kind : std::uint8_t {
    media,   // an RTP/RTCP pair for what the inside party offers or answers (SDP m=)
    contact, // open-contact-pinhole: a Contact of the inside party on a port other than the session's
    record_route, // open-record-route-pinhole: a Record-Route of the inside party on such a port
    via,     // open-via-pinhole: the top Via sent-by of the inside party's request on such a port
};

struct pinhole_ask {
    static constexpr std::uint8_t none = 0xff;
    ask_kind kind = ask_kind::media;
    endpoint inside;                  // media: its RTP port; otherwise the URI's or sent-by's
    std::uint16_t rtcp = 0;           // media: its RTCP port
    ipv4_address public_address = 0; // what the inside party is seen as
    // media left as written (no-sdp-fixup): the public port the SDP names, which must stay true; 0: any.
    std::uint16_t preferred = 0;
    // The m= line's place in the SDP, which offer and answer share (RFC 3264 §6): the answer rejects a
    // stream by its place (0xff: later than the 255th).
    std::uint8_t stream = 0;
    std::uint8_t port_hole = none;    // placeholder: the m= port, or the Contact's host:port
    std::uint8_t rtcp_hole = none;    // placeholder: the a=rtcp port
};

struct pinhole_asks {
    static constexpr unsigned capacity = 16;
    std::array<pinhole_ask, capacity> list;
    unsigned n = 0;
    bool full() const noexcept
    {
        return n == capacity;
    }
};

// Pinhole ask `a` got public port `port`: its placeholders say so (an m= port and a=rtcp the next one,
// RFC 3550 §11; a Contact's host:port).
edit_error grant(edit_list& edits, const pinhole_ask& a, std::uint16_t port) noexcept;

// What the engine saw of the message, for dialogs and pinhole lifetimes.
struct nat_summary {
    bool request = false;
    sip::method method = sip::method::unknown; // of the request, or of the CSeq of a response
    unsigned status = 0;
    std::string_view call_id;   // as the message carried it
    std::optional<ipv4_address> call_host; // the address after its '@', when that is one (RFC 3261 §20.8)
    std::uint64_t call_key = 0; // the Call-ID as the inside party knows it, hashed: one key per dialog both ways
    bool has_sdp = false;
    bool traced = false; // register-contact-trace wrote the inside address, on purpose
    unsigned addresses = 0;     // addresses and ports rewritten in headers and SDP
    // An SDP the translation's inside party receives: its m= lines at port 0 (bit i: the i-th, i < 32),
    // which reject or disable that stream of the inside party's (RFC 3264 §6, §8.2).
    std::uint32_t rejected_streams = 0;
    // REGISTER and its responses: the binding's lifetime in seconds, from the first Contact's expires
    // parameter or else the Expires header (RFC 3261 §10.2.1, §10.3 step 7); nothing when neither says.
    std::optional<std::uint32_t> expires;
    // What matches a response to its request (RFC 3261 §17.1.3): the top Via's branch with the CSeq
    // method, hashed, and the CSeq number.
    std::uint64_t transaction = 0;
    std::uint32_t cseq = 0;
    std::string_view cseq_method;
    // The dialog's tags (From and To tag parameters, hashed; 0: none), RFC 3261 §12.
    std::uint64_t from_tag = 0;
    std::uint64_t to_tag = 0;
    // An SDP the translation's inside party receives: where the other party's media of each stream
    // is (its c= address and m= port, i < 8; address 0: unknown), RFC 4566 §5.7, §5.14.
    std::array<endpoint, 8> remote_media{};
};

// Whether `text` names the address `a` (as a dotted quad of its own, not part of a longer number): what
// leaves the appliance is checked for the inside address it should no longer carry.
bool mentions_address(std::string_view text, ipv4_address a) noexcept;

// Where the sender of `m` says it is: the sent-by of the top Via of a request, the first Contact of a
// response (RFC 3261 §18.2.1, §20.10); nothing when that is not an IPv4 address. Hosted NAT traversal
// compares it with where the message came from.
std::optional<endpoint> written_endpoint(const message& m) noexcept;

// The SIP ALG profile's rewrite options (FortiOS config voip profile / config sip).
struct nat_options {
    // contact-fixup: a Contact whose host is the party's is translated even when its port is not the
    // session's; disabled, only a Contact of exactly the session's address and port is, and none in a
    // message from the outside that carries a Record-Route (FortiOS's two descriptions of the option).
    bool contact_fixup = true;
    // no-sdp-fixup disable: SDP addresses and ports are translated; enabled, the SDP stays as written
    // (the party already writes its public address) and its media ports are opened as they are.
    bool sdp_fixup = true;
    // nat-trace: the inside party's own address is kept in the session-level i= line of the SDP it
    // sends, as "(o=IN IP4 a.b.c.d)": a new i= line, or appended to the existing one (replacing it with
    // preserve-override).
    bool nat_trace = false;
    bool preserve_override = false;
    // register-contact-trace: the Contact of the inside party's REGISTER keeps where the party really is,
    // as the URI parameter x-orig=<address>:<port> after the translated host (sipalg's form: FortiOS
    // documents none). It writes the inside address on purpose, as nat-trace does.
    bool register_contact_trace = false;
    // rfc2543-branch: a top Via branch without RFC 3261's magic cookie "z9hG4bK" (an RFC 2543 peer) is not
    // taken as unique: its transaction is matched by the RFC 2543 rule instead (RFC 3261 §17.1.3, §17.2.3:
    // the Call-ID as the inside party knows it, the From tag, the CSeq; the session and direction, which
    // stand for the top Via's sent-by, are part of a transaction's identity anyway).
    bool rfc2543_branch = false;
    // rtp disable: no media pinholes (m= ports stay); other pinholes (a Contact's) are still asked for.
    bool rtp = true;
    // open-contact-pinhole, open-record-route-pinhole, open-via-pinhole (the ALG's; the helper opens
    // Contact pinholes only).
    bool open_contact = true;
    bool open_record_route = false;
    bool open_via = false;
    // Mixed into call_key: a call belongs to the signalling session it runs over (the data plane
    // passes the session's identity), so another session's BYE with the same Call-ID is another call.
    std::uint64_t call_salt = 0;
    // hosted-nat-traversal: a Call-ID host that is where a remote phone is seen from counts as what it
    // wrote (the two forms of its Call-ID are one call). 0: none.
    ipv4_address call_host_seen = 0;
    ipv4_address call_host_written = 0;
};

// What identifies `m` for dialogs and transactions (call key, transaction, CSeq, tags, method and
// status), as translate fills them in its summary, without translating.
nat_summary identify(const message& m, const translation& t, bool from_inside, const nat_options& o) noexcept;

// The edits that translate `m` (which travels from the inside party when `from_inside`), into `edits`,
// and the pinholes it asks for into `asks` (null: none asked for). Returns edit_error::ok, or why the
// edits could not be recorded (the message then goes unchanged, and the caller counts it).
// `identified`: `summary` already holds what identify() said of `m` for this translation, and it is not
// worked out again.
edit_error translate(const message& m, const translation& t, bool from_inside, pinhole_asks* asks,
                     edit_list& edits, nat_summary& summary, const nat_options& options = {},
                     bool identified = false) noexcept;

} // namespace sipalg::sip
