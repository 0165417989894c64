// See fields.hpp. Small recursive-descent parsers over string views; grammar references are to the
// ABNF of RFC 3261 §25.1 unless stated.
#include "sip/fields.hpp"

#include <algorithm>

namespace sipalg::sip {

namespace {

// The character classes of RFC 3261 §25.1 that URI parts are made of (escaped octets aside).
constexpr char_set user_chars("&=+$,;?/", class_unreserved);       // user = unreserved / user-unreserved
constexpr char_set password_chars("&=+$,", class_unreserved);
constexpr char_set param_chars("[]/:&+$", class_unreserved);        // paramchar
constexpr char_set header_chars("[]/?:+$&=", class_unreserved);     // hname, hvalue and their separators
constexpr char_set tel_chars("+-.()*#", class_unreserved);
constexpr char_set uric_chars(";/?:@&=+$,[]#", class_unreserved);   // absoluteURI (RFC 2396)
constexpr char_set call_id_chars("()<>:\\\"/[]?{}", class_token); // word
constexpr char_set param_name_stops(" \t\r\n;=,?>");
constexpr char_set param_value_stops(" \t\r\n;,?>");
constexpr char_set host_stops(" \t\r\n:;,");
constexpr char_set close_bracket("]");
constexpr char_set hostname_chars("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");
constexpr char_set addr_spec_stops("?, \t\r\n");

// Every character is in `allowed` or starts an escaped octet (%HH).
bool all_escaped_in(std::string_view s, const char_set& allowed) noexcept
{
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (allowed(c)) {
            continue;
        }
        if (c == '%' && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
            i += 2;
            continue;
        }
        return false;
    }
    return true;
}

std::optional<ipv4_address> dotted_quad(std::string_view s) noexcept
{
    return parse_ipv4(s);
}

// RFC 3261: gen-value = token / host / quoted-string. A Via received parameter holds a bare IPv6
// address (§20.42, RFC 5118 §4.5), so that counts too.
bool valid_gen_value(std::string_view v) noexcept
{
    if (v.empty()) {
        return false;
    }
    if (v.front() == '"') {
        scanner s(v);
        return s.quoted().size() == v.size();
    }
    if (is_token(v)) {
        return true;
    }
    if (v.front() == '[') {
        return v.back() == ']' && valid_ipv6(v.substr(1, v.size() - 2));
    }
    return valid_ipv6(v) || parse_ipv4(v).has_value() || valid_hostname(v);
}

// display-name = *(token LWS) / quoted-string
bool valid_display_name(std::string_view d) noexcept
{
    d = trim_lws(d);
    if (d.empty()) {
        return true;
    }
    if (d.front() == '"') {
        scanner s(d);
        return s.quoted().size() == d.size();
    }
    scanner s(d);
    while (!s.done()) {
        if (s.token().empty()) {
            return false;
        }
        s.skip_lws();
    }
    return true;
}

} // namespace

