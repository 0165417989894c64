// See fields.hpp. Recursive-descent parsers that walk a value once, front to back, with a pointer and
// an end: each character is classified by a table as it is passed (text.hpp), so validating a field
// costs one pass, not a split followed by a check of every part. Grammar references are to the ABNF of
// RFC 3261 §25.1 unless stated.
#include "sip/fields.hpp"

#include <cstring>

namespace sipalg::sip {

namespace {

using cptr = const char*;

// The character classes of RFC 3261 §25.1 that URI parts are made of (escaped octets aside).
constexpr char_set user_chars("&=+$,;?/", class_unreserved);       // user = unreserved / user-unreserved
constexpr char_set password_chars("&=+$,", class_unreserved);
constexpr char_set param_chars("[]/:&+$", class_unreserved);        // paramchar
constexpr char_set header_chars("[]/?:+$&=", class_unreserved);     // hname, hvalue and their separators
constexpr char_set tel_chars("+-.()*#", class_unreserved);
constexpr char_set uric_chars(";/?:@&=+$,[]#", class_unreserved);   // absoluteURI (RFC 2396)
constexpr char_set scheme_chars("+-.", class_alnum);                // scheme = ALPHA *(ALPHA / DIGIT / "+" / "-" / ".")
constexpr char_set call_id_chars("()<>:\\\"/[]?{}", class_token); // word
constexpr char_set ipv6_reference_chars(":.[]", class_hex);          // what a bare or bracketed IPv6 address holds
constexpr char_set addr_spec_stops("?, \t\r\n");
constexpr char_set label_chars("-_", class_alnum);                  // a hostname label

std::string_view span(cptr from, cptr to) noexcept
{
    return {from, static_cast<std::size_t>(to - from)};
}

cptr skip(cptr p, cptr end, const char_set& set) noexcept
{
    return set.skip(p, end);
}

// Characters of `set` and escaped octets (%HH).
cptr skip_escaped(cptr p, cptr end, const char_set& set) noexcept
{
    for (;;) {
        p = set.skip(p, end);
        if (end - p < 3 || *p != '%' || !is_hex(p[1]) || !is_hex(p[2])) {
            return p;
        }
        p += 3;
    }
}

// A quoted-string (RFC 3261 §25.1) starting at p (which is '"'): the position after its closing quote,
// or null when it does not close.
cptr skip_quoted(cptr p, cptr end) noexcept
{
    for (++p; p < end; ++p) {
        if (*p == '\\') {
            if (end - p < 2) {
                return nullptr;
            }
            ++p;
        } else if (*p == '"') {
            return p + 1;
        }
    }
    return nullptr;
}

// port = 1*DIGIT, at most 65535 (five digits at most, so no overflow).
cptr scan_port(cptr p, cptr end, std::optional<std::uint16_t>& port) noexcept
{
    const cptr start = p;
    unsigned v = 0;
    while (p < end && is_digit(*p) && p - start < 5) {
        v = v * 10 + static_cast<unsigned>(*p - '0');
        ++p;
    }
    if (p == start || v > 65535 || (p < end && is_digit(*p))) {
        return nullptr;
    }
    port = static_cast<std::uint16_t>(v);
    return p;
}

// hostname = *( domainlabel "." ) toplabel [ "." ] from p, stopping at the first character that cannot
// continue it: labels of alphanumerics with '-' inside ('_' tolerated, as deployed stacks send it), a
// top label that starts with a letter. Null when malformed. No length limit: the SIP grammar has none,
// and the text is bounded by the message.
cptr scan_hostname(cptr p, cptr end) noexcept
{
    cptr top = nullptr;
    for (;;) {
        const cptr label = p;
        p = skip(p, end, label_chars);
        if (p == label) {
            break; // nothing, a leading or doubled dot, or the end after a trailing dot
        }
        if (*label == '-' || p[-1] == '-') {
            return nullptr;
        }
        top = label;
        if (p == end || *p != '.') {
            break;
        }
        ++p;
    }
    return top != nullptr && is_alpha(*top) ? p : nullptr;
}

// host = hostname / IPv4address / IPv6reference from p; fills host, kind and v4. Null when malformed.
cptr scan_host(cptr p, cptr end, host_port& hp) noexcept
{
    const cptr start = p;
    if (p < end && *p == '[') {
        const auto* close = static_cast<cptr>(std::memchr(p, ']', static_cast<std::size_t>(end - p)));
        if (close == nullptr || close - p < 2 || !valid_ipv6(span(p + 1, close))) {
            return nullptr;
        }
        hp.kind = host_kind::ipv6;
        hp.host = span(start, close + 1);
        return close + 1;
    }
    if (p < end && is_digit(*p)) {
        // A dotted quad, unless a hostname goes on after it ("1.2.3.4.example.com" or "9to5.example").
        const ipv4_scan v4 = scan_ipv4(p, end);
        const cptr q = v4.stop;
        if (q != nullptr && (q == end || !(label_chars(*q) || *q == '.'))) {
            hp.kind = host_kind::ipv4;
            hp.v4 = v4.address;
            hp.host = span(start, q);
            return q;
        }
    }
    p = scan_hostname(p, end);
    if (p == nullptr) {
        return nullptr;
    }
    hp.kind = host_kind::name;
    hp.host = span(start, p);
    return p;
}

// uri-parameters = *( ";" pname [ "=" pvalue ] ), both 1*paramchar, no white space anywhere.
cptr scan_uri_params(cptr p, cptr end) noexcept
{
    while (p < end && *p == ';') {
        const cptr name = p + 1;
        p = skip_escaped(name, end, param_chars);
        if (p == name) {
            return nullptr;
        }
        if (p < end && *p == '=') {
            const cptr value = p + 1;
            p = skip_escaped(value, end, param_chars);
            if (p == value) {
                return nullptr;
            }
        }
    }
    return p;
}

// gen-value = token / host / quoted-string (§25.1); a Via received parameter holds a bare IPv6 address
// (§20.42, RFC 5118 §4.5), so that counts too. Hostnames and IPv4 addresses are tokens already.
cptr scan_gen_value(cptr p, cptr end, bool& token) noexcept
{
    token = false;
    if (p < end && *p == '"') {
        return skip_quoted(p, end);
    }
    const cptr start = p;
    p = skip(p, end, token_chars);
    token = p != start;
    if (p < end && (*p == ':' || *p == '[' || *p == ']')) {
        token = false;
        p = skip(p, end, ipv6_reference_chars);
        std::string_view v = span(start, p);
        if (v.front() == '[') {
            if (v.size() < 3 || v.back() != ']') {
                return nullptr;
            }
            v = v.substr(1, v.size() - 2);
        }
        return valid_ipv6(v) ? p : nullptr;
    }
    return p == start ? nullptr : p;
}

// generic-param list: *( SEMI token [ EQUAL gen-value ] ) where SEMI and EQUAL may carry LWS (§25.1).
// Calls f(name, value, has_value, token) for each parameter; returns the position after the last one (before
// any trailing LWS), or null when a parameter is malformed.
template <class F>
cptr scan_header_params(cptr p, cptr end, F&& f) noexcept
{
    for (;;) {
        const cptr semi = skip_lws(p, end);
        if (semi == end || *semi != ';') {
            return p;
        }
        const cptr name = skip_lws(semi + 1, end);
        p = skip(name, end, token_chars);
        if (p == name) {
            return nullptr;
        }
        const cptr name_end = p;
        const cptr eq = skip_lws(p, end);
        if (eq < end && *eq == '=') {
            const cptr value = skip_lws(eq + 1, end);
            bool token = false;
            p = scan_gen_value(value, end, token);
            if (p == nullptr) {
                return nullptr;
            }
            f(span(name, name_end), span(value, p), true, token);
        } else {
            f(span(name, name_end), std::string_view{}, false, false);
        }
    }
}

// Records `value` in `k` unless a parameter of that name came earlier.
void keep(known_param& k, std::string_view value, bool has_value, bool token) noexcept
{
    if (!k.present) {
        k = {value, true, has_value, token};
    }
}

// SIP-URI / SIPS-URI after "sip:" or "sips:" (§19.1.1, §25.1).
bool sip_uri_at(cptr p, cptr end, uri& u) noexcept
{
    // userinfo = ( user / telephone-subscriber ) [ ":" password ] "@". The user part may hold ';', '?'
    // and '=' (user-unreserved), so it is only known to be one when an '@' follows it.
    const cptr user_end = skip_escaped(p, end, user_chars);
    if (user_end < end && *user_end == '@') {
        if (user_end == p) {
            return false;
        }
        u.user = span(p, user_end);
        p = user_end + 1;
    } else if (user_end < end && *user_end == ':') {
        const cptr password_end = skip_escaped(user_end + 1, end, password_chars);
        if (password_end < end && *password_end == '@') {
            if (user_end == p) {
                return false;
            }
            u.user = span(p, user_end);
            u.password = span(user_end + 1, password_end);
            p = password_end + 1;
        }
        // Otherwise the ':' is the port separator of a URI without userinfo.
    }
    // hostport = host [ ":" port ]
    const cptr host_start = p;
    p = scan_host(p, end, u.host);
    if (p == nullptr) {
        return false;
    }
    if (p < end && *p == ':') {
        p = scan_port(p + 1, end, u.host.port);
        if (p == nullptr) {
            return false;
        }
    }
    u.host.text = span(host_start, p);
    if (p < end && *p == ';') {
        const cptr params = p;
        p = scan_uri_params(p, end);
        if (p == nullptr) {
            return false;
        }
        u.params = parameters(span(params, p));
    }
    // headers = "?" header *( "&" header )
    if (p < end && *p == '?') {
        const cptr headers = p + 1;
        p = skip_escaped(headers, end, header_chars);
        u.headers = span(headers, p);
    }
    return p == end;
}

bool uri_at(std::string_view s, uri& u) noexcept
{
    u.text = s;
    const cptr begin = s.data();
    const cptr end = begin + s.size();
    // The common schemes without a search for the colon.
    if (s.size() > 4 && (s[0] | 0x20) == 's' && (s[1] | 0x20) == 'i' && (s[2] | 0x20) == 'p') {
        if (s[3] == ':') {
            u.scheme = uri_scheme::sip;
            u.scheme_text = s.substr(0, 3);
            return sip_uri_at(begin + 4, end, u);
        }
        if ((s[3] | 0x20) == 's' && s[4] == ':') {
            u.scheme = uri_scheme::sips;
            u.scheme_text = s.substr(0, 4);
            return sip_uri_at(begin + 5, end, u);
        }
    }
    if (s.empty() || !is_alpha(s.front())) {
        return false;
    }
    const cptr colon = skip(begin, end, scheme_chars);
    if (colon == end || *colon != ':') {
        return false;
    }
    u.scheme_text = span(begin, colon);
    const cptr rest = colon + 1;
    if (iequals(u.scheme_text, "tel")) {
        // RFC 3966, lightly: the number, then parameters as in a SIP URI.
        u.scheme = uri_scheme::tel;
        const cptr number_end = skip_escaped(rest, end, tel_chars);
        if (number_end == rest) {
            return false;
        }
        u.user = span(rest, number_end);
        const cptr params_end = scan_uri_params(number_end, end);
        if (params_end != end) {
            return false;
        }
        u.params = parameters(span(number_end, end));
        return true;
    }
    if (iequals(u.scheme_text, "sip") || iequals(u.scheme_text, "sips")) {
        return false; // "sip:" and "sips:" were taken above; this is a different spelling
    }
    // absoluteURI (RFC 2396): hier-part or opaque-part, of uric characters.
    u.scheme = uri_scheme::other;
    return rest != end && skip_escaped(rest, end, uric_chars) == end;
}

bool address_at(std::string_view element, address& a) noexcept
{
    a.text = element;
    const cptr begin = element.data();
    const cptr end = begin + element.size();
    cptr p = skip_lws(begin, end);
    // name-addr = [ display-name ] LAQUOT addr-spec RAQUOT; an addr-spec alone starts with its scheme.
    cptr langle = nullptr;
    if (p < end && *p == '"') {
        const cptr q = skip_quoted(p, end);
        if (q == nullptr) {
            return false;
        }
        a.display_name = span(p, q);
        langle = skip_lws(q, end);
        if (langle == end || *langle != '<') {
            return false;
        }
    } else if (p < end && *p == '<') {
        langle = p;
    } else {
        const cptr first = skip(p, end, token_chars);
        if (first == end || *first != ':') {
            // Display-name tokens separated by LWS, then '<'.
            const cptr display = p;
            cptr t = first;
            for (;;) {
                if (t == p) {
                    return false;
                }
                const cptr next = skip_lws(t, end);
                if (next < end && *next == '<') {
                    a.display_name = span(display, t);
                    langle = next;
                    break;
                }
                if (next == t || next == end) {
                    return false;
                }
                p = next;
                t = skip(p, end, token_chars);
            }
        }
    }
    std::string_view uri_text;
    cptr after = nullptr;
    if (langle != nullptr) {
        a.angle = true;
        const auto* rangle = static_cast<cptr>(std::memchr(langle, '>', static_cast<std::size_t>(end - langle)));
        if (rangle == nullptr) {
            return false;
        }
        uri_text = span(langle + 1, rangle);
        after = rangle + 1;
    } else {
        // addr-spec alone: its parameters are header parameters, and it may hold no ',', '?' or ';'
        // of its own (RFC 3261 §20.10).
        const auto* semi = static_cast<cptr>(std::memchr(p, ';', static_cast<std::size_t>(end - p)));
        after = semi == nullptr ? end : semi;
        uri_text = trim_lws_back(span(p, after));
        if (contains_any(uri_text, addr_spec_stops)) {
            return false;
        }
    }
    // Every URI character class leaves out white space, so a URI with LWS inside fails here.
    if (uri_text.empty() || !uri_at(uri_text, a.target)) {
        return false;
    }
    const cptr params = skip_lws(after, end);
    const cptr params_end = scan_header_params(params, end, [&a](std::string_view name, std::string_view value, bool has, bool token) {
        switch (name.size()) {
        case 1:
            if ((name[0] | 0x20) == 'q') {
                keep(a.q, value, has, token);
            }
            break;
        case 3:
            if (iequals(name, "tag")) {
                keep(a.tag, value, has, token);
            }
            break;
        case 7:
            if (iequals(name, "expires")) {
                keep(a.expires, value, has, token);
            }
            break;
        default:
            break;
        }
    });
    if (params_end == nullptr || skip_lws(params_end, end) != end) {
        return false;
    }
    a.params = parameters(span(params, params_end));
    return true;
}

bool via_at(std::string_view element, via& v) noexcept
{
    v.text = element;
    const cptr end = element.data() + element.size();
    cptr p = skip_lws(element.data(), end);
    // sent-protocol = protocol-name SLASH protocol-version SLASH transport, SLASH with optional LWS.
    const auto field = [&p, end](std::string_view& out, bool slash_after) {
        const cptr start = p;
        p = skip(p, end, token_chars);
        out = span(start, p);
        if (out.empty()) {
            return false;
        }
        if (!slash_after) {
            return true;
        }
        p = skip_lws(p, end);
        if (p == end || *p != '/') {
            return false;
        }
        p = skip_lws(p + 1, end);
        return true;
    };
    if (!field(v.protocol, true) || !field(v.version, true) || !field(v.transport, false)) {
        return false;
    }
    // LWS sent-by, sent-by = host [ COLON port ] where COLON may carry LWS on both sides.
    const cptr host = skip_lws(p, end);
    if (host == p) {
        return false;
    }
    p = scan_host(host, end, v.sent_by);
    if (p == nullptr) {
        return false;
    }
    if (const cptr colon = skip_lws(p, end); colon < end && *colon == ':') {
        p = scan_port(skip_lws(colon + 1, end), end, v.sent_by.port);
        if (p == nullptr) {
            return false;
        }
    }
    v.sent_by.text = span(host, p);
    const cptr params = skip_lws(p, end);
    const cptr params_end = scan_header_params(params, end, [&v](std::string_view name, std::string_view value, bool has, bool token) {
        switch (name.size()) {
        case 3:
            if (iequals(name, "ttl")) {
                keep(v.ttl, value, has, token);
            }
            break;
        case 5:
            if (iequals(name, "rport")) {
                keep(v.rport, value, has, token);
            } else if (iequals(name, "maddr")) {
                keep(v.maddr, value, has, token);
            }
            break;
        case 6:
            if (iequals(name, "branch")) {
                keep(v.branch, value, has, token);
            }
            break;
        case 8:
            if (iequals(name, "received")) {
                keep(v.received, value, has, token);
            }
            break;
        default:
            break;
        }
    });
    if (params_end == nullptr || skip_lws(params_end, end) != end) {
        return false;
    }
    v.params = parameters(span(params, params_end));
    return true;
}

} // namespace

bool valid_hostname(std::string_view s) noexcept
{
    const cptr end = s.data() + s.size();
    const cptr stop = scan_hostname(s.data(), end);
    return stop != nullptr && stop == end;
}

bool valid_ipv6(std::string_view s) noexcept
{
    if (s.size() < 2 || s.size() > 45) {
        return false;
    }
    // An embedded IPv4 address takes the last 32 bits (RFC 4291 §2.2 form 3).
    unsigned groups_needed = 8;
    const std::size_t last_colon = s.rfind(':');
    if (last_colon == std::string_view::npos) {
        return false;
    }
    if (s.find('.', last_colon) != std::string_view::npos) {
        if (!parse_ipv4(s.substr(last_colon + 1))) {
            return false;
        }
        groups_needed = 6;
        s = s.substr(0, last_colon + 1);
        // Keep a trailing ':' only when it is part of "::".
        if (s.size() >= 2 && s[s.size() - 2] == ':') {
            // "::1.2.3.4" or "x:::1.2.3.4" (RFC 5118 §4.10): the "::" stays.
        } else {
            s.remove_suffix(1);
        }
    }
    // RFC 5118 §4.10: tolerate ":::" before an embedded IPv4 address as "::".
    std::size_t triple = s.find(":::");
    std::string_view head = s;
    std::string_view tail;
    bool compressed = false;
    if (triple != std::string_view::npos) {
        if (groups_needed != 6 || triple + 3 != s.size()) {
            return false;
        }
        head = s.substr(0, triple);
        compressed = true;
    } else if (const std::size_t dbl = s.find("::"); dbl != std::string_view::npos) {
        if (s.find("::", dbl + 1) != std::string_view::npos) {
            return false;
        }
        head = s.substr(0, dbl);
        tail = s.substr(dbl + 2);
        compressed = true;
    }
    unsigned groups = 0;
    const auto count = [&groups](std::string_view part) {
        if (part.empty()) {
            return true;
        }
        std::size_t start = 0;
        for (std::size_t i = 0; i <= part.size(); ++i) {
            if (i == part.size() || part[i] == ':') {
                const std::string_view g = part.substr(start, i - start);
                if (g.empty() || g.size() > 4) {
                    return false;
                }
                for (char c : g) {
                    if (!is_hex(c)) {
                        return false;
                    }
                }
                ++groups;
                start = i + 1;
            }
        }
        return true;
    };
    if (!count(head) || !count(tail)) {
        return false;
    }
    return compressed ? groups < groups_needed : groups == groups_needed;
}

std::optional<host_port> parse_host_port(std::string_view s) noexcept
{
    std::optional<host_port> hp(std::in_place);
    const cptr end = s.data() + s.size();
    cptr p = scan_host(s.data(), end, *hp);
    if (p != nullptr && p < end && *p == ':') {
        p = scan_port(p + 1, end, hp->port);
    }
    if (p != end) {
        hp.reset();
        return hp;
    }
    hp->text = s;
    return hp;
}

std::optional<parameter> parameters::next(scanner& s) noexcept
{
    // A parameter as the list iteration sees it, for text the parsers above have validated; on other
    // text it stops where the grammar breaks. pname is 1*paramchar (URI) or token (headers): both a
    // run up to one of these separators.
    static constexpr char_set name_stops(" \t\r\n;=,?>");
    static constexpr char_set value_stops(" \t\r\n;,?>");
    parameter p;
    const std::size_t start = s.pos();
    p.name = s.until(name_stops);
    if (p.name.empty()) {
        return std::nullopt;
    }
    if (s.eat('=')) {
        p.has_value = true;
        if (s.peek() == '"') {
            p.value = s.quoted();
            if (p.value.empty()) {
                return std::nullopt;
            }
        } else {
            p.value = s.until(value_stops);
        }
    }
    p.text = s.text().substr(start, s.pos() - start);
    s.skip_lws();
    return p;
}

std::optional<parameter> parameters::find(std::string_view name) const noexcept
{
    std::optional<parameter> found;
    for_each([&](const parameter& p) {
        if (!found && iequals(p.name, name)) {
            found = p;
        }
    });
    return found;
}

bool parameters::well_formed(param_syntax syntax) const noexcept
{
    const cptr end = text_.data() + text_.size();
    if (syntax == param_syntax::uri) {
        return scan_uri_params(text_.data(), end) == end;
    }
    const cptr last = scan_header_params(text_.data(), end, [](std::string_view, std::string_view, bool, bool) {});
    return last != nullptr && skip_lws(last, end) == end;
}

std::optional<uri> parse_uri(std::string_view s) noexcept
{
    // One object, filled in place and returned as it is (no copy of the views).
    std::optional<uri> u(std::in_place);
    if (!uri_at(s, *u)) {
        u.reset();
    }
    return u;
}

std::optional<address> parse_address(std::string_view element) noexcept
{
    std::optional<address> a(std::in_place);
    if (!address_at(element, *a)) {
        a.reset();
    }
    return a;
}

std::optional<address> parse_address_lenient(std::string_view element) noexcept
{
    std::optional<address> a(std::in_place);
    if (address_at(element, *a)) {
        return a;
    }
    // A display name real phones write without quotes though it is no token list: UTF-8 ("Jürgen"),
    // or punctuation. Whatever comes before the first '<' stands for it when it holds no quote or
    // angle bracket of its own.
    const std::size_t langle = element.find('<');
    const std::string_view display = element.substr(0, langle == std::string_view::npos ? 0 : langle);
    if (langle == std::string_view::npos || langle == 0 || display.find_first_of("\"<>") != std::string_view::npos ||
        !address_at(element.substr(langle), *a)) {
        a.reset();
        return a;
    }
    a->display_name = trim_lws(display);
    a->text = element;
    return a;
}

std::optional<via> parse_via(std::string_view element) noexcept
{
    std::optional<via> v(std::in_place);
    if (!via_at(element, *v)) {
        v.reset();
    }
    return v;
}

std::optional<cseq> parse_cseq(std::string_view value) noexcept
{
    // CSeq = 1*DIGIT LWS Method (§20.16), the number below 2^31 (§8.1.1.5).
    const cptr end = value.data() + value.size();
    const cptr digits = skip_lws(value.data(), end);
    cptr p = digits;
    while (p < end && is_digit(*p)) {
        ++p;
    }
    const auto n = parse_number(span(digits, p), 10, 0x7fffffffu);
    const cptr method = skip_lws(p, end);
    if (!n || method == p) {
        return std::nullopt;
    }
    p = skip(method, end, token_chars);
    if (p == method || skip_lws(p, end) != end) {
        return std::nullopt;
    }
    return cseq{static_cast<std::uint32_t>(*n), span(method, p)};
}

bool valid_call_id(std::string_view value) noexcept
{
    // Call-ID = word [ "@" word ]; word = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" /
    // "'" / "~" / "(" / ")" / "<" / ">" / ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}")
    const cptr end = value.data() + value.size();
    const cptr first = skip(value.data(), end, call_id_chars);
    if (first == value.data()) {
        return false;
    }
    if (first == end) {
        return true;
    }
    if (*first != '@') {
        return false;
    }
    const cptr second = skip(first + 1, end, call_id_chars);
    return second != first + 1 && second == end;
}

std::optional<media_type> parse_media_type(std::string_view value) noexcept
{
    // media-type = m-type SLASH m-subtype *(SEMI m-parameter), SLASH with optional LWS (§20.15).
    std::optional<media_type> m(std::in_place);
    const cptr end = value.data() + value.size();
    cptr p = skip_lws(value.data(), end);
    cptr t = skip(p, end, token_chars);
    m->type = span(p, t);
    p = skip_lws(t, end);
    if (m->type.empty() || p == end || *p != '/') {
        m.reset();
        return m;
    }
    p = skip_lws(p + 1, end);
    t = skip(p, end, token_chars);
    m->subtype = span(p, t);
    const cptr params = skip_lws(t, end);
    const cptr params_end = scan_header_params(params, end, [](std::string_view, std::string_view, bool, bool) {});
    if (m->subtype.empty() || params_end == nullptr || skip_lws(params_end, end) != end) {
        m.reset();
        return m;
    }
    m->params = parameters(span(params, params_end));
    return m;
}

} // namespace sipalg::sip
