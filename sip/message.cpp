// See message.hpp. One pass over the lines (find_line_feed); bare LF and CRLF both end a line (RFC 3261
// §7.5 asks for CRLF, older stacks send LF); a line starting with SP or HTAB continues the previous
// field (§7.3.1).
#include "sip/message.hpp"

#include "sip/text.hpp"

#include <cstring>

namespace sipalg::sip {

namespace {

constexpr std::array method_names{
#define SIPALG_X(id, text) std::string_view(text),
    SIPALG_SIP_METHODS(SIPALG_X)
#undef SIPALG_X
};

} // namespace

method lookup_method(std::string_view text) noexcept
{
    for (std::size_t i = 0; i < method_names.size(); ++i) {
        if (method_names[i] == text) {
            return static_cast<method>(i + 1);
        }
    }
    return method::unknown;
}

std::string_view method_name(method m) noexcept
{
    const auto i = static_cast<std::size_t>(m);
    return i == 0 || i > method_names.size() ? std::string_view{} : method_names[i - 1];
}

std::string_view parse_error_name(parse_error e) noexcept
{
    switch (e) {
    case parse_error::ok:
        return "ok";
#define SIPALG_X(id, text)                                                                           \
    case parse_error::id:                                                                            \
        return #id;
        SIPALG_SIP_PARSE_ERRORS(SIPALG_X)
#undef SIPALG_X
    }
    return "unknown";
}

void message::split_start_line() noexcept
{
    const std::string_view l = start_line_;
    if (request_) {
        // The common shape in one pass: token SP URI SP version, the URI free of white space and the
        // version free of spaces. Anything else takes the general split below.
        const char* const begin = l.data();
        const char* const end = begin + l.size();
        const char* p = begin;
        p = token_chars.skip(p, end);
        const char* const sp1 = p;
        if (p != begin && p < end && *p == ' ') {
            p = find_lws(p + 1, end);
            const char* const sp2 = p;
            if (sp2 != sp1 + 1 && p < end && *p == ' ') {
                ++p;
                while (p < end && *p != ' ') {
                    ++p;
                }
                if (p == end && sp2 + 1 != end) {
                    part1_ = l.substr(0, static_cast<std::size_t>(sp1 - begin));
                    part2_ = std::string_view(sp1 + 1, static_cast<std::size_t>(sp2 - sp1 - 1));
                    part3_ = std::string_view(sp2 + 1, static_cast<std::size_t>(end - sp2 - 1));
                    split_ok_ = true;
                    return;
                }
            }
        }
    }
    const std::size_t sp1 = l.find(' ');
    part1_ = l.substr(0, sp1);
    part2_ = {};
    part3_ = {};
    if (sp1 == std::string_view::npos) {
        split_ok_ = false;
        return;
    }
    if (request_) {
        // Method SP Request-URI SP SIP-Version: the version is the last part, the URI what lies
        // between. Exactly two single spaces and no other white space is the well-formed shape.
        const std::size_t sp2 = l.rfind(' ');
        if (sp2 == sp1) {
            part2_ = l.substr(sp1 + 1);
            split_ok_ = false;
            return;
        }
        part2_ = l.substr(sp1 + 1, sp2 - sp1 - 1);
        part3_ = l.substr(sp2 + 1);
        split_ok_ = !part1_.empty() && !part2_.empty() && !part3_.empty() &&
                    !contains_any(part2_, lws_chars);
        return;
    }
    // SIP-Version SP Status-Code SP Reason-Phrase: the reason may hold spaces and may be empty.
    const std::size_t sp2 = l.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) {
        part2_ = l.substr(sp1 + 1);
        split_ok_ = false;
        return;
    }
    part2_ = l.substr(sp1 + 1, sp2 - sp1 - 1);
    part3_ = l.substr(sp2 + 1);
    split_ok_ = !part1_.empty() && !part2_.empty();
}

parse_status message::parse(std::string_view bytes) noexcept
{
    bytes_ = bytes;
    n_headers_ = 0;
    first_.fill(no_header);
    status_ = 0;
    method_ = sip::method::unknown;
    terminated_ = false;
    has_content_length_ = false;
    body_truncated_ = false;
    folded_ = false;
    content_length_ = 0;
    if (bytes.empty()) {
        return {parse_error::empty, 0};
    }
    if (bytes.size() > max_size) {
        return {parse_error::too_large, 0};
    }
    const char* const data = bytes.data();
    const char* const end = data + bytes.size();
    const auto offset = [data](const char* p) { return static_cast<std::uint32_t>(p - data); };

    // Start line (RFC 3261 §7.1, §7.2).
    const char* lf = find_line_feed(data, end);
    if (lf == end) {
        return {parse_error::no_start_line, 0};
    }
    start_line_ = bytes.substr(0, offset(lf > data && lf[-1] == '\r' ? lf - 1 : lf));
    request_ = !istarts_with(start_line_, "SIP/");
    split_start_line();
    if (request_) {
        // The method must be a token; a last part that is not a SIP version (HTTP/1.1) is not SIP.
        if (!is_token(part1_) || part2_.empty() || (!part3_.empty() && !istarts_with(part3_, "SIP/"))) {
            return {parse_error::not_sip, 0};
        }
        method_ = lookup_method(part1_);
    } else if (part2_.size() == 3 && is_digit(part2_[0]) && is_digit(part2_[1]) && is_digit(part2_[2]) &&
               part2_[0] >= '1' && part2_[0] <= '6') {
        status_ = static_cast<unsigned>((part2_[0] - '0') * 100 + (part2_[1] - '0') * 10 + (part2_[2] - '0'));
    }

    // Header fields, one line at a time: the name is read with the token table, the value runs to the
    // line feed.
    const char* p = lf + 1;
    std::uint32_t line_no = 2;
    body_start_ = static_cast<std::uint32_t>(bytes.size());
    while (p < end) {
        const char c = *p;
        if (c == '\n' || (c == '\r' && end - p >= 2 && p[1] == '\n')) {
            terminated_ = true;
            body_start_ = offset(p + (c == '\n' ? 1 : 2));
            break;
        }
        // Most lines show their name, colon and often their end in the first sixteen bytes: one
        // load finds the colon, the line feed, and whether anything before the colon is white space,
        // a control character or not ASCII.
        const char* colon = nullptr;
#if defined(__SSE2__)
        if (end - p >= 16) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
            const auto colons = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(':'))));
            const auto lfs = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))));
            // Signed compare: bytes up to SP and bytes from 0x80 up.
            const auto odd = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmplt_epi8(v, _mm_set1_epi8('!'))));
            lf = lfs != 0 ? p + __builtin_ctz(lfs) : find_line_feed(p + 16, end, data);
            if (colons != 0) {
                const int k = __builtin_ctz(colons);
                if (k != 0 && (odd & ((1u << k) - 1u)) == 0) {
                    colon = p + k;
                }
            }
        } else
