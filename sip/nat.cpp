// See nat.hpp.
#include "sip/nat.hpp"

#include "sip/fields.hpp"
#include "sip/sdp.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sipalg::sip {

namespace {

// SIP's default port over UDP and TCP (RFC 3261 §19.1.2): a URI or Via without a port means it.
constexpr std::uint16_t default_port = 5060;

class writer {
public:
    writer(const message& m, edit_list& edits, nat_summary& s, const nat_options& o) noexcept
        : m_(m), edits_(edits), s_(s), o_(o)
    {
    }
    const nat_options& options() const noexcept
    {
        return o_;
    }
    // Inserts `text` before the byte at `at` (a pointer into the message).
    void insert_at(const char* at, std::string_view text) noexcept
    {
        if (error_ != edit_error::ok) {
            return;
        }
        error_ = edits_.insert(m_, static_cast<std::uint32_t>(at - m_.bytes().data()), text);
    }

    void replace(std::string_view original, std::string_view text) noexcept
    {
        if (error_ != edit_error::ok || original == text) {
            return;
        }
        error_ = edits_.replace(m_, original, text);
        if (error_ == edit_error::ok) {
            ++s_.addresses;
        }
    }
    // A placeholder for text the data path writes on commit (edit_list::placeholder); `fallback` until then.
    std::uint8_t placeholder(std::string_view original, std::string_view fallback) noexcept
    {
        std::uint8_t id = pinhole_ask::none;
        if (error_ == edit_error::ok) {
            error_ = edits_.placeholder(m_, original, fallback, id);
        }
        return error_ == edit_error::ok ? id : pinhole_ask::none;
    }
    edit_error error() const noexcept
    {
        return error_;
    }

private:
    const message& m_;
    edit_list& edits_;
    nat_summary& s_;
    const nat_options& o_;
    edit_error error_ = edit_error::ok;
};

// A hash of text, continuing from `h`: eight bytes a multiply (identifiers here are tens of bytes, and a
// byte at a time costs a multiply's latency per byte), the length mixed in with the last word.
std::uint64_t text_hash(std::string_view t, std::uint64_t h = 0x9e3779b97f4a7c15ull) noexcept
{
    const char* p = t.data();
    std::size_t n = t.size();
    while (n >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
        p += 8;
        n -= 8;
    }
    std::uint64_t w = 0;
    if (n != 0) {
        std::memcpy(&w, p, n);
    }
    h = (h ^ w ^ (std::uint64_t{n} << 56)) * 0x94d049bb133111ebull;
    return h ^ (h >> 29);
}

// The transaction key of a request and its responses: the top Via's branch and the CSeq method
// (RFC 3261 §17.1.3), hashed; never 0.
std::uint64_t transaction_of(std::string_view branch, std::string_view cseq_method) noexcept
{
    return text_hash(cseq_method, text_hash(branch)) | 1;
}

// Whether `n` bytes at `a` and `b` are the same. The lengths of dotted quads (7 to 15) compare as two
// overlapping words, not byte by byte, and without a call to memcmp.
bool same_bytes(const char* a, const char* b, std::size_t n) noexcept
{
    // Two words of W, the second overlapping the first: the n bytes from a and from b.
    const auto same = [&]<class W>(W) {
        return load_word<W>(a) == load_word<W>(b) && load_word<W>(a + n - sizeof(W)) == load_word<W>(b + n - sizeof(W));
    };
    if (n >= 8 && n <= 16) {
        return same(std::uint64_t{});
    }
    if (n >= 4 && n < 8) {
        return same(std::uint32_t{});
    }
    for (std::size_t k = 0; k < n; ++k) {
        if (a[k] != b[k]) {
            return false;
        }
    }
    return true;
}

// The first occurrence of `needle` (two bytes or more) in `text` at or after `from`, or npos. Sixteen
// positions at a time check the needle's first two and last bytes (SSE2), then candidates compare whole:
// much cheaper than memmem's set-up on the short texts of SIP headers, and digits, common in SIP, rarely
// make candidates. The positions left over take one more step of sixteen, overlapping the last.
std::size_t find_text(std::string_view text, std::string_view needle, std::size_t from = 0) noexcept
{
    const std::size_t n = needle.size();
    if (n < 2 || text.size() < n || from > text.size() - n) {
        return std::string_view::npos;
    }
    const std::size_t last = text.size() - n; // the last possible start
    std::size_t i = from;
#if defined(__SSE2__)
    const __m128i first = _mm_set1_epi8(needle[0]);
    const __m128i second = _mm_set1_epi8(needle[1]);
    const __m128i final = _mm_set1_epi8(needle[n - 1]);
    // Bit k: position at + k has the needle's first two and last bytes where they belong. Each
    // candidate costs a branch the predictor cannot know; with two bytes checked, a dotted quad's
    // "1x" or "19" is no candidate wherever a '1' and a last digit happen to stand apart right.
    const auto candidates = [&](std::size_t at) {
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + at));
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + at + 1));
        const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + at + n - 1));
        return static_cast<unsigned>(_mm_movemask_epi8(
            _mm_and_si128(_mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, second)), _mm_cmpeq_epi8(c, final))));
    };
    const auto first_match = [&](std::size_t at, unsigned mask) {
        for (; mask != 0; mask &= mask - 1) {
            const std::size_t k = at + static_cast<std::size_t>(std::countr_zero(mask));
            if (same_bytes(text.data() + k + 1, needle.data() + 1, n - 2)) {
                return k;
            }
        }
        return std::string_view::npos;
    };
    for (; i + 15 <= last; i += 16) {
        if (const std::size_t k = first_match(i, candidates(i)); k != std::string_view::npos) {
            return k;
        }
    }
    if (i <= last && last >= 15) {
        const std::size_t at = last - 15; // before i: its first positions were looked at already
        return first_match(at, candidates(at) & (0xffffu << (i - at)));
    }
