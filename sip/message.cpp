// See message.hpp. One pass over the lines with memchr; bare LF and CRLF both end a line (RFC 3261
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

// The end of the line starting at pos (offset of '\n', or size when unterminated) and the line
// without its terminator.
struct line_view {
    std::size_t next;      // offset after the terminator
    std::string_view text; // without CR LF
    bool terminated;
};

line_view line_at(std::string_view s, std::size_t pos) noexcept
{
    const void* nl = std::memchr(s.data() + pos, '\n', s.size() - pos);
    std::size_t end = nl == nullptr ? s.size() : static_cast<std::size_t>(static_cast<const char*>(nl) - s.data());
    const std::size_t next = nl == nullptr ? s.size() : end + 1;
    if (end > pos && s[end - 1] == '\r') {
        --end;
    }
    return {next, s.substr(pos, end - pos), nl != nullptr};
}

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
    status_ = 0;
    method_ = sip::method::unknown;
    terminated_ = false;
    has_content_length_ = false;
    body_truncated_ = false;
    content_length_ = 0;
    if (bytes.empty()) {
        return {parse_error::empty, 0};
    }
    if (bytes.size() > max_size) {
        return {parse_error::too_large, 0};
    }

    // Start line (RFC 3261 §7.1, §7.2).
    const line_view first = line_at(bytes, 0);
    if (!first.terminated) {
        return {parse_error::no_start_line, 0};
    }
    start_line_ = first.text;
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

    // Header fields: one pass per line. The name is read with the token table; the value runs to the
    // line end found by memchr.
    const char* const data = bytes.data();
    const std::size_t size = bytes.size();
    std::size_t pos = first.next;
    std::uint32_t line_no = 2;
    body_start_ = static_cast<std::uint32_t>(size);
    while (pos < size) {
        const char c = data[pos];
        if (c == '\n' || (c == '\r' && pos + 1 < size && data[pos + 1] == '\n')) {
            terminated_ = true;
            body_start_ = static_cast<std::uint32_t>(pos + (c == '\n' ? 1 : 2));
            break;
        }
        const auto line_start = static_cast<std::uint32_t>(pos);
        const void* nl = std::memchr(data + pos, '\n', size - pos);
        const std::size_t next = nl == nullptr ? size : static_cast<std::size_t>(static_cast<const char*>(nl) - data) + 1;
        std::size_t line_end = next - (nl == nullptr ? 0 : 1);
        if (line_end > pos && data[line_end - 1] == '\r') {
            --line_end;
        }
        if (c == ' ' || c == '\t') {
            // A folded line continues the previous field's value.
            if (n_headers_ == 0) {
                return {parse_error::fold_before_header, line_start};
            }
            header& h = headers_[n_headers_ - 1u];
            const std::string_view more = trim_lws(bytes.substr(pos, line_end - pos));
            if (!more.empty()) {
                const auto more_start = static_cast<std::uint32_t>(more.data() - data);
                if (h.value_len == 0) {
                    h.value_start = more_start;
                }
                h.value_len = more_start + static_cast<std::uint32_t>(more.size()) - h.value_start;
            }
            h.line_end = static_cast<std::uint32_t>(next);
        } else {
            std::size_t q = pos;
            while (q < line_end && is_token_char(data[q])) {
                ++q;
            }
            const std::size_t name_end = q;
            while (q < line_end && (data[q] == ' ' || data[q] == '\t')) {
                ++q;
            }
            if (q == line_end || data[q] != ':' || name_end == pos) {
                const bool colon = std::memchr(data + pos, ':', line_end - pos) != nullptr;
                return {colon ? parse_error::bad_header_name : parse_error::header_without_colon, line_start};
            }
            if (n_headers_ == max_headers) {
                return {parse_error::too_many_headers, line_start};
            }
            ++q;
            while (q < line_end && (data[q] == ' ' || data[q] == '\t')) {
                ++q;
            }
            std::size_t value_end = line_end;
            while (value_end > q && (data[value_end - 1] == ' ' || data[value_end - 1] == '\t')) {
                --value_end;
            }
            header& h = headers_[n_headers_++];
            h.type = lookup_header(bytes.substr(pos, name_end - pos));
            h.line = line_no;
            h.line_start = line_start;
            h.line_end = static_cast<std::uint32_t>(next);
            h.name_start = line_start;
            h.name_len = static_cast<std::uint32_t>(name_end - pos);
            h.value_start = static_cast<std::uint32_t>(q);
            h.value_len = static_cast<std::uint32_t>(value_end - q);
        }
        pos = next;
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

const header* message::find(header_type t) const noexcept
{
    return find_next(t, nullptr);
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
