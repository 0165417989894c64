// See framer.hpp.
#include "sip/framer.hpp"

#include "sip/message.hpp"
#include "sip/text.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace sipalg::sip {

std::string_view frame_error_name(frame_error e) noexcept
{
    switch (e) {
    case frame_error::none:
        return "none";
#define SIPALG_X(id, text)                                                                           \
    case frame_error::id:                                                                            \
        return #id;
        SIPALG_SIP_FRAME_ERRORS(SIPALG_X)
#undef SIPALG_X
    }
    return "unknown";
}

namespace {

constexpr std::string_view sip_slash = "sip/";
constexpr std::string_view content_length = "content-length";

// The name compare below folds case by byte position in a little-endian word.
static_assert(std::endian::native == std::endian::little);

} // namespace

frame_scanner::result frame_scanner::fail(frame_error e, std::size_t used) noexcept
{
    error_ = e;
    result r;
    r.used = used;
    r.error = e;
    return r;
}

frame_scanner::result frame_scanner::done(frame_kind k, std::size_t used) noexcept
{
    result r;
    r.used = used;
    r.complete = true;
    r.kind = k;
    r.length = size_;
    const std::uint32_t max = max_message_;
    *this = frame_scanner(max);
    return r;
}

std::optional<frame_scanner::result> frame_scanner::after_header(header_step step, std::size_t used) noexcept
{
    if (step == header_step::more) {
        if (size_ > max_message_) {
            return fail(frame_error::too_large, used);
        }
        return std::nullopt;
    }
    const std::uint64_t total = std::uint64_t{size_} + (length_found_ ? length_ : 0u);
    if (total > max_message_) {
        return fail(frame_error::too_large, used);
    }
    total_ = static_cast<std::uint32_t>(total);
    if (total_ == size_) {
        return done(frame_kind::message, used);
    }
    phase_ = phase::body;
    return std::nullopt;
}

// A start line, byte by byte: a response begins with "SIP/"; a request is a method token, a space,
// and, once the line is complete, ends with " SIP/x.y" after a later space (RFC 3261 §7.1, §7.2).
// False as soon as the bytes cannot be either (an HTTP request, binary data).
bool frame_scanner::start_line_byte(char c) noexcept
{
    const std::uint32_t pos = size_ - 1;
    if (c == '\n') {
        if (response_match_ == sip_slash.size()) {
            return true;
        }
        return token_ == 1 && version_match_ == sip_slash.size();
    }
    if (response_match_ == pos && pos < sip_slash.size() && to_lower(c) == sip_slash[pos]) {
        ++response_match_;
    }
    if (response_match_ == sip_slash.size()) {
        return true;
    }
    if (token_ == 0) {
        if (is_token_char(c)) {
            return true;
        }
        if (c == ' ' && pos > 0) {
            token_ = 1;
            version_match_ = 0xff; // the version follows a later space
            return true;
        }
        return false;
    }
    if (c == ' ') {
        version_match_ = 0;
    } else if (version_match_ < sip_slash.size()) {
        version_match_ = to_lower(c) == sip_slash[version_match_] ? static_cast<std::uint8_t>(version_match_ + 1) : 0xff;
    }
    return true;
}

// A complete start line (without its LF) as start_line_byte would judge it byte by byte.
bool frame_scanner::whole_start_line(std::string_view text) noexcept
{
    if (text.size() >= sip_slash.size() && istarts_with(text, sip_slash)) {
        return true;
    }
    std::size_t i = 0;
    while (i < text.size() && is_token_char(text[i])) {
        ++i;
    }
    if (i == 0 || i == text.size() || text[i] != ' ') {
        return false;
    }
    const std::size_t last = text.rfind(' ');
    return last > i && istarts_with(text.substr(last + 1), sip_slash);
}

// A complete header text (without its LF) at once, as header_byte would take it byte by byte: the
// empty text ends the headers; a Content-Length (or "l") text's value is checked and kept.
frame_scanner::header_step frame_scanner::whole_header_line(std::string_view text) noexcept
{
    if (text.empty() || text == "\r") {
        return header_step::end;
    }
    // The name: "content-length" or "l" (any case), then LWS up to the colon. Half the lines of a
    // message start with 'c' (Call-ID, CSeq, Contact, Content-Type): the long name is compared as two
    // overlapping words, letters folded to lower case by their 0x20 bit; the '-' (byte 7 of the first
    // word, byte 1 of the second) is compared exactly, since a CR would fold to it.
    std::size_t name_end;
    const char first = to_lower(text[0]);
    if (first == 'c') {
        using word = std::uint64_t;
        constexpr word fold0 = 0x0020202020202020u, fold1 = 0x2020202020200020u;
        if (text.size() < content_length.size() ||
            (load_word<word>(text.data()) | fold0) != load_word<word>(content_length.data()) ||
            (load_word<word>(text.data() + 6) | fold1) != load_word<word>(content_length.data() + 6)) {
            return header_step::more;
        }
        name_end = content_length.size();
    } else if (first == 'l') {
        name_end = 1;
    } else {
        return header_step::more; // a continuation, or another header
    }
    while (name_end < text.size() && is_lws(text[name_end])) {
        ++name_end;
    }
    if (name_end == text.size() || text[name_end] != ':') {
        return header_step::more;
    }
    const std::string_view value = trim_lws(text.substr(name_end + 1));
    const auto v = parse_number(value, 10, 0xffffffffu);
    if (!v || (length_found_ && *v != length_)) {
        return header_step::bad;
    }
    length_found_ = true;
    length_ = static_cast<std::uint32_t>(*v);
    return header_step::more;
}