#endif
    for (; i <= last; ++i) {
        if (text[i] == needle[0] && same_bytes(text.data() + i + 1, needle.data() + 1, n - 1)) {
            return i;
        }
    }
    return std::string_view::npos;
}

// A header parameter (`name`, case-insensitive) of the first element of a header value: Via's branch
// (RFC 3261 §20.42), From's and To's tag (§20.20, §20.39); found without parsing the element (the
// translation parses it anyway): the text after ";name=" (LWS allowed around '=' and ';'), outside
// quotes and <>, up to the next ';', ',' or LWS; empty if there is none.
std::string_view parameter_of_slow(std::string_view value, std::string_view name) noexcept;

// Which of the characters that matter to parameter_of stand in text[0, n).
struct marks {
    bool comma_or_quote = false;
    bool open_angle = false;
    bool close_angle = false;
};

marks marks_in(std::string_view text, std::size_t n) noexcept
{
    marks m;
    std::size_t i = 0;
#if defined(__SSE2__)
    if (text.size() >= 16) {
        // Sixteen bytes at a time; the last step may start earlier, within the text, and looks again at
        // bytes already seen (as harmless as it is cheap), never past n.
        unsigned bad = 0;
        unsigned open = 0;
        unsigned close = 0;
        for (; i < n; i += 16) {
            const std::size_t at = std::min(i, text.size() - 16);
            const unsigned keep = n - at >= 16 ? 0xffffu : (1u << (n - at)) - 1u;
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + at));
            bad |= keep & static_cast<unsigned>(_mm_movemask_epi8(
                              _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(',')), _mm_cmpeq_epi8(v, _mm_set1_epi8('"')))));
            open |= keep & static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('<'))));
            close |= keep & static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('>'))));
        }
        return {bad != 0, open != 0, close != 0};
    }
#endif
    for (; i < n; ++i) {
        const char c = text[i];
        m.comma_or_quote |= c == ',' || c == '"';
        m.open_angle |= c == '<';
        m.close_angle |= c == '>';
    }
    return m;
}

// What ends a parameter's value as phones write it: the next parameter, element or '>', or white space.
constexpr char_set parameter_end(";,>", detail::c_ws);

// `needle` is ";name=" as phones write it (lower case, no LWS): the usual case found by find_text, the
// rest by the scanner below.
std::string_view parameter_of(std::string_view value, std::string_view name, std::string_view needle) noexcept
{
    if (const std::size_t found = find_text(value, needle); found != std::string_view::npos) {
        // The first ";name=" is the first element's parameter when nothing before it opens a quoted
        // string or ends the element; in From and To, a tag inside <...> belongs to the URI, not the
        // header: no '<' before it, or a '>' too.
        const marks before = marks_in(value, found);
        if (!before.comma_or_quote && (!before.open_angle || before.close_angle)) {
            const char* p = value.data() + found + needle.size();
            const char* const end = value.data() + value.size();
            const char* q = p;
            while (q < end && !parameter_end(*q)) {
                ++q;
            }
            return {p, static_cast<std::size_t>(q - p)};
        }
    }
    return parameter_of_slow(value, name);
}

