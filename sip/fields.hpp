#pragma once
// Header values parsed on request (RFC 3261 §19.1, §20, §25.1): URIs, host and port, parameters,
// name-addr and addr-spec, Via, CSeq, Call-ID, media types, numbers. Every result is a set of views
// into the value it came from, so an engine can turn any of them into an edit (offset = view.data()
// minus the message's data()). The parsers accept the LWS that RFC 3261 allows around separators,
// folded lines included, and nothing else: a value they refuse is malformed.
#include "nat/ipv4.hpp"
#include "sip/text.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace sipalg::sip {

enum class host_kind : std::uint8_t { name, ipv4, ipv6 };

struct host_port {
    std::string_view host;      // as written; an IPv6 reference keeps its brackets
    host_kind kind = host_kind::name;
    ipv4_address v4 = 0;        // host order, for ipv4
    std::optional<std::uint16_t> port;
    std::string_view text;      // host[:port] as written
};

// RFC 3261 hostname (labels of alphanumerics and '-', '_' tolerated; the top label starts with a
// letter), a dotted-quad IPv4 address, or an IPv6 address (RFC 4291 §2.2, also the "2001:db8:::1.2.3.4"
// form that RFC 5118 §4.10 asks receivers to tolerate).
bool valid_hostname(std::string_view s) noexcept;
bool valid_ipv6(std::string_view s) noexcept;
// host [":" port], the host being a hostname, IPv4 address or bracketed IPv6 reference.
std::optional<host_port> parse_host_port(std::string_view s) noexcept;

enum class param_syntax : std::uint8_t {
    uri,    // uri-parameters: 1*paramchar names and values, no quoting
    header, // generic-param: token names, token / host / quoted-string values
};

// ";"-separated parameters (uri-parameters, via-params, header params). `text` starts after the part
// they follow; it may be empty. Iteration stops at the end of the text.
struct parameter {
    std::string_view name;
    std::string_view value; // without quotes' removal; empty when there was no '='
    bool has_value = false;
    std::string_view text;  // name[=value] as written
};

// A parameter the parsers pick out while they validate, so that the engines and the checks need no
// second pass over the parameters (the first of its name, case-insensitive, as parameters::find gives).
struct known_param {
    std::string_view value; // as written (quotes kept)
    bool present = false;
    bool has_value = false;
    bool token = false;     // the value is a token (not a quoted string or an IPv6 reference)
};

class parameters {
public:
    constexpr explicit parameters(std::string_view text = {}) noexcept : text_(text) {}
    std::string_view text() const noexcept
    {
        return text_;
    }
    // The first parameter named `name` (case-insensitive), or nothing.
    std::optional<parameter> find(std::string_view name) const noexcept;
    // Every parameter is well formed for its place (RFC 3261 §25.1).
    bool well_formed(param_syntax syntax) const noexcept;
    template <class F>
    void for_each(F&& f) const
    {
        scanner s(text_);
        while (s.eat(';')) {
            const auto p = next(s);
            if (!p) {
                return;
            }
            f(*p);
        }
    }

private:
    static std::optional<parameter> next(scanner& s) noexcept;
    std::string_view text_;
};

enum class uri_scheme : std::uint8_t { sip, sips, tel, other };

struct uri {
    uri_scheme scheme = uri_scheme::other;
    std::string_view scheme_text;
    std::string_view user;     // sip/sips: the user part (escaped as written); tel: the number
    std::string_view password;
    host_port host;            // sip/sips only
    parameters params;         // ";..." of a sip/sips/tel URI
    std::string_view headers;  // after '?' of a sip/sips URI, without the '?'
    std::string_view text;
};

// A URI of any scheme: SIP-URI and SIPS-URI fully (RFC 3261 §25.1), tel (RFC 3966, lightly) and any
// other absoluteURI by its scheme and allowed characters.
std::optional<uri> parse_uri(std::string_view s) noexcept;

// name-addr or addr-spec with the header parameters that follow (From, To, Contact, Route,
// Record-Route, P-Asserted-Identity, Refer-To, ...).
struct address {
    std::string_view display_name; // as written (quotes kept), may be empty
    bool angle = false;            // name-addr form, URI in <>
    uri target;
    parameters params;             // header parameters after the URI (tag, expires, q, lr...)
    known_param tag;               // From/To (RFC 3261 §19.3)
    known_param expires;           // Contact (§20.10)
    known_param q;                 // Contact (§20.10)
    std::string_view text;
};

std::optional<address> parse_address(std::string_view element) noexcept;
// The same, also taking the display names real phones write that RFC 3261 does not allow (unquoted
// UTF-8, punctuation): for the NAT, which must find the address wherever a phone put it.
std::optional<address> parse_address_lenient(std::string_view element) noexcept;

// Calls f(element) for every comma-separated element of a list header value (commas inside quotes and
// <> do not count); returns false when quotes or angle brackets do not balance.
template <class F>
bool for_each_element(std::string_view value, F&& f)
{
    bool quoted = false;
    int angle = 0;
    std::size_t start = 0;
    const std::size_t n = value.size();
    for (std::size_t i = 0; i < n; ++i) {
        if (!quoted) {
            // Only quotes, angle brackets and commas matter to the split.
            i = static_cast<std::size_t>(find_first_of<'"', ',', '<', '>'>(value.data() + i, value.data() + n, value.data()) -
                                         value.data());
            if (i == n) {
                break;
            }
        }
        const char c = value[i];
        if (quoted) {
            if (c == '\\' && i + 1 < n) {
                ++i;
            } else if (c == '"') {
                quoted = false;
            }
            continue;
        }
        if (c == '"') {
            quoted = true;
        } else if (c == '<') {
            ++angle;
        } else if (c == '>') {
            if (--angle < 0) {
                return false;
            }
        } else if (angle == 0) { // ','
            f(trim_lws(value.substr(start, i - start)));
            start = i + 1;
        }
    }
    if (quoted || angle != 0) {
        return false;
    }
    f(trim_lws(value.substr(start)));
    return true;
}

// One Via element (RFC 3261 §20.42, RFC 3581 rport).
struct via {
    std::string_view protocol;  // "SIP"
    std::string_view version;   // "2.0"
    std::string_view transport; // "UDP", "TCP", "TLS", ...
    host_port sent_by;
    parameters params;
    known_param branch;   // §20.42
    known_param received; // §18.2.1
    known_param rport;    // RFC 3581
    known_param maddr;
    known_param ttl;
    std::string_view text;
};

std::optional<via> parse_via(std::string_view element) noexcept;

struct cseq {
    std::uint32_t number = 0; // below 2^31 (RFC 3261 §8.1.1.5)
    std::string_view method;
};

std::optional<cseq> parse_cseq(std::string_view value) noexcept;

// Call-ID = word [ "@" word ] (RFC 3261 §25.1).
bool valid_call_id(std::string_view value) noexcept;

struct media_type {
    std::string_view type;
    std::string_view subtype;
    parameters params;
};

std::optional<media_type> parse_media_type(std::string_view value) noexcept;

} // namespace sipalg::sip