#endif
        {
            lf = find_line_feed(p, end, data);
        }
        const char* const next = lf == end ? end : lf + 1;
        const char* const line_end = lf > p && lf[-1] == '\r' ? lf - 1 : lf;
        if (c == ' ' || c == '\t') {
            // A folded line continues the previous field's value.
            if (n_headers_ == 0) {
                return {parse_error::fold_before_header, offset(p)};
            }
            header& h = headers_[n_headers_ - 1u];
            folded_ = true;
            const std::string_view more = trim_lws(std::string_view(p, static_cast<std::size_t>(line_end - p)));
            if (!more.empty()) {
                const std::uint32_t more_start = offset(more.data());
                if (h.value_len == 0) {
                    h.value_start = more_start;
                }
                h.value_len = more_start + static_cast<std::uint32_t>(more.size()) - h.value_start;
            }
            h.line_end = offset(next);
        } else {
            header_type type = header_type::unknown;
            const char* name_end = colon;
            if (colon != nullptr) {
                // Printable ASCII up to the colon: a name in the table is a token (lookup_header relies
                // on that and so proves it); any other must be checked.
                type = lookup_header(std::string_view(p, static_cast<std::size_t>(colon - p)));
                if (type == header_type::unknown && !is_token(std::string_view(p, static_cast<std::size_t>(colon - p)))) {
                    return {parse_error::bad_header_name, offset(p)};
                }
            } else {
                // The general shape: token, optional white space, colon.
                name_end = token_chars.skip(p, line_end);
                colon = name_end;
                while (colon < line_end && (*colon == ' ' || *colon == '\t')) {
                    ++colon;
                }
                if (colon == line_end || *colon != ':' || name_end == p) {
                    const bool has_colon = std::memchr(p, ':', static_cast<std::size_t>(line_end - p)) != nullptr;
                    return {has_colon ? parse_error::bad_header_name : parse_error::header_without_colon, offset(p)};
                }
                type = lookup_header(std::string_view(p, static_cast<std::size_t>(name_end - p)));
            }
            if (n_headers_ == max_headers) {
                return {parse_error::too_many_headers, offset(p)};
            }
            const char* q = colon + 1;
            while (q < line_end && (*q == ' ' || *q == '\t')) {
                ++q;
            }
            const char* value_end = line_end;
            while (value_end > q && (value_end[-1] == ' ' || value_end[-1] == '\t')) {
                --value_end;
            }
            const auto index = static_cast<std::uint8_t>(n_headers_++);
            header& h = headers_[index];
            h.type = type;
            h.line = line_no;
            h.line_start = offset(p);
            h.line_end = offset(next);
            h.name_start = h.line_start;
            h.name_len = static_cast<std::uint32_t>(name_end - p);
            h.value_start = offset(q);
            h.value_len = static_cast<std::uint32_t>(value_end - q);
            std::uint8_t& first = first_[static_cast<std::size_t>(h.type)];
            first = first == no_header ? index : first;
        }
        p = next;
        ++line_no;
    }

    // Body: bounded by Content-Length (RFC 3261 §18.3, §20.14). A stream message was framed by it.
    body_end_ = static_cast<std::uint32_t>(bytes.size());
    if (const header* cl = find(header_type::content_length); cl != nullptr) {
        if (const auto n = parse_number(value(*cl), 10, 0xffffffffu)) {
            has_content_length_ = true;
            content_length_ = *n;
            const std::uint64_t available = bytes.size() - body_start_;
            if (*n < available) {
                body_end_ = static_cast<std::uint32_t>(body_start_ + *n);
            } else if (*n > available) {
                body_truncated_ = true;
            }
        }
    }
    return {};
}

const header* message::find_next(header_type t, const header* after) const noexcept
{
    const header* h = after == nullptr ? headers_.data() : after + 1;
    const header* end = headers_.data() + n_headers_;
    for (; h < end; ++h) {
        if (h->type == t) {
            return h;
        }
    }
    return nullptr;
}

message::position message::position_of(std::uint32_t offset) const noexcept
{
    std::uint32_t line = 1;
    std::uint32_t line_start = 0;
    const std::uint32_t end = offset < bytes_.size() ? offset : static_cast<std::uint32_t>(bytes_.size());
    for (std::uint32_t i = 0; i < end; ++i) {
        if (bytes_[i] == '\n') {
            ++line;
            line_start = i + 1;
        }
    }
    return {line, offset - line_start + 1};
}

} // namespace sipalg::sip