std::string_view parameter_of_slow(std::string_view value, std::string_view name) noexcept
{
    bool quoted = false;
    int angle = 0;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        if (c == '"') {
            quoted = !quoted;
        } else if (quoted) {
            continue;
        } else if (c == '<') {
            ++angle;
        } else if (c == '>') {
            --angle;
        } else if (angle > 0) {
            continue;
        } else if (c == ',') {
            break; // the next element
        } else if (c == ';') {
            std::size_t j = i + 1;
            while (j < value.size() && is_lws(value[j])) {
                ++j;
            }
            if (!istarts_with(value.substr(j), name)) {
                continue;
            }
            j += name.size();
            while (j < value.size() && is_lws(value[j])) {
                ++j;
            }
            if (j == value.size() || value[j] != '=') {
                continue;
            }
            ++j;
            while (j < value.size() && is_lws(value[j])) {
                ++j;
            }
            std::size_t k = j;
            while (k < value.size() && value[k] != ';' && value[k] != ',' && !is_lws(value[k])) {
                ++k;
            }
            return value.substr(j, k - j);
        }
    }
    return {};
}

// The decimal text of every octet, and its length: a dotted quad is written by four table reads, where
// std::to_chars divides each octet (a message from the inside has half a dozen of them rewritten).
struct octet_text {
    std::uint8_t length;
    std::array<char, 3> digits;
};
constexpr std::array<octet_text, 256> octet_texts = [] {
    std::array<octet_text, 256> t{};
    for (unsigned v = 0; v < 256; ++v) {
        const unsigned n = v >= 100 ? 3 : v >= 10 ? 2 : 1;
        t[v].length = static_cast<std::uint8_t>(n);
        for (unsigned k = 0, x = v; k < n; ++k, x /= 10) {
            t[v].digits[n - 1 - k] = static_cast<char>('0' + x % 10);
        }
    }
    return t;
}();

// "a.b.c.d[:port]" in a buffer of the caller's (no allocation).
class text_buffer {
public:
    std::string_view set(ipv4_address a, std::optional<std::uint16_t> port) noexcept
    {
        n_ = 0;
        for (int shift = 24; shift >= 0; shift -= 8) {
            // Three bytes copied whatever the length (the buffer has room): no branch on it.
            const octet_text& o = octet_texts[(a >> shift) & 255u];
            std::memcpy(b_.data() + n_, o.digits.data(), 3);
            n_ += o.length;
            b_[n_] = '.';
            n_ += shift != 0 ? 1 : 0;
        }
        if (port) {
            b_[n_++] = ':';
            number(*port);
        }
        return {b_.data(), n_};
    }
    std::string_view set_port(std::uint16_t port) noexcept
    {
        n_ = 0;
        number(port);
        return {b_.data(), n_};
    }

private:
    void number(unsigned v) noexcept
    {
        n_ = static_cast<std::size_t>(std::to_chars(b_.data() + n_, b_.data() + b_.size(), v).ptr - b_.data());
    }
    std::array<char, 24> b_{};
    std::size_t n_ = 0;
};

// A host[:port] naming `from` becomes `to`. The port follows when it is from's own (written, or the
// default); another port of the same host keeps its number (a second listener of the same phone).
void map_host_port(writer& w, const host_port& hp, endpoint from, endpoint to, bool exact = false) noexcept
{
    if (hp.kind != host_kind::ipv4 || hp.v4 != from.address || (exact && hp.port.value_or(default_port) != from.port)) {
        return;
    }
    std::optional<std::uint16_t> port = hp.port;
    if (hp.port.value_or(default_port) == from.port) {
        port = hp.port || to.port != default_port ? std::optional<std::uint16_t>(to.port) : std::nullopt;
    }
    text_buffer t;
    w.replace(hp.text, t.set(to.address, port));
}

void map_address_text(writer& w, std::string_view text, ipv4_address from, ipv4_address to) noexcept
{
    const auto a = parse_ipv4(text);
    if (a && *a == from) {
        text_buffer t;
        w.replace(text, t.set(to, std::nullopt));
    }
}

