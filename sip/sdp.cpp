// See sdp.hpp.
#include "sip/sdp.hpp"

#include "sip/fields.hpp"
#include "sip/text.hpp"

#include <cstring>

namespace sipalg::sip {

namespace {

// Splits `value` at single spaces into exactly `n` fields; false when the count differs.
template <std::size_t N>
bool split_fields(std::string_view value, std::array<std::string_view, N>& out, bool rest_in_last = false)
{
    std::size_t start = 0;
    for (std::size_t i = 0; i < N; ++i) {
        if (start > value.size()) {
            return false;
        }
        std::size_t sp = value.find(' ', start);
        if (i + 1 == N) {
            if (!rest_in_last && sp != std::string_view::npos) {
                return false;
            }
            sp = std::string_view::npos;
        } else if (sp == std::string_view::npos) {
            return false;
        }
        out[i] = value.substr(start, sp == std::string_view::npos ? std::string_view::npos : sp - start);
        if (out[i].empty()) {
            return false;
        }
        start = sp == std::string_view::npos ? value.size() + 1 : sp + 1;
    }
    return true;
}

sdp_direction direction_of(std::string_view attribute) noexcept
{
    if (attribute == "sendonly") {
        return sdp_direction::sendonly;
    }
    if (attribute == "recvonly") {
        return sdp_direction::recvonly;
    }
    if (attribute == "inactive") {
        return sdp_direction::inactive;
    }
    return sdp_direction::sendrecv;
}

bool is_direction(std::string_view attribute) noexcept
{
    return attribute == "sendrecv" || attribute == "sendonly" || attribute == "recvonly" || attribute == "inactive";
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
    std::size_t pos = 0;
    while (pos < body.size()) {
        const void* nl = std::memchr(body.data() + pos, '\n', body.size() - pos);
        std::size_t end = nl == nullptr ? body.size() : static_cast<std::size_t>(static_cast<const char*>(nl) - body.data());
        const std::size_t next = nl == nullptr ? body.size() : end + 1;
        if (end > pos && body[end - 1] == '\r') {
            --end;
        }
        const std::string_view text = body.substr(pos, end - pos);
        pos = next;
        if (text.empty()) {
            continue; // a blank line (often at the very end) carries nothing
        }
        if (n_lines_ == max_lines) {
            truncated_ = true;
            break;
        }
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
            if (m != nullptr) {
                m->end_line = index;
            }
            m = &media_[n_media_++];
            *m = sdp_media{};
            m->first_line = index;
            m->end_line = static_cast<std::uint16_t>(index + 1);
            std::array<std::string_view, 4> f;
            if (split_fields(l.value, f, true)) {
                m->media = f[0];
                m->proto = f[2];
                m->formats = f[3];
                std::string_view port = f[1];
                bool ok = is_token(m->media) && !m->proto.empty();
                if (const std::size_t slash = port.find('/'); slash != std::string_view::npos) {
                    const auto count = parse_number(port.substr(slash + 1), 5, 65535);
                    ok = ok && count.has_value() && *count > 0;
                    m->port_count = count ? static_cast<std::uint16_t>(*count) : 1;
                    port = port.substr(0, slash);
                }
                m->port_text = port;
                const auto p = parse_number(port, 5, 65535);
                m->port = p ? static_cast<std::uint16_t>(*p) : 0;
                m->well_formed = ok && p.has_value();
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
        case 'a': {
            const std::string_view name = l.value.substr(0, l.value.find(':'));
            if (is_direction(name)) {
                (m == nullptr ? session_direction_ : m->direction) = direction_of(name);
            } else if (m != nullptr && name == "rtcp" && m->rtcp < 0) {
                m->rtcp = static_cast<std::int16_t>(index);
            } else if (m != nullptr && name == "candidate") {
                ++m->candidates;
            }
            break;
        }
        default:
            break;
        }
        if (m != nullptr) {
            m->end_line = n_lines_;
        }
    }
    // A media section without its own direction inherits the session's (RFC 4566 §6).
    for (std::uint16_t i = 0; i < n_media_; ++i) {
        bool own = false;
        for (std::uint16_t j = media_[i].first_line; j < media_[i].end_line; ++j) {
            const sdp_line& l = lines_[j];
            own = own || (l.type == 'a' && is_direction(l.value));
        }
        if (!own) {
            media_[i].direction = session_direction_;
        }
    }
}

std::optional<std::string_view> find_sdp(const message& m) noexcept
{
    const auto ct = parse_media_type(m.value_of(header_type::content_type));
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
