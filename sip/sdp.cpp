// See sdp.hpp.
#include "sip/sdp.hpp"

#include "sip/fields.hpp"
#include "sip/text.hpp"


namespace sipalg::sip {

namespace {

// Splits `value` at single spaces into exactly `N` fields (or N-1 fields and the rest, when
// `rest_in_last`); false when the count differs or a field is empty.
template <std::size_t N>
bool split_fields(std::string_view value, std::array<std::string_view, N>& out, bool rest_in_last = false) noexcept
{
    const char* p = value.data();
    const char* const end = p + value.size();
    for (std::size_t i = 0; i < N; ++i) {
        const char* const start = p;
        if (i + 1 == N && rest_in_last) {
            p = end;
        } else {
            p = find_first_of<' '>(p, end, value.data());
        }
        if (p == start) {
            return false;
        }
        out[i] = std::string_view(start, static_cast<std::size_t>(p - start));
        if (i + 1 == N) {
            return p == end;
        }
        if (p == end) {
            return false;
        }
        ++p; // the space
    }
    return true;
}

// The direction attribute a=sendrecv|sendonly|recvonly|inactive (RFC 4566 §6) an attribute line
// holds, if any: all four names are eight bytes, so this is one length test and word compares.
std::optional<sdp_direction> direction_of(std::string_view attribute) noexcept
{
    if (attribute.size() < 8 || (attribute.size() > 8 && attribute[8] != ':')) {
        return std::nullopt;
    }
    const std::string_view name = attribute.substr(0, 8);
    if (name == "sendrecv") {
        return sdp_direction::sendrecv;
    }
    if (name == "sendonly") {
        return sdp_direction::sendonly;
    }
    if (name == "recvonly") {
        return sdp_direction::recvonly;
    }
    if (name == "inactive") {
        return sdp_direction::inactive;
    }
    return std::nullopt;
}

// The attribute is `name`, alone or with a value after ':'.
bool attribute_is(std::string_view attribute, std::string_view name) noexcept
{
    return attribute.size() >= name.size() && attribute.substr(0, name.size()) == name &&
           (attribute.size() == name.size() || attribute[name.size()] == ':');
}

} // namespace

std::optional<sdp_connection> parse_connection(std::string_view value) noexcept
{
    std::array<std::string_view, 3> f;
    if (!split_fields(value, f)) {
        return std::nullopt;
    }
    sdp_connection c{f[0], f[1], f[2], {}};
    if (const std::size_t slash = c.address.find('/'); slash != std::string_view::npos) {
        c.suffix = c.address.substr(slash);
        c.address = c.address.substr(0, slash);
    }
    return c;
}

std::optional<sdp_origin> parse_origin(std::string_view value) noexcept
{
    std::array<std::string_view, 6> f;
    if (!split_fields(value, f)) {
        return std::nullopt;
    }
    return sdp_origin{f[0], f[1], f[2], f[3], f[4], f[5]};
}

std::optional<sdp_rtcp> parse_rtcp(std::string_view v) noexcept
{
    sdp_rtcp r;
    const std::size_t sp = v.find(' ');
    r.port_text = v.substr(0, sp);
    const auto port = parse_number(r.port_text, 5, 65535);
    if (!port) {
        return std::nullopt;
    }
    r.port = static_cast<std::uint16_t>(*port);
    if (sp != std::string_view::npos) {
        r.address = parse_connection(v.substr(sp + 1));
        if (!r.address) {
            return std::nullopt;
        }
    }
    return r;
}

void sdp::parse(std::string_view body) noexcept
{
    body_ = body;
    n_lines_ = 0;
    n_media_ = 0;
    origin_ = -1;
    session_connection_ = -1;
    session_direction_ = sdp_direction::sendrecv;
    truncated_ = false;
    std::uint32_t own_direction = 0; // media sections with a direction attribute of their own
    static_assert(max_media <= 32);
    const char* p = body.data();
    const char* const end = p + body.size();
    while (p < end) {
        const char* const lf = find_line_feed(p, end, body.data());
        const char* const text_end = lf > p && lf[-1] == '\r' ? lf - 1 : lf;
        const char* const start = p;
        p = lf == end ? end : lf + 1;
        if (text_end == start) {
            continue; // a blank line (often at the very end) carries nothing
        }
        if (n_lines_ == max_lines) {
            truncated_ = true;
            break;
        }
        const std::string_view text(start, static_cast<std::size_t>(text_end - start));
        const auto index = n_lines_;
        sdp_line& l = lines_[n_lines_++];
        l.text = text;
        const bool typed = text.size() >= 2 && text[0] >= 'a' && text[0] <= 'z' && text[1] == '=';
        l.type = typed ? text[0] : '\0';
        l.value = typed ? text.substr(2) : std::string_view{};
        sdp_media* m = n_media_ == 0 ? nullptr : &media_[n_media_ - 1u];
        switch (l.type) {
        case 'm': {
            if (n_media_ == max_media) {
                truncated_ = true;
                n_lines_ = index;
                return;
            }
            m = &media_[n_media_++];
            *m = sdp_media{};
            m->first_line = index;
            std::array<std::string_view, 4> f;
            if (split_fields(l.value, f, true)) {
                m->media = f[0];
                m->proto = f[2];
                m->formats = f[3];
                std::string_view port = f[1];
                bool ok = is_token(m->media);
                if (const std::size_t slash = port.find('/'); slash != std::string_view::npos) {
                    const auto count = parse_number(port.substr(slash + 1), 5, 65535);
                    ok = ok && count.has_value() && *count > 0;
                    m->port_count = count ? static_cast<std::uint16_t>(*count) : 1;
                    port = port.substr(0, slash);
                }
                m->port_text = port;
                const auto number = parse_number(port, 5, 65535);
                m->port = number ? static_cast<std::uint16_t>(*number) : 0;
                m->well_formed = ok && number.has_value();
            }
            break;
        }
        case 'o':
            if (m == nullptr && origin_ < 0) {
                origin_ = index;
            }
            break;
        case 'c':
            if (m == nullptr) {
                if (session_connection_ < 0) {
                    session_connection_ = index;
                }
            } else if (m->connection < 0) {
                m->connection = static_cast<std::int16_t>(index);
            }
            break;
        case 'a':
            if (const auto direction = direction_of(l.value)) {
                if (m == nullptr) {
                    session_direction_ = *direction;
                } else {
                    m->direction = *direction;
                    own_direction |= 1u << (n_media_ - 1u);
                }
            } else if (m != nullptr && m->rtcp < 0 && attribute_is(l.value, "rtcp")) {
                m->rtcp = static_cast<std::int16_t>(index);
            } else if (m != nullptr && attribute_is(l.value, "candidate")) {
                ++m->candidates;
            }
            break;
        default:
            break;
        }
        if (m != nullptr) {
            m->end_line = n_lines_;
        }
    }
    // A media section without its own direction inherits the session's (RFC 4566 §6).
    for (std::uint16_t i = 0; i < n_media_; ++i) {
        if ((own_direction >> i & 1u) == 0) {
            media_[i].direction = session_direction_;
        }
    }
}

std::optional<std::string_view> find_sdp(const message& m) noexcept
{
    const std::string_view content_type = m.value_of(header_type::content_type);
    if (iequals(content_type, "application/sdp")) {
        return m.body(); // the usual case, without the general parse
    }
    const auto ct = parse_media_type(content_type);
    if (!ct) {
        return std::nullopt;
    }
    if (iequals(ct->type, "application") && iequals(ct->subtype, "sdp")) {
        return m.body();
    }
    if (!iequals(ct->type, "multipart")) {
        return std::nullopt;
    }
    const auto boundary_param = ct->params.find("boundary");
    if (!boundary_param || boundary_param->value.empty()) {
        return std::nullopt;
    }
    std::string_view boundary = boundary_param->value;
    if (boundary.size() >= 2 && boundary.front() == '"' && boundary.back() == '"') {
        boundary = boundary.substr(1, boundary.size() - 2);
    }
    // RFC 2046 §5.1.1: parts are separated by lines "--boundary"; a part is headers, an empty line,
    // content; the CRLF before a delimiter belongs to the delimiter.
    const std::string_view body = m.body();
    std::size_t pos = 0;
    const auto next_delimiter = [&](std::size_t from) -> std::size_t {
        while (from < body.size()) {
            const std::size_t at = body.find("--", from);
            if (at == std::string_view::npos) {
                return std::string_view::npos;
            }
            const bool line_start = at == 0 || body[at - 1] == '\n';
            if (line_start && body.substr(at + 2, boundary.size()) == boundary) {
                return at;
            }
            from = at + 2;
        }
        return std::string_view::npos;
    };
    pos = next_delimiter(0);
    while (pos != std::string_view::npos) {
        std::size_t part = body.find('\n', pos);
        if (part == std::string_view::npos || body.substr(pos + 2 + boundary.size(), 2) == "--") {
            return std::nullopt;
        }
        ++part;
        const std::size_t end = next_delimiter(part);
        if (end == std::string_view::npos) {
            return std::nullopt;
        }
        std::size_t content_end = end;
        if (content_end > part && body[content_end - 1] == '\n') {
            --content_end;
            if (content_end > part && body[content_end - 1] == '\r') {
                --content_end;
            }
        }
        const std::string_view whole = body.substr(part, content_end - part);
        // Part headers end at the first empty line.
        std::size_t hdr_end = whole.find("\r\n\r\n");
        std::size_t skip = 4;
        if (hdr_end == std::string_view::npos) {
            hdr_end = whole.find("\n\n");
            skip = 2;
        }
        if (whole.substr(0, 2) == "\r\n" || whole.substr(0, 1) == "\n") {
            hdr_end = 0; // no part headers: text/plain by default (RFC 2046 §5.1.1)
            skip = whole.front() == '\r' ? 2 : 1;
        }
        if (hdr_end != std::string_view::npos) {
            const std::string_view headers = whole.substr(0, hdr_end);
            std::size_t line = 0;
            while (line < headers.size()) {
                std::size_t nl = headers.find('\n', line);
                const std::string_view l = trim_lws(headers.substr(line, nl == std::string_view::npos ? nl : nl - line));
                const std::size_t colon = l.find(':');
                if (colon != std::string_view::npos && iequals(trim_lws(l.substr(0, colon)), "Content-Type")) {
                    const auto pt = parse_media_type(l.substr(colon + 1));
                    if (pt && iequals(pt->type, "application") && iequals(pt->subtype, "sdp")) {
                        return whole.substr(hdr_end + skip);
                    }
                }
                line = nl == std::string_view::npos ? headers.size() : nl + 1;
            }
        }
        pos = end;
    }
    return std::nullopt;
}

} // namespace sipalg::sip