void map_uri(writer& w, const uri& u, endpoint from, endpoint to, bool exact = false) noexcept
{
    if (u.scheme == uri_scheme::sip || u.scheme == uri_scheme::sips) {
        map_host_port(w, u.host, from, to, exact);
        // maddr in a URI names where to send (RFC 3261 §19.1.1).
        if (const auto maddr = u.params.find("maddr")) {
            map_address_text(w, maddr->value, from.address, to.address);
        }
    }
}

// A pinhole of `kind` asked for the party's own `hp` when it names the party's address on a port other than
// the session's (a translation with NAT only): its host:port becomes a placeholder that reads `fallback`
// until granted. Whether it was asked for (false: the caller translates it as any other).
// Whether `hp` is the party's own address on a port other than its session's, behind NAT.
bool other_port_of_party(const host_port& hp, endpoint from, endpoint to) noexcept
{
    return hp.kind == host_kind::ipv4 && hp.v4 == from.address && hp.port.value_or(default_port) != from.port &&
           from.address != to.address;
}

bool ask_port(writer& w, pinhole_asks* asks, ask_kind kind, const host_port& hp, endpoint from, endpoint to,
              std::string_view fallback) noexcept
{
    if (asks == nullptr || asks->full() || !other_port_of_party(hp, from, to)) {
        return false;
    }
    pinhole_ask& k = asks->list[asks->n];
    k = {};
    k.kind = kind;
    k.inside = {from.address, hp.port.value_or(default_port)};
    k.public_address = to.address;
    k.port_hole = w.placeholder(hp.text, fallback);
    if (k.port_hole != pinhole_ask::none) {
        ++asks->n;
    }
    return true;
}

// open-via-pinhole's ask (out of line: the Via loop of every message stays small).
[[gnu::noinline]] bool ask_via(writer& w, pinhole_asks* asks, const host_port& sent_by, endpoint from, endpoint to) noexcept
{
    if (!other_port_of_party(sent_by, from, to)) {
        return false;
    }
    text_buffer t;
    return ask_port(w, asks, ask_kind::via, sent_by, from, to, t.set(to.address, sent_by.port));
}