bool valid_hostname(std::string_view s) noexcept
{
    // hostname = *( domainlabel "." ) toplabel [ "." ]; labels of alphanumerics and inner '-' ('_'
    // tolerated); the top label starts with a letter. No length limit: the SIP grammar has none, and
    // the view is bounded by the message.
    if (!s.empty() && s.back() == '.') {
        s.remove_suffix(1);
    }
    if (s.empty() || s.front() == '.' || s.front() == '-') {
        return false;
    }
    std::size_t label_start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '.') {
            if (i == label_start || s[i - 1] == '-' || (i + 1 < s.size() && s[i + 1] == '-')) {
                return false;
            }
            label_start = i + 1;
        } else if (!hostname_chars(c)) {
            return false;
        }
    }
    return label_start < s.size() && s.back() != '-' && is_alpha(s[label_start]);
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
        if (!dotted_quad(s.substr(last_colon + 1))) {
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

namespace {

// The host alone: a bracketed IPv6 reference, a dotted quad or a hostname.
bool classify_host(std::string_view host, host_port& hp) noexcept
{
    hp.host = host;
    if (!host.empty() && host.front() == '[') {
        hp.kind = host_kind::ipv6;
        return host.size() > 2 && host.back() == ']' && valid_ipv6(host.substr(1, host.size() - 2));
    }
    if (const auto v4 = dotted_quad(host)) {
        hp.kind = host_kind::ipv4;
        hp.v4 = *v4;
        return true;
    }
    hp.kind = host_kind::name;
    return valid_hostname(host);
}

std::optional<std::uint16_t> port_number(std::string_view text) noexcept
{
    const auto port = parse_number(text, 5, 65535);
    if (!port) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(*port);
}

} // namespace

std::optional<host_port> parse_host_port(std::string_view s) noexcept
{
    host_port hp;
    hp.text = s;
    std::size_t host_end = 0;
    if (!s.empty() && s.front() == '[') {
        host_end = s.find(']');
        host_end = host_end == std::string_view::npos ? s.size() : host_end + 1;
    } else {
        host_end = std::min(s.find(':'), s.size());
    }
    if (!classify_host(s.substr(0, host_end), hp)) {
        return std::nullopt;
    }
    if (host_end < s.size()) {
        if (s[host_end] != ':') {
            return std::nullopt;
        }
        hp.port = port_number(s.substr(host_end + 1));
        if (!hp.port) {
            return std::nullopt;
        }
    }
    return hp;
}

std::optional<parameter> parameters::next(scanner& s) noexcept
{
    parameter p;
    const std::size_t start = s.pos();
    // pname = 1*paramchar (URI) or token (headers): both are a run of these characters.
    p.name = s.until(param_name_stops);
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
            p.value = s.until(param_value_stops);
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
    scanner s(text_);
    s.skip_lws();
    while (!s.done()) {
        if (!s.eat(';')) {
            return false;
        }
        const auto p = next(s);
        if (!p) {
            return false;
        }
        if (syntax == param_syntax::header) {
            // generic-param = token [ EQUAL gen-value ]; gen-value = token / host / quoted-string.
            if (!is_token(p->name) || (p->has_value && !valid_gen_value(p->value))) {
                return false;
            }
        } else if (!all_escaped_in(p->name, param_chars) ||
                   (p->has_value && (p->value.empty() || !all_escaped_in(p->value, param_chars)))) {
            // uri-parameter: pname [ "=" pvalue ], both 1*paramchar.
            return false;
        }
        s.skip_lws();
    }
    return true;
}

std::optional<uri> parse_uri(std::string_view s) noexcept
{
    uri u;
    u.text = s;
    const std::size_t colon = s.find(':');
    if (colon == std::string_view::npos || colon == 0) {
        return std::nullopt;
    }
    u.scheme_text = s.substr(0, colon);
    // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    if (!is_alpha(u.scheme_text.front())) {
        return std::nullopt;
    }
    for (char c : u.scheme_text) {
        if (!(is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.')) {
            return std::nullopt;
        }
    }
    std::string_view rest = s.substr(colon + 1);
    if (iequals(u.scheme_text, "sip") || iequals(u.scheme_text, "sips")) {
        u.scheme = iequals(u.scheme_text, "sip") ? uri_scheme::sip : uri_scheme::sips;
        // The userinfo runs to the last '@': neither host, parameters nor headers may hold an
        // unescaped '@', while the user part may hold '?', ';' and ',' (RFC 3261 user-unreserved).
        if (const std::size_t at = rest.rfind('@'); at != std::string_view::npos) {
            const std::string_view userinfo = rest.substr(0, at);
            const std::size_t pw = userinfo.find(':');
            u.user = userinfo.substr(0, pw);
            if (pw != std::string_view::npos) {
                u.password = userinfo.substr(pw + 1);
                if (!all_escaped_in(u.password, password_chars)) {
                    return std::nullopt;
                }
            }
            if (u.user.empty() || !all_escaped_in(u.user, user_chars)) {
                return std::nullopt;
            }
            rest = rest.substr(at + 1);
        }
        // Headers after '?'.
        if (const std::size_t q = rest.find('?'); q != std::string_view::npos) {
            u.headers = rest.substr(q + 1);
            rest = rest.substr(0, q);
            if (!all_escaped_in(u.headers, header_chars)) {
                return std::nullopt;
            }
        }
        // hostport, then uri-parameters. An IPv6 reference may hold ':' and ';' never.
        std::size_t end = 0;
        if (!rest.empty() && rest.front() == '[') {
            end = rest.find(']');
            if (end == std::string_view::npos) {
                return std::nullopt;
            }
        }
        const std::size_t semi = rest.find(';', end);
        const auto hp = parse_host_port(rest.substr(0, semi));
        if (!hp) {
            return std::nullopt;
        }
        u.host = *hp;
        if (semi != std::string_view::npos) {
            u.params = parameters(rest.substr(semi));
            // uri-parameters: no white space anywhere, every parameter non-empty.
            if (contains_any(u.params.text(), lws_chars) ||
                !u.params.well_formed(param_syntax::uri)) {
                return std::nullopt;
            }
        }
        return u;
    }
    if (iequals(u.scheme_text, "tel")) {
        u.scheme = uri_scheme::tel;
        const std::size_t semi = rest.find(';');
        u.user = rest.substr(0, semi);
        if (u.user.empty() || !all_escaped_in(u.user, tel_chars)) {
            return std::nullopt;
        }
        if (semi != std::string_view::npos) {
            u.params = parameters(rest.substr(semi));
            if (!u.params.well_formed(param_syntax::uri)) {
                return std::nullopt;
            }
        }
        return u;
    }
    // absoluteURI (RFC 2396): hier-part or opaque-part, of uric characters.
    if (rest.empty() || !all_escaped_in(rest, uric_chars)) {
        return std::nullopt;
    }
    return u;
}

std::optional<address> parse_address(std::string_view element) noexcept
{
    address a;
    a.text = element;
    scanner s(element);
    s.skip_lws();
    std::string_view uri_text;
    std::string_view after;
    const std::size_t langle = [&] {
        // '<' outside a quoted display name.
        bool quoted = false;
        for (std::size_t i = 0; i < element.size(); ++i) {
            const char c = element[i];
            if (quoted) {
                if (c == '\\') {
                    ++i;
                } else if (c == '"') {
                    quoted = false;
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == '<') {
                return i;
            }
        }
        return std::string_view::npos;
    }();
    if (langle != std::string_view::npos) {
        // name-addr: [display-name] "<" addr-spec ">"; no white space inside the brackets.
        a.angle = true;
        a.display_name = trim_lws(element.substr(0, langle));
        if (!valid_display_name(a.display_name)) {
            return std::nullopt;
        }
        const std::size_t rangle = element.find('>', langle);
        if (rangle == std::string_view::npos) {
            return std::nullopt;
        }
        uri_text = element.substr(langle + 1, rangle - langle - 1);
        after = element.substr(rangle + 1);
    } else {
        // addr-spec alone: its parameters are header parameters, and it may hold no ',', '?' or ';'
        // of its own (RFC 3261 §20.10).
        const std::string_view body = trim_lws_front(element);
        const std::size_t semi = body.find(';');
        uri_text = trim_lws_back(body.substr(0, semi));
        after = semi == std::string_view::npos ? std::string_view{} : body.substr(semi);
        if (contains_any(uri_text, addr_spec_stops)) {
            return std::nullopt;
        }
    }
    if (uri_text.empty() || contains_any(uri_text, lws_chars)) {
        return std::nullopt;
    }
    const auto u = parse_uri(uri_text);
    if (!u) {
        return std::nullopt;
    }
    a.target = *u;
    after = trim_lws(after);
    a.params = parameters(after);
    if (!after.empty() && !a.params.well_formed(param_syntax::header)) {
        return std::nullopt;
    }
    return a;
}

std::optional<via> parse_via(std::string_view element) noexcept
{
    via v;
    v.text = element;
    scanner s(element);
    s.skip_lws();
    v.protocol = s.token();
    if (v.protocol.empty() || !s.eat('/')) {
        return std::nullopt;
    }
    v.version = s.token();
    if (v.version.empty() || !s.eat('/')) {
        return std::nullopt;
    }
    v.transport = s.token();
    if (v.transport.empty()) {
        return std::nullopt;
    }
    // LWS, then sent-by = host [ COLON port ], where COLON may carry LWS on both sides.
    const std::size_t before = s.pos();
    s.skip_lws();
    if (s.pos() == before) {
        return std::nullopt;
    }
    const std::size_t start = s.pos();
    if (s.peek() == '[') {
        s.until(close_bracket);
        if (!s.eat_exact(']')) {
            return std::nullopt;
        }
    } else {
        s.until(host_stops);
    }
    if (!classify_host(element.substr(start, s.pos() - start), v.sent_by)) {
        return std::nullopt;
    }
    if (s.eat(':')) {
        const std::size_t port_start = s.pos();
        while (is_digit(s.peek())) {
            s.advance(1);
        }
        v.sent_by.port = port_number(element.substr(port_start, s.pos() - port_start));
        if (!v.sent_by.port) {
            return std::nullopt;
        }
    }
    v.sent_by.text = element.substr(start, s.pos() - start);
    s.skip_lws();
    v.params = parameters(s.rest());
    if (!v.params.well_formed(param_syntax::header)) {
        return std::nullopt;
    }
    return v;
}

std::optional<cseq> parse_cseq(std::string_view value) noexcept
{
    scanner s(value);
    s.skip_lws();
    const std::size_t start = s.pos();
    while (is_digit(s.peek())) {
        s.advance(1);
    }
    const auto n = parse_number(value.substr(start, s.pos() - start), 10, 0x7fffffffu);
    const std::size_t before = s.pos();
    s.skip_lws();
    if (!n || s.pos() == before) {
        return std::nullopt;
    }
    cseq c;
    c.number = static_cast<std::uint32_t>(*n);
    c.method = s.token();
    s.skip_lws();
    if (c.method.empty() || !s.done()) {
        return std::nullopt;
    }
    return c;
}

bool valid_call_id(std::string_view value) noexcept
{
    // word = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" / "(" / ")" /
    //        "<" / ">" / ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}")
    const auto is_word = [](std::string_view w) {
        if (w.empty()) {
            return false;
        }
        for (char c : w) {
            if (!call_id_chars(c)) {
                return false;
            }
        }
        return true;
    };
    const std::size_t at = value.find('@');
    if (at == std::string_view::npos) {
        return is_word(value);
    }
    return is_word(value.substr(0, at)) && is_word(value.substr(at + 1));
}

std::optional<media_type> parse_media_type(std::string_view value) noexcept
{
    scanner s(value);
    s.skip_lws();
    media_type m;
    m.type = s.token();
    if (m.type.empty() || !s.eat('/')) {
        return std::nullopt;
    }
    m.subtype = s.token();
    if (m.subtype.empty()) {
        return std::nullopt;
    }
    s.skip_lws();
    m.params = parameters(s.rest());
    if (!m.params.well_formed(param_syntax::header)) {
        return std::nullopt;
    }
    return m;
}

} // namespace sipalg::sip
