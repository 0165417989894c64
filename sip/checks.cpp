// See checks.hpp. One pass over the start line, one over the headers (each checked header's value is
// parsed once), one over the SDP lines.
#include "sip/checks.hpp"

#include "sip/fields.hpp"
#include "sip/sdp.hpp"
#include "sip/text.hpp"

namespace sipalg::sip {

namespace {

constexpr std::array check_names{
#define SIPALG_X(id, option) std::string_view(option),
    SIPALG_SIP_CHECKS(SIPALG_X)
#undef SIPALG_X
};

// The FortiOS check for a malformed header of each type this code validates.
check malformed_check(header_type t) noexcept
{
    switch (t) {
    case header_type::via:
        return check::malformed_header_via;
    case header_type::from:
        return check::malformed_header_from;
    case header_type::to:
        return check::malformed_header_to;
    case header_type::call_id:
        return check::malformed_header_call_id;
    case header_type::cseq:
        return check::malformed_header_cseq;
    case header_type::rack:
        return check::malformed_header_rack;
    case header_type::rseq:
        return check::malformed_header_rseq;
    case header_type::contact:
        return check::malformed_header_contact;
    case header_type::record_route:
        return check::malformed_header_record_route;
    case header_type::route:
        return check::malformed_header_route;
    case header_type::expires:
        return check::malformed_header_expires;
    case header_type::content_type:
        return check::malformed_header_content_type;
    case header_type::content_length:
        return check::malformed_header_content_length;
    case header_type::max_forwards:
        return check::malformed_header_max_forwards;
    case header_type::allow:
        return check::malformed_header_allow;
    case header_type::p_asserted_identity:
        return check::malformed_header_p_asserted_identity;
    default:
        return check::count_;
    }
}

bool is_sip_version(std::string_view v) noexcept
{
    return iequals(v, "SIP/2.0");
}

constexpr std::uint64_t max_delta_seconds = 0xffffffffu; // RFC 3261 §20.19: up to (2**32)-1

bool valid_delta_seconds(std::string_view v) noexcept
{
    return parse_number(v, 10, max_delta_seconds).has_value();
}

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
bool valid_qvalue(std::string_view v) noexcept
{
    if (v.empty() || v.size() > 5 || (v[0] != '0' && v[0] != '1')) {
        return false;
    }
    if (v.size() == 1) {
        return true;
    }
    if (v[1] != '.') {
        return false;
    }
    for (char c : v.substr(2)) {
        if (!is_digit(c) || (v[0] == '1' && c != '0')) {
            return false;
        }
    }
    return true;
}

// received = IPv4address / IPv6address (RFC 3261 §20.42; RFC 5118 §4.5 also shows it bracketed).
bool valid_received(std::string_view v) noexcept
{
    if (parse_ipv4(v)) {
        return true;
    }
    if (v.size() > 2 && v.front() == '[' && v.back() == ']') {
        v = v.substr(1, v.size() - 2);
    }
    return valid_ipv6(v);
}

const char* via_problem(std::string_view element) noexcept
{
    const auto v = parse_via(element);
    if (!v) {
        return "not SIP/2.0/transport sent-by[;params]";
    }
    if (!iequals(v->protocol, "SIP") || v->version != "2.0") {
        return "protocol is not SIP/2.0";
    }
    if (v->branch.present && !v->branch.token) {
        return "branch is not a token";
    }
    if (v->received.present && (!v->received.has_value || !valid_received(v->received.value))) {
        return "received is not an IP address";
    }
    if (v->rport.present && v->rport.has_value && !parse_number(v->rport.value, 5, 65535)) {
        return "rport is not a port";
    }
    if (v->ttl.present && (!v->ttl.has_value || !parse_number(v->ttl.value, 3, 255))) {
        return "ttl is not 0..255";
    }
    if (v->maddr.present) {
        const auto host = v->maddr.has_value ? parse_host_port(v->maddr.value) : std::nullopt;
        if (!host || host->port) {
            return "maddr is not a host";
        }
    }
    return nullptr;
}

const char* address_problem(std::string_view element, header_type t) noexcept
{
    const auto a = parse_address(element);
    if (!a) {
        return "not a name-addr or addr-spec";
    }
    if ((t == header_type::route || t == header_type::record_route) && !a->angle) {
        return "not a name-addr (<URI>)";
    }
    if ((t == header_type::from || t == header_type::to) && a->tag.present && !a->tag.token) {
        return "tag is not a token";
    }
    if (t == header_type::contact) {
        if (a->expires.present && (!a->expires.has_value || !valid_delta_seconds(a->expires.value))) {
            return "expires is not delta-seconds";
        }
        if (a->q.present && (!a->q.has_value || !valid_qvalue(a->q.value))) {
            return "q is not a qvalue";
        }
    }
    return nullptr;
}

// token *(COMMA token), or empty; COMMA may carry LWS on both sides.
bool valid_token_list(std::string_view v) noexcept
{
    const char* const end = v.data() + v.size();
    const char* p = skip_lws(v.data(), end);
    if (p == end) {
        return true;
    }
    for (;;) {
        const char* const t = token_chars.skip(p, end);
        if (t == p) {
            return false;
        }
        p = t;
        if (p < end && *p == ',') {
            p = skip_lws(p + 1, end);
            continue;
        }
        p = skip_lws(p, end);
        if (p == end) {
            return true;
        }
        if (*p != ',') {
            return false;
        }
        p = skip_lws(p + 1, end);
    }
}

// A list header: every element must pass `element_problem`; an empty element is malformed.
template <class F>
const char* list_problem(std::string_view value, F&& element_problem)
{
    const char* problem = nullptr;
    const bool balanced = for_each_element(value, [&](std::string_view e) {
        if (problem == nullptr) {
            problem = e.empty() ? "empty list element" : element_problem(e);
        }
    });
    return balanced ? problem : "unbalanced quotes or angle brackets";
}

// The problem with one header's value, or null.
const char* header_problem(const message& m, const header& h) noexcept
{
    const std::string_view v = m.value(h);
    switch (h.type) {
    case header_type::via:
        return list_problem(v, [](std::string_view e) { return via_problem(e); });
    case header_type::from:
    case header_type::to:
        // One address: a comma outside quotes and <> makes it fail to parse as one.
        return v.empty() ? "empty" : address_problem(v, h.type);
    case header_type::contact:
        if (v == "*") {
            return nullptr;
        }
        [[fallthrough]];
    case header_type::record_route:
    case header_type::route:
    case header_type::p_asserted_identity:
        if (v.empty()) {
            return "empty";
        }
        return list_problem(v, [&](std::string_view e) { return address_problem(e, h.type); });
    case header_type::call_id:
        return valid_call_id(v) ? nullptr : "not word[@word]";
    case header_type::cseq: {
        const auto c = parse_cseq(v);
        if (!c) {
            return "not a number below 2^31 and a method";
        }
        if (m.is_request() && c->method != m.method_text()) {
            return "method differs from the request line";
        }
        return nullptr;
    }
    case header_type::rack: {
        // RAck = response-num LWS CSeq-num LWS Method (RFC 3262 §7.2)
        scanner s(v);
        const auto num = [&s]() {
            const std::size_t start = s.pos();
            while (is_digit(s.peek())) {
                s.advance(1);
            }
            return parse_number(s.text().substr(start, s.pos() - start), 10, 0x7fffffffu);
        };
        const auto rseq = num();
        s.skip_lws();
        const auto cseq = num();
        s.skip_lws();
        const auto method = s.token();
        return rseq && cseq && !method.empty() && s.done() ? nullptr : "not response-num CSeq-num method";
    }
    case header_type::rseq: {
        const auto n = parse_number(v, 10, 0x7fffffffu);
        return n && *n > 0 ? nullptr : "not a number from 1 to 2^31-1";
    }
    case header_type::expires:
        return valid_delta_seconds(v) ? nullptr : "not delta-seconds";
    case header_type::content_type:
        return parse_media_type(v) ? nullptr : "not type/subtype[;params]";
    case header_type::content_length:
        return parse_number(v, 10, 0xffffffffu) ? nullptr : "not a non-negative number";
    case header_type::max_forwards:
        return parse_number(v, 10, 255) ? nullptr : "not a number from 0 to 255";
    case header_type::allow:
        // [Method *(COMMA Method)]: tokens separated by commas with optional LWS.
        return valid_token_list(v) ? nullptr : "not a list of methods";
    default:
        return nullptr;
    }
}

bool single_valued(header_type t) noexcept
{
    switch (t) {
    case header_type::from:
    case header_type::to:
    case header_type::call_id:
    case header_type::cseq:
    case header_type::max_forwards:
    case header_type::content_length:
    case header_type::content_type:
    case header_type::expires:
    case header_type::rseq:
    case header_type::rack:
        return true;
    default:
        return false;
    }
}

void check_start_line(const message& m, const check_options& o, findings& f) noexcept
{
    const std::string_view line = m.start_line();
    const auto bad = [&](std::string_view why) { f.add(check::malformed_request_line, 0, line, why); };
    if (!o.wants(check::malformed_request_line)) {
        // Only whether the method is known, below.
    } else if (!m.start_line_split_ok()) {
        bad(m.is_request() ? "not method SP Request-URI SP SIP-Version" : "not SIP-Version SP Status-Code SP Reason");
    } else if (!is_sip_version(m.version())) {
        bad("version is not SIP/2.0");
    } else if (m.is_request()) {
        const auto u = parse_uri(m.request_uri());
        if (!u) {
            bad("Request-URI is not a URI");
        } else if (!u->headers.empty()) {
            bad("Request-URI carries headers"); // RFC 3261 §19.1.5
        }
    } else if (m.status_code() == 0) {
        bad("status code is not three digits from 100 to 699");
    }
    if (o.wants(check::unknown_method) && m.is_request() && m.method_type() == method::unknown) {
        f.add(check::unknown_method, 0, m.method_text(), "method not known to the ALG");
    }
}

void check_headers(const message& m, const check_options& o, findings& f) noexcept
{
    std::uint64_t seen = 0; // single-valued types already met
    for (const header& h : m.headers()) {
        const std::uint32_t length = h.line_end - h.line_start;
        if (o.max_line_length != 0 && length > o.max_line_length + 2u && o.wants(check::max_line_length)) {
            // Cheap bound first; then the exact length without the terminator.
            const std::string_view line = m.bytes().substr(h.line_start, length);
            const std::size_t content = trim_lws_back(line).size();
            if (content > o.max_line_length) {
                f.add(check::max_line_length, h.line_start, m.name(h), "header longer than max-line-length");
            }
        }
        if (h.type == header_type::unknown) {
            if (o.wants(check::unknown_header)) {
                f.add(check::unknown_header, h.line_start, m.name(h), "header not known to the ALG");
            }
            continue;
        }
        const check c = malformed_check(h.type);
        if (c == check::count_ || !o.wants(c)) {
            continue;
        }
        if (single_valued(h.type)) {
            const std::uint64_t bit = std::uint64_t{1} << (static_cast<unsigned>(h.type) % 64);
            if ((seen & bit) != 0) {
                f.add(c, h.line_start, m.name(h), "appears more than once");
                continue;
            }
            seen |= bit;
        }
        if (const char* problem = header_problem(m, h); problem != nullptr) {
            f.add(c, h.value_start, m.name(h), problem);
        }
    }
    if (m.body_truncated() && o.wants(check::malformed_header_content_length)) {
        const header* cl = m.find(header_type::content_length);
        f.add(check::malformed_header_content_length, cl->value_start, m.name(*cl), "larger than the body");
    }
    // RFC 3261 §8.1.1: every request and response carries To, From, CSeq, Call-ID and Via
    // (Max-Forwards is left out: RFC 2543 peers omit it and RFC 4475 §3.4.1 asks to accept them).
    static constexpr std::array<std::pair<header_type, check>, 5> mandatory{{
        {header_type::to, check::malformed_header_to},
        {header_type::from, check::malformed_header_from},
        {header_type::cseq, check::malformed_header_cseq},
        {header_type::call_id, check::malformed_header_call_id},
        {header_type::via, check::malformed_header_via},
    }};
    for (const auto& [type, c] : mandatory) {
        if (o.wants(c) && m.find(type) == nullptr) {
            f.add(c, 0, header_name(type), "missing");
        }
    }
    if (m.is_request()) {
        if (o.require_require && m.find(header_type::require) == nullptr) {
            f.add(check::malformed_header_no_require, 0, "Require", "missing");
        }
        if (o.require_proxy_require && m.find(header_type::proxy_require) == nullptr) {
            f.add(check::malformed_header_no_proxy_require, 0, "Proxy-Require", "missing");
        }
    }
    if (o.max_body_length != 0 && o.wants(check::max_body_length) && m.body().size() > o.max_body_length) {
        f.add(check::max_body_length, m.body_offset(), "body", "body longer than max-body-length");
    }
}

// Address of a c= or o= line for its address type (RFC 4566 §5.7: IP4 dotted quad or FQDN, IP6 ...).
bool valid_connection_address(std::string_view addrtype, std::string_view address) noexcept
{
    if (addrtype == "IP4") {
        return parse_ipv4(address).has_value() || valid_hostname(address);
    }
    if (addrtype == "IP6") {
        return valid_ipv6(address) || valid_hostname(address);
    }
    return is_token(addrtype) && !address.empty();
}

bool valid_typed_time(std::string_view t, bool signed_ok) noexcept
{
    if (signed_ok && !t.empty() && t.front() == '-') {
        t.remove_prefix(1);
    }
    if (!t.empty() && std::string_view("dhms").find(t.back()) != std::string_view::npos) {
        t.remove_suffix(1);
    }
    return parse_number(t, 20, ~std::uint64_t{0}).has_value();
}

// Fields separated by single spaces, each accepted by `ok`; at least `min` of them.
template <class F>
bool fields_ok(std::string_view v, std::size_t min, F&& ok)
{
    std::size_t n = 0;
    std::size_t start = 0;
    while (start <= v.size()) {
        const std::size_t sp = v.find(' ', start);
        const std::string_view field = v.substr(start, sp == std::string_view::npos ? sp : sp - start);
        if (!ok(field, n)) {
            return false;
        }
        ++n;
        if (sp == std::string_view::npos) {
            break;
        }
        start = sp + 1;
    }
    return n >= min;
}

const char* attribute_problem(std::string_view v) noexcept
{
    // a=<attribute> or a=<attribute>:<value>, the name a token.
    const auto colon = static_cast<std::size_t>(token_chars.skip(v.data(), v.data() + v.size()) - v.data());
    if (colon == 0 || (colon < v.size() && v[colon] != ':')) {
        return "attribute name is not a token";
    }
    if (v.substr(0, colon) == "rtcp" && !parse_rtcp(colon == v.size() ? "" : v.substr(colon + 1))) {
        return "rtcp is not port [nettype addrtype address]";
    }
    return nullptr;
}

// Every other line type, kept out of the attribute path (most lines are attributes).
[[gnu::noinline]] const char* other_line_problem(const sdp_line& l) noexcept
{
    const std::string_view v = l.value;
    switch (l.type) {
    case 'v':
        return v == "0" ? nullptr : "version is not 0";
    case 'o': {
        const auto o = parse_origin(v);
        if (!o || !parse_number(o->sess_id, 20, ~std::uint64_t{0}) ||
            !parse_number(o->sess_version, 20, ~std::uint64_t{0}) || !is_token(o->nettype) ||
            !valid_connection_address(o->addrtype, o->address)) {
            return "not username sess-id sess-version nettype addrtype address";
        }
        return nullptr;
    }
    case 'c': {
        const auto c = parse_connection(v);
        if (!c || !is_token(c->nettype) || !valid_connection_address(c->addrtype, c->address)) {
            return "not nettype addrtype connection-address";
        }
        // "/ttl[/count]" (IP4 multicast) or "/count" (IP6): numbers after each slash.
        std::string_view suffix = c->suffix;
        while (!suffix.empty()) {
            suffix.remove_prefix(1);
            const std::size_t slash = suffix.find('/');
            if (!parse_number(suffix.substr(0, slash), 10, 0xffffffffu)) {
                return "ttl or address count is not a number";
            }
            suffix = slash == std::string_view::npos ? std::string_view{} : suffix.substr(slash);
        }
        return nullptr;
    }
    case 'b': {
        const std::size_t colon = v.find(':');
        return colon != std::string_view::npos && is_token(v.substr(0, colon)) &&
                       parse_number(v.substr(colon + 1), 20, ~std::uint64_t{0})
                   ? nullptr
                   : "not bwtype:bandwidth";
    }
    case 't':
        return fields_ok(v, 2,
                         [](std::string_view f, std::size_t n) {
                             return n < 2 && parse_number(f, 20, ~std::uint64_t{0}).has_value();
                         })
                   ? nullptr
                   : "not start-time stop-time";
    case 'r':
        return fields_ok(v, 3, [](std::string_view f, std::size_t) { return valid_typed_time(f, false); })
                   ? nullptr
                   : "not repeat-interval active-duration offsets";
    case 'z': {
        std::size_t fields = 0;
        const bool ok = fields_ok(v, 2, [&fields](std::string_view f, std::size_t n) {
            ++fields;
            return n % 2 == 0 ? parse_number(f, 20, ~std::uint64_t{0}).has_value() : valid_typed_time(f, true);
        });
        return ok && fields % 2 == 0 ? nullptr : "not pairs of adjustment-time offset";
    }
    case 'k': {
        const std::string_view method = v.substr(0, v.find(':'));
        const bool keyless = method == "prompt";
        const bool keyed = method == "clear" || method == "base64" || method == "uri";
        return (keyless && method.size() == v.size()) || (keyed && method.size() < v.size()) ? nullptr
                                                                                            : "not a key method";
    }
    default:
        return nullptr;
    }
}

const char* sdp_line_problem(const sdp_line& l) noexcept
{
    return l.type == 'a' ? attribute_problem(l.value) : other_line_problem(l);
}

check sdp_check(char type) noexcept
{
    switch (type) {
    case 'v':
        return check::malformed_header_sdp_v;
    case 'o':
        return check::malformed_header_sdp_o;
    case 's':
        return check::malformed_header_sdp_s;
    case 'i':
        return check::malformed_header_sdp_i;
    case 'c':
        return check::malformed_header_sdp_c;
    case 'b':
        return check::malformed_header_sdp_b;
    case 'z':
        return check::malformed_header_sdp_z;
    case 'k':
        return check::malformed_header_sdp_k;
    case 'a':
        return check::malformed_header_sdp_a;
    case 't':
        return check::malformed_header_sdp_t;
    case 'r':
        return check::malformed_header_sdp_r;
    case 'm':
        return check::malformed_header_sdp_m;
    default:
        return check::count_;
    }
}

void check_sdp(const message& m, const check_options& o, findings& f) noexcept
{
    // The SDP checks are a run of the enum: any of them wanted, all are run (their findings only for those
    // wanted, below in check_message).
    constexpr auto first = static_cast<unsigned>(check::malformed_header_sdp_v);
    constexpr auto last = static_cast<unsigned>(check::malformed_header_sdp_m);
    constexpr std::uint64_t sdp_checks = ((std::uint64_t{1} << (last + 1)) - 1) & ~((std::uint64_t{1} << first) - 1);
    if ((o.only & sdp_checks) == 0) {
        return;
    }
    const auto body = find_sdp(m);
    if (!body || body->empty()) {
        return;
    }
    // A few KiB of line index: kept per thread instead of constructed per message.
    static thread_local sdp s;
    s.parse(*body);
    const auto offset = [&](std::string_view text) {
        return static_cast<std::uint32_t>(text.data() - m.bytes().data());
    };
    const auto lines = s.lines();
    if (lines.empty() || lines[0].type != 'v') {
        f.add(check::malformed_header_sdp_v, lines.empty() ? offset(*body) : offset(lines[0].text), "v=",
              "the description does not start with v=");
    }
    unsigned count_o = 0;
    unsigned count_s = 0;
    unsigned count_t = 0;
    int last_i_level = -2; // the section (-1: session) of the last i= line: one i= per level (§5.4)
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const sdp_line& l = lines[i];
        char type = l.type;
        if (type == 0) {
            // "m =video": attribute the broken line to the letter it starts with, if that is a checked one.
            type = l.text.empty() ? '\0' : l.text[0];
            if (sdp_check(type) != check::count_) {
                f.add(sdp_check(type), offset(l.text), l.text.substr(0, 1), "not <type>=<value>");
            }
            continue;
        }
        const bool session = i < s.session_end();
        count_o += type == 'o' && session ? 1u : 0u;
        count_s += type == 's' && session ? 1u : 0u;
        count_t += type == 't' && session ? 1u : 0u;
        if (type == 'v' && i != 0) {
            f.add(check::malformed_header_sdp_v, offset(l.text), l.text.substr(0, 2), "v= after the first line");
            continue;
        }
        if (type == 'i') {
            int level = -1;
            for (std::size_t k = 0; k < s.media().size(); ++k) {
                level = i >= s.media()[k].first_line ? static_cast<int>(k) : level;
            }
            if (level == last_i_level) {
                f.add(check::malformed_header_sdp_i, offset(l.text), l.text.substr(0, 2),
                      "more than one i= in one section");
            }
            last_i_level = level;
            continue;
        }
        if (const char* problem = sdp_line_problem(l); problem != nullptr) {
            f.add(sdp_check(type), offset(l.text), l.text.substr(0, 2), problem);
        }
    }
    for (const sdp_media& md : s.media()) {
        const sdp_line& ml = lines[md.first_line];
        if (!md.well_formed) {
            f.add(check::malformed_header_sdp_m, offset(ml.text), "m=", "not media port[/count] proto fmt...");
        }
        if (md.connection < 0 && s.session_connection() < 0) {
            f.add(check::malformed_header_sdp_c, offset(ml.text), "c=", "no c= for this media (RFC 4566 5.7)");
        }
    }
    const std::uint32_t at = offset(*body);
    if (count_o != 1) {
        f.add(check::malformed_header_sdp_o, at, "o=", count_o == 0 ? "missing" : "more than one");
    }
    if (count_s != 1) {
        f.add(check::malformed_header_sdp_s, at, "s=", count_s == 0 ? "missing" : "more than one");
    }
    if (count_t == 0) {
        f.add(check::malformed_header_sdp_t, at, "t=", "missing");
    }
}

} // namespace

std::string_view check_name(check c) noexcept
{
    const auto i = static_cast<std::size_t>(c);
    return i < check_names.size() ? check_names[i] : std::string_view("unknown");
}

findings check_message(const message& m, const check_options& options) noexcept
{
    findings f;
    check_start_line(m, options, f);
    check_headers(m, options, f);
    check_sdp(m, options, f);
    if (options.only != ~std::uint64_t{0}) {
        f.keep_only(options.only);
    }
    return f;
}

} // namespace sipalg::sip