// Every name-addr / addr-spec of the headers that carry the party's own address.
void map_address_headers(writer& w, const message& m, endpoint from, endpoint to, bool from_inside,
                         pinhole_asks* asks, const nat_options& o, nat_summary& s) noexcept
{
    // The dialog's tags (RFC 3261 §12) come from the elements this loop looks at anyway: the From and
    // the To. An element that does not name the translated address (a dotted quad as phones write it)
    // has nothing to translate and is not parsed: its tag is read straight from its text.
    text_buffer from_buf;
    const std::string_view from_text = from_buf.set(from.address, std::nullopt);
    const auto names_from = [&](std::string_view element) { return find_text(element, from_text) != std::string_view::npos; };
    bool via_seen = false; // the top Via is the first element of the first Via header
    for (const header& h : m.headers()) {
        switch (h.type) {
        case header_type::contact:
        case header_type::from:
        case header_type::to:
        case header_type::route:
        case header_type::record_route:
        case header_type::p_asserted_identity:
        case header_type::p_preferred_identity:
            for_each_element(m.value(h), [&](std::string_view element) {
                if (element == "*") {
                    return; // Contact: * (RFC 3261 §10.2.2)
                }
                if (!names_from(element)) {
                    if (h.type == header_type::from || h.type == header_type::to) {
                        const std::string_view tag = parameter_of(element, "tag", ";tag=");
                        (h.type == header_type::from ? s.from_tag : s.to_tag) = tag.empty() ? 0 : text_hash(tag) | 1;
                    }
                    return;
                }
                if (const auto a = parse_address_lenient(element)) {
                    if ((h.type == header_type::from || h.type == header_type::to) && a->tag.has_value && !a->tag.value.empty()) {
                        (h.type == header_type::from ? s.from_tag : s.to_tag) = text_hash(a->tag.value) | 1;
                    }
                    if (h.type == header_type::contact && !o.contact_fixup && !from_inside &&
                        m.find(header_type::record_route) != nullptr) {
                        return;
                    }
                    const host_port& hp = a->target.host;
                    // open-contact-pinhole (a Contact, in any message but REGISTER) and
                    // open-record-route-pinhole (a Record-Route): the party's own address on a port other
                    // than the session's gets a pinhole for the requests sent to it (RFC 3261 §12.1.1,
                    // §16.12.1.1: later requests go to the Contact, or through the Record-Route).
                    const bool contact = h.type == header_type::contact && o.open_contact && m.method_type() != method::register_;
                    const bool record_route = h.type == header_type::record_route && o.open_record_route;
                    if ((contact || record_route) && from_inside && asks != nullptr && other_port_of_party(hp, from, to) &&
                        (a->target.scheme == uri_scheme::sip || a->target.scheme == uri_scheme::sips)) {
                        // Until granted, the URI reads as it would be translated without a pinhole: the
                        // address mapped and the port kept (a Contact without contact-fixup: as written).
                        text_buffer t;
                        const std::string_view fallback = !contact || o.contact_fixup ? t.set(to.address, hp.port) : hp.text;
                        if (ask_port(w, asks, contact ? ask_kind::contact : ask_kind::record_route, hp, from, to, fallback)) {
                            if (const auto maddr = a->target.params.find("maddr")) {
                                map_address_text(w, maddr->value, from.address, to.address);
                            }
                            return;
                        }
                    }
                    map_uri(w, a->target, from, to, h.type == header_type::contact && !o.contact_fixup);
                    if (h.type == header_type::contact && o.register_contact_trace && from_inside &&
                        m.method_type() == method::register_ && hp.kind == host_kind::ipv4 && hp.v4 == from.address &&
                        from.address != to.address) {
                        // register-contact-trace: where the phone really is, after the translated host:port.
                        std::array<char, 32> trace{};
                        text_buffer orig;
                        const std::string_view where = orig.set(from.address, hp.port.value_or(default_port));
                        std::memcpy(trace.data(), ";x-orig=", 8);
                        std::memcpy(trace.data() + 8, where.data(), where.size());
                        w.insert_at(hp.text.data() + hp.text.size(), {trace.data(), 8 + where.size()});
                        s.traced = true;
                    }
                }
            });
            break;
        case header_type::via:
            for_each_element(m.value(h), [&](std::string_view element) {
                const bool top = !via_seen;
                via_seen = true;
                if (!names_from(element)) {
                    return;
                }
                const auto v = parse_via(element);
                if (!v) {
                    return;
                }
                // open-via-pinhole: the party's own request names a sent-by port other than the session's,
                // where its responses go (RFC 3261 §18.2.2, without rport): a pinhole for them.
                if (!(top && o.open_via && from_inside && m.is_request() && !v->rport.has_value &&
                      ask_via(w, asks, v->sent_by, from, to))) {
                    map_host_port(w, v->sent_by, from, to);
                }
                // received and maddr carry the address, rport the port (RFC 3261 §18.2.1, RFC 3581 §4).
                if (v->received.has_value) {
                    map_address_text(w, v->received.value, from.address, to.address);
                }
                if (v->maddr.has_value) {
                    map_address_text(w, v->maddr.value, from.address, to.address);
                }
                if (v->rport.has_value && v->rport.value == text_buffer{}.set_port(from.port)) {
                    text_buffer t;
                    w.replace(v->rport.value, t.set_port(to.port));
                }
            });
            break;
        default:
            break;
        }
    }
}

std::string_view first_element(std::string_view value) noexcept
{
    std::string_view first;
    bool seen = false;
    for_each_element(value, [&](std::string_view e) {
        if (!seen) {
            first = e;
            seen = true;
        }
    });
    return first;
}

std::optional<ipv4_address> connection_address(const sdp& d, int line) noexcept
{
    if (line < 0) {
        return std::nullopt;
    }
    const auto c = parse_connection(d.lines()[static_cast<std::size_t>(line)].value);
    if (!c || c->addrtype != "IP4") {
        return std::nullopt;
    }
    return parse_ipv4(c->address);
}

// Translates a c= line's address; returns it as it was written (what the stream is about).
std::optional<ipv4_address> map_connection(writer& w, const sdp& d, int line, ipv4_address from, ipv4_address to) noexcept
{
    const auto address = connection_address(d, line);
    if (address && *address == from) {
        const auto c = parse_connection(d.lines()[static_cast<std::size_t>(line)].value);
        text_buffer t;
        w.replace(c->address, t.set(to, std::nullopt));
    }
    return address;
}