std::optional<std::uint32_t> frame_scanner::frame_of(const message& m, std::uint32_t max_message) noexcept
{
    const std::string_view b = m.bytes();
    if (!m.headers_terminated() || b.empty() || b.size() > max_message) {
        return std::nullopt;
    }
    // The start line, to its line feed (the parse keeps it without a CR before that), short enough for
    // the scanner to take whole.
    const std::size_t first_lf = m.start_line().size() + (b[m.start_line().size()] == '\r' ? 1u : 0u);
    if (first_lf >= std::min<std::size_t>(b.size(), max_start_line) || b[first_lf] != '\n' ||
        !whole_start_line(b.substr(0, first_lf))) {
        return std::nullopt;
    }
    // The header lines: the parse makes every line after the start line a header of its own or a
    // fold of the one before (anything else is a parse error), so without folds they are one line
    // each, back to back from the start line's end to the last header's.
    if (m.folded()) {
        return std::nullopt;
    }
    frame_scanner s(max_message);
    const std::span<const header> headers = m.headers();
    s.size_ = headers.empty() ? static_cast<std::uint32_t>(first_lf + 1) : headers.back().line_end;
    if (s.size_ > max_message) {
        return std::nullopt;
    }
    // The lines the scanner takes for Content-Length are those the parse does: a parsed name is a token
    // (bytes 0x21-0x7E), and lookup_header folds case exactly on those. Each is read as the scanner
    // reads it.
    for (const header* h = m.find(header_type::content_length); h != nullptr; h = m.find_next(header_type::content_length, h)) {
        if (s.whole_header_line(b.substr(h->line_start, h->line_end - 1 - h->line_start)) != header_step::more) {
            return std::nullopt;
        }
    }
    // The empty line, as the scanner ends the headers ("\n" or "\r\n"), where the parse found it.
    const std::uint32_t empty_end = b[s.size_] == '\n' ? s.size_ + 1 : s.size_ + 2;
    if (empty_end != m.body_offset() || b[empty_end - 1] != '\n') {
        return std::nullopt;
    }
    const std::uint64_t total = std::uint64_t{empty_end} + (s.length_found_ ? s.length_ : 0u);
    if (total != b.size()) {
        return std::nullopt;
    }
    return static_cast<std::uint32_t>(total);
}

// Header lines, byte by byte: the empty line ends them ("\n\n" or "\n\r\n"); a Content-Length (or "l")
// line's value must be one number, the same in every such line (RFC 3261 §18.3, §20.14). A folded
// continuation line is no header of its own.
frame_scanner::header_step frame_scanner::header_byte(char c) noexcept
{
    switch (line_) {
    case line::start:
        if (c == '\n') {
            return header_step::end;
        }
        if (c == '\r') {
            line_ = line::start_cr;
        } else if (c == ' ' || c == '\t') {
            line_ = line::skip;
        } else {
            line_ = line::name;
            name_match_ = to_lower(c) == content_length[0] ? 1 : 0xff;
            name_is_l_ = to_lower(c) == 'l';
            name_ws_ = false;
            if (c == ':' || (name_match_ == 0xff && !name_is_l_)) {
                line_ = line::skip; // no Content-Length: the line's end is all that matters
            }
        }
        return header_step::more;
    case line::start_cr:
        if (c == '\n') {
            return header_step::end;
        }
        line_ = line::skip;
        return header_step::more;
    case line::name:
        if (c == '\n') {
            line_ = line::start;
        } else if (c == ':') {
            if (name_match_ == content_length.size() || name_is_l_) {
                line_ = line::value;
                digits_ = 0;
                value_ = 0;
                value_bad_ = false;
                value_trailing_ = false;
            } else {
                line_ = line::skip;
            }
        } else if (is_lws(c)) {
            name_ws_ = true;
        } else {
            name_is_l_ = false;
            if (name_ws_ || name_match_ >= content_length.size() || to_lower(c) != content_length[name_match_]) {
                name_match_ = 0xff;
                line_ = line::skip;
            } else {
                ++name_match_;
            }
        }
        return header_step::more;
    case line::value:
        if (c == '\n') {
            line_ = line::start;
            if (value_bad_ || digits_ == 0 || (length_found_ && value_ != length_)) {
                return header_step::bad;
            }
            length_found_ = true;
            length_ = static_cast<std::uint32_t>(value_);
        } else if (is_lws(c)) {
            value_trailing_ = digits_ > 0;
        } else if (is_digit(c) && !value_trailing_ && digits_ < 10) {
            ++digits_;
            value_ = value_ * 10 + static_cast<unsigned>(c - '0');
            value_bad_ |= value_ > 0xffffffffu;
        } else {
            value_bad_ = true;
        }
        return header_step::more;
    case line::skip:
        if (c == '\n') {
            line_ = line::start;
        }
        return header_step::more;
    }
    return header_step::more;
}