// nat-trace (FortiOS "NAT with IP address conservation"): "(o=IN IP4 <inside address>)" at the end of
// the session-level i= line, or as a new i= line after s= (RFC 4566 §5: i= follows s=). The writer's
// edits reach the message through the edit list; an insertion is an edit of length 0.
void trace_origin(writer& w, const message& m, const sdp& d, ipv4_address inside) noexcept
{
    std::array<char, 40> buf{};
    text_buffer t;
    const std::string_view a = t.set(inside, std::nullopt);
    std::size_t n = 0;
    for (const char c : std::string_view("(o=IN IP4 ")) {
        buf[n++] = c;
    }
    for (const char c : a) {
        buf[n++] = c;
    }
    buf[n++] = ')';
    const std::string_view trace(buf.data(), n);
    int s_line = -1;
    for (std::uint16_t i = 0; i < d.session_end(); ++i) {
        const sdp_line& l = d.lines()[i];
        if (l.type == 'i') {
            if (w.options().preserve_override) {
                w.replace(l.value, trace);
            } else {
                w.insert_at(l.value.data() + l.value.size(), trace);
            }
            return;
        }
        if (l.type == 's') {
            s_line = i;
        }
    }
    if (s_line < 0) {
        return;
    }
    // After the s= line and its terminator, in the same line ending.
    const sdp_line& s = d.lines()[static_cast<std::size_t>(s_line)];
    const char* end = s.text.data() + s.text.size();
    const char* body_end = m.bytes().data() + m.bytes().size();
    const bool crlf = end < body_end && *end == '\r';
    const char* after = end + (crlf ? 2 : 1);
    if (after > body_end) {
        return;
    }
    std::array<char, 48> line{};
    std::size_t k = 0;
    line[k++] = 'i';
    line[k++] = '=';
    for (const char c : trace) {
        line[k++] = c;
    }
    if (crlf) {
        line[k++] = '\r';
    }
    line[k++] = '\n';
    w.insert_at(after, {line.data(), k});
}

// An m= line at port 0 in what the inside party receives: that stream of its own is rejected (in an
// answer) or disabled (in a new offer), RFC 3264 §6, §8.2.
void note_rejected(nat_summary& s, const sdp_media& md, unsigned stream, bool from_inside) noexcept
{
    if (!from_inside && md.well_formed && md.port == 0 && stream < 32) {
        s.rejected_streams |= 1u << stream;
    }
}

// The other party's media of a stream, in an SDP the inside party receives: where its RTP comes from
// (symmetric RTP, RFC 4961), so that the inside party's own media to it leaves through that call's
// pinhole when one phone port serves several calls.
void note_remote(nat_summary& s, const sdp_media& md, unsigned stream, std::optional<ipv4_address> address,
                 bool from_inside) noexcept
{
    if (!from_inside && md.well_formed && md.port != 0 && address && stream < s.remote_media.size()) {
        s.remote_media[stream] = {*address, md.port};
    }
}

// RFC 4566 §5.2, §5.7, §5.14 and RFC 3605: the origin and connection addresses, and for what the inside
// party offers or answers, every media port it will receive on (audio, video, image/T.38, any other).
void map_sdp(writer& w, const message& m, endpoint from, endpoint to, bool from_inside, pinhole_asks* asks,
             nat_summary& s, const nat_options& o) noexcept
{
    const auto body = find_sdp(m);
    if (!body) {
        return;
    }
    s.has_sdp = true;
    // Ten KiB of line index: kept per thread, not constructed per message (that cost a third of the
    // SDP's translation).
    static thread_local sdp d;
    d.parse(*body);
    if (!o.sdp_fixup) {
        // no-sdp-fixup: nothing written; the streams the party announces at its own or its public address
        // get pinholes on the ports as written.
        const auto session_address = connection_address(d, d.session_connection());
        unsigned stream = 0;
        for (const sdp_media& md : d.media()) {
            note_rejected(s, md, stream++, from_inside);
            const auto address = md.connection >= 0 ? connection_address(d, md.connection) : session_address;
            note_remote(s, md, stream - 1, address, from_inside);
            if (!from_inside || asks == nullptr || asks->full() || !o.rtp || !md.well_formed || md.port == 0 || !address ||
                (*address != from.address && *address != to.address)) {
                continue;
            }
            pinhole_ask& k = asks->list[asks->n++];
            k = {};
            k.inside = {from.address, md.port};
            k.rtcp = static_cast<std::uint16_t>(md.port + 1);
            k.public_address = to.address;
            k.preferred = md.port;
            k.stream = static_cast<std::uint8_t>(std::min(stream - 1, 0xffu));
        }
        return;
    }
    if (d.origin() >= 0) {
        if (const auto origin = parse_origin(d.lines()[static_cast<std::size_t>(d.origin())].value);
            origin && origin->addrtype == "IP4") {
            map_address_text(w, origin->address, from.address, to.address);
        }
    }
    const auto session_address = map_connection(w, d, d.session_connection(), from.address, to.address);
    if (from_inside && o.nat_trace && from.address != to.address) {
        trace_origin(w, m, d, from.address);
    }
    unsigned stream = 0;
    for (const sdp_media& md : d.media()) {
        note_rejected(s, md, stream++, from_inside);
        const auto address = md.connection >= 0 ? map_connection(w, d, md.connection, from.address, to.address)
                                                : session_address;
        note_remote(s, md, stream - 1, address, from_inside);
        std::optional<sdp_rtcp> rtcp;
        if (md.rtcp >= 0) {
            const std::string_view v = d.lines()[static_cast<std::size_t>(md.rtcp)].value;
            rtcp = parse_rtcp(v.substr(std::min<std::size_t>(v.size(), 5))); // after "rtcp:"
        }
        // Port 0 rejects a stream and 0.0.0.0 holds it (RFC 3264 §6, §8.4): nothing to open.
        if (from_inside && asks != nullptr && !asks->full() && o.rtp && md.well_formed && md.port != 0 && address &&
            *address == from.address) {
            // The ports stay as written until the pinhole is granted (a refused one leaves them so).
            pinhole_ask& k = asks->list[asks->n];
            k = {};
            k.inside = {from.address, md.port};
            k.rtcp = rtcp ? rtcp->port : static_cast<std::uint16_t>(md.port + 1);
            k.public_address = to.address;
            k.stream = static_cast<std::uint8_t>(std::min(stream - 1, 0xffu));
            k.port_hole = w.placeholder(md.port_text, md.port_text);
            if (rtcp) {
                k.rtcp_hole = w.placeholder(rtcp->port_text, rtcp->port_text);
            }
            if (k.port_hole != pinhole_ask::none) {
                ++asks->n;
            }
        }
        if (rtcp && rtcp->address && rtcp->address->addrtype == "IP4") {
            map_address_text(w, rtcp->address->address, from.address, to.address);
        }
    }
}

// The Call-ID's parts hashed; a host part that is an IPv4 address as that address (the inside address
// it stands for when it is the translated one seen from outside), any other host as text.
std::uint64_t hash(std::string_view local, std::string_view host, std::optional<ipv4_address> address) noexcept
{
    std::uint64_t h = text_hash(local) ^ '@';
    if (address) {
        h = (h ^ (std::uint64_t{*address} << 8 | 0x5a)) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
    } else {
        h = text_hash(host, h);
    }
    return h | 1; // never 0: 0 is "no dialog"
}

} // namespace

edit_error grant(edit_list& edits, const pinhole_ask& a, std::uint16_t port) noexcept
{
    if (a.port_hole == pinhole_ask::none) {
        return edit_error::ok; // nothing written (an SDP left as written)
    }
    text_buffer t;
    const edit_error e = edits.fill(a.port_hole, a.kind == ask_kind::media ? t.set_port(port) : t.set(a.public_address, port));
    if (e != edit_error::ok || a.rtcp_hole == pinhole_ask::none) {
        return e;
    }
    text_buffer r;
    return edits.fill(a.rtcp_hole, r.set_port(static_cast<std::uint16_t>(port + 1)));
}

bool mentions_address(std::string_view text, ipv4_address a) noexcept
{
    text_buffer t;
    const std::string_view needle = t.set(a, std::nullopt);
    const auto part_of_number = [](char c) { return (c >= '0' && c <= '9') || c == '.'; };
    for (std::size_t at = find_text(text, needle); at != std::string_view::npos; at = find_text(text, needle, at + 1)) {
        const std::size_t after = at + needle.size();
        if ((at == 0 || !part_of_number(text[at - 1])) && (after == text.size() || !(text[after] >= '0' && text[after] <= '9'))) {
            return true;
        }
    }
    return false;
}

std::optional<endpoint> written_endpoint(const message& m) noexcept
{
    const std::string_view first = first_element(m.value_of(m.is_request() ? header_type::via : header_type::contact));
    std::optional<host_port> hp;
    if (m.is_request()) {
        if (const auto v = parse_via(first)) {
            hp = v->sent_by;
        }
    } else if (const auto a = parse_address_lenient(first); a && (a->target.scheme == uri_scheme::sip || a->target.scheme == uri_scheme::sips)) {
        hp = a->target.host;
    }
    if (!hp || hp->kind != host_kind::ipv4) {
        return std::nullopt;
    }
    return endpoint{hp->v4, hp->port.value_or(default_port)};
}