frame_scanner::result frame_scanner::feed(std::string_view piece) noexcept
{
    if (error_ != frame_error::none) {
        return fail(error_, 0);
    }
    std::size_t i = 0;
    while (i < piece.size()) {
        const char c = piece[i];
        switch (phase_) {
        case phase::boundary:
            // Keep-alives between messages (RFC 5626 §3.5.1): CRLFCRLF is a ping, a lone CRLF (or LF) a
            // pong; a CR must be followed by LF.
            if (c == '\n') {
                size_ = 1;
                return done(frame_kind::pong, i + 1);
            }
            if (c == '\r') {
                phase_ = phase::cr;
                size_ = 1;
                ++i;
                continue;
            }
            phase_ = phase::start_line;
            continue; // the same byte starts the start line
        case phase::cr:
            if (c != '\n') {
                return fail(frame_error::not_sip, i);
            }
            phase_ = phase::crlf;
            size_ = 2;
            ++i;
            continue;
        case phase::crlf:
            if (c != '\r') {
                return done(frame_kind::pong, i); // this byte starts the next frame
            }
            phase_ = phase::crlfcr;
            size_ = 3;
            ++i;
            continue;
        case phase::crlfcr:
            if (c != '\n') {
                return fail(frame_error::not_sip, i);
            }
            size_ = 4;
            return done(frame_kind::ping, i + 1);
        case phase::start_line:
            if (size_ == 0) {
                // The whole line in this piece (the usual case): checked at once.
                const void* nl = std::memchr(piece.data() + i, '\n', std::min<std::size_t>(piece.size() - i, max_start_line));
                if (nl != nullptr) {
                    const auto n = static_cast<std::size_t>(static_cast<const char*>(nl) - (piece.data() + i));
                    if (!whole_start_line(piece.substr(i, n))) {
                        return fail(frame_error::not_sip, i);
                    }
                    size_ = static_cast<std::uint32_t>(n + 1);
                    i += n + 1;
                    phase_ = phase::headers;
                    line_ = line::start;
                    continue;
                }
            }
            ++size_;
            if (!start_line_byte(c)) {
                return fail(frame_error::not_sip, i);
            }
            if (c == '\n') {
                phase_ = phase::headers;
                line_ = line::start;
            } else if (size_ > max_start_line) {
                return fail(frame_error::too_large, i);
            }
            ++i;
            continue;
        case phase::headers: {
            if (line_ == line::start) {
                // Whole header lines in this piece (the usual case), one after another in this loop:
                // each line's name looked at once.
                bool whole = false;
                for (const void* nl; (nl = std::memchr(piece.data() + i, '\n', piece.size() - i)) != nullptr;) {
                    whole = true;
                    const auto n = static_cast<std::size_t>(static_cast<const char*>(nl) - (piece.data() + i));
                    const header_step step = whole_header_line(piece.substr(i, n));
                    if (step == header_step::bad) {
                        return fail(frame_error::bad_content_length, i + n);
                    }
                    size_ += static_cast<std::uint32_t>(n + 1);
                    i += n + 1;
                    if (step == header_step::more && size_ <= max_message_) {
                        if (i == piece.size()) {
                            break;
                        }
                        continue;
                    }
                    if (auto r = after_header(step, i)) {
                        return *r;
                    }
                    break; // the body follows
                }
                if (whole) {
                    continue;
                }
            }
            if (line_ == line::skip && c != '\n') {
                // The rest of a line that is no Content-Length: to its end at once.
                const void* nl = std::memchr(piece.data() + i, '\n', piece.size() - i);
                const std::size_t n = (nl == nullptr ? piece.size() : static_cast<std::size_t>(static_cast<const char*>(nl) - piece.data())) - i;
                size_ += static_cast<std::uint32_t>(n);
                i += n;
                if (size_ > max_message_) {
                    return fail(frame_error::too_large, i);
                }
                continue;
            }
            ++size_;
            const header_step step = header_byte(c);
            if (step == header_step::bad) {
                return fail(frame_error::bad_content_length, i);
            }
            ++i;
            if (auto r = after_header(step, i)) {
                return *r;
            }
            continue;
        }
        case phase::body: {
            const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(total_ - size_, piece.size() - i));
            size_ += n;
            i += n;
            if (size_ == total_) {
                return done(frame_kind::message, i);
            }
            continue;
        }
        }
    }
    result r;
    r.used = i;
    return r;
}

} // namespace sipalg::sip