nat_summary identify(const message& m, const translation& t, bool from_inside, const nat_options& o) noexcept
{
    nat_summary s;
    s.request = m.is_request();
    s.status = m.status_code();
    s.call_id = m.value_of(header_type::call_id);
    const auto c = parse_cseq(m.value_of(header_type::cseq));
    if (c) {
        s.cseq = c->number;
        s.cseq_method = c->method;
    }
    if (s.request) {
        s.method = m.method_type();
    } else if (c) {
        s.method = lookup_method(c->method);
    }
    // The transaction: the top Via's branch (its first element's) with the CSeq method, read the same
    // way from a request and from its response, whichever side of the NAT wrote them (RFC 3261 §17.1.3).
    const std::string_view branch = parameter_of(m.value_of(header_type::via), "branch", ";branch=");
    s.transaction = transaction_of(branch, s.cseq_method);
    // The Call-ID as the inside party knows it (see translate), with the session's salt.
    const endpoint from = from_inside ? t.inside : t.outside;
    const endpoint to = from_inside ? t.outside : t.inside;
    if (const auto at = s.call_id.rfind('@'); at != std::string_view::npos) {
        const std::string_view host = s.call_id.substr(at + 1);
        const auto a = parse_ipv4(host);
        s.call_host = a;
        const bool public_form = !from_inside && a && *a == from.address;
        const bool seen_form = a && o.call_host_seen != 0 && *a == o.call_host_seen;
        s.call_key = hash(s.call_id.substr(0, at), host,
                          public_form ? std::optional(to.address) : seen_form ? std::optional(o.call_host_written) : a);
    } else {
        s.call_key = hash(s.call_id, {}, std::nullopt);
    }
    if (o.call_salt != 0) {
        const std::uint64_t h = (s.call_key ^ o.call_salt) * 0xbf58476d1ce4e5b9ull;
        s.call_key = (h ^ (h >> 31)) | 1;
    }
    if (o.rfc2543_branch && !branch.starts_with("z9hG4bK")) {
        // The RFC 2543 rule, read alike from a request and its responses on either side of the NAT: the
        // Call-ID as the inside party knows it (the call key), the From tag and the CSeq (the To tag is
        // left out: the answer adds it; the top Via's sent-by is the requester's on both ways, and the
        // session and direction are part of the transaction's identity already).
        const std::string_view from_element = first_element(m.value_of(header_type::from));
        const std::uint64_t h = text_hash(parameter_of(from_element, "tag", ";tag="), s.call_key);
        s.transaction = text_hash(m.value_of(header_type::cseq), h) | 1;
    }
    return s;
}

edit_error translate(const message& m, const translation& t, bool from_inside, pinhole_asks* asks,
                     edit_list& edits, nat_summary& s, const nat_options& o, bool identified) noexcept
{
    if (!identified) {
        s = identify(m, t, from_inside, o);
    }
    const endpoint from = from_inside ? t.inside : t.outside;
    const endpoint to = from_inside ? t.outside : t.inside;
    writer w(m, edits, s, o);
    // Call-ID = word ["@" word]: many phones (and SIPp) put their address after the '@'. It is an
    // identifier, but "no inside address anywhere" holds it too; both ways map it, so the dialog's
    // Call-ID is the same on each side of the appliance as it was (RFC 3261 §20.8).
    if (s.call_host && *s.call_host == from.address) {
        text_buffer c;
        w.replace(s.call_id.substr(s.call_id.rfind('@') + 1), c.set(to.address, std::nullopt));
    }
    if (s.request) {
        if (const auto u = parse_uri(m.request_uri())) {
            map_uri(w, *u, from, to);
        }
    }
    map_address_headers(w, m, from, to, from_inside, asks, o, s);
    map_sdp(w, m, from, to, from_inside, asks, s, o);
    if (s.method == method::register_) {
        if (const auto a = parse_address_lenient(first_element(m.value_of(header_type::contact))); a && a->expires.has_value) {
            if (const auto v = parse_number(a->expires.value, 10, 0xffffffffu)) {
                s.expires = static_cast<std::uint32_t>(*v);
            }
        }
        if (!s.expires) {
            if (const auto v = parse_number(m.value_of(header_type::expires), 10, 0xffffffffu)) {
                s.expires = static_cast<std::uint32_t>(*v);
            }
        }
    }
    return w.error();
}

} // namespace sipalg::sip
