// See framer.hpp.
#include "sip/framer.hpp"

#include "sip/text.hpp"

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

// What the bytes at a message boundary say so far about a start line: a response begins with "SIP/",
// a request with a method token and a space and, once its line is complete, ends with " SIP/x.y".
// Returns false as soon as they cannot be either (an HTTP request, binary data).
bool may_start_message(std::string_view s, bool line_complete) noexcept
{
    const std::string_view sip = "SIP/";
    if (s.size() <= sip.size() ? istarts_with(sip, s) : istarts_with(s, sip)) {
        return true;
    }
    std::size_t i = 0;
    while (i < s.size() && is_token_char(s[i])) {
        ++i;
    }
    if (i == s.size()) {
        return !line_complete;
    }
    if (i == 0 || s[i] != ' ') {
        return false;
    }
    if (!line_complete) {
        return true;
    }
    if (!s.empty() && s.back() == '\r') {
        s.remove_suffix(1);
    }
    const std::size_t sp = s.rfind(' ');
    return sp > i && istarts_with(s.substr(sp + 1), sip);
}

// The end of the header section (offset after the empty line) in `s`, or npos.
std::size_t header_end(std::string_view s) noexcept
{
    for (std::size_t i = 0; i < s.size(); ++i) {
        const void* nl = std::memchr(s.data() + i, '\n', s.size() - i);
        if (nl == nullptr) {
            return std::string_view::npos;
        }
        i = static_cast<std::size_t>(static_cast<const char*>(nl) - s.data());
        // An empty line follows this LF: "\n\n" or "\n\r\n".
        if (i + 1 < s.size() && s[i + 1] == '\n') {
            return i + 2;
        }
        if (i + 2 < s.size() && s[i + 1] == '\r' && s[i + 2] == '\n') {
            return i + 3;
        }
    }
    return std::string_view::npos;
}

// Content-Length (or "l") of a header section: nothing found is 0; a value that is not a number, or
// two different values, make the framing ambiguous.
struct length_result {
    bool ok;
    std::uint64_t value;
};

length_result content_length(std::string_view headers) noexcept
{
    bool found = false;
    std::uint64_t value = 0;
    std::size_t pos = 0;
    while (pos < headers.size()) {
        std::size_t nl = headers.find('\n', pos);
        if (nl == std::string_view::npos) {
            nl = headers.size();
        }
        const std::string_view line = headers.substr(pos, nl - pos);
        pos = nl + 1;
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || line.empty() || line[0] == ' ' || line[0] == '\t') {
            continue;
        }
        const std::string_view name = trim_lws_back(line.substr(0, colon));
        if (!iequals(name, "Content-Length") && !iequals(name, "l")) {
            continue;
        }
        const auto n = parse_number(trim_lws(line.substr(colon + 1)), 10, 0xffffffffu);
        if (!n || (found && *n != value)) {
            return {false, 0};
        }
        found = true;
        value = *n;
    }
    return {true, value};
}

} // namespace

stream_framer::next stream_framer::cut() noexcept
{
    const std::string_view s(buffer_.data() + start_, buffer_.size() - start_);
    if (s.empty()) {
        return {};
    }
    if (total_ != 0) {
        return s.size() < total_ ? next{} : next{frame_error::none, frame_kind::message, total_};
    }
    // Keep-alives between messages (RFC 5626 §3.5.1): CRLFCRLF is a ping, a lone CRLF a pong. A CRLF
    // that might still grow into a ping waits for the next byte.
    if (!start_line_checked_ && (s[0] == '\r' || s[0] == '\n')) {
        if (s.size() >= 4 && s.substr(0, 4) == "\r\n\r\n") {
            return {frame_error::none, frame_kind::ping, 4};
        }
        if (s[0] == '\n') {
            return {frame_error::none, frame_kind::pong, 1};
        }
        if (s.size() < 2) {
            return {};
        }
        if (s[1] != '\n') {
            return {frame_error::not_sip};
        }
        if (s.size() == 2 || (s[2] == '\r' && s.size() == 3)) {
            return {};
        }
        return {frame_error::none, frame_kind::pong, 2};
    }
    if (!start_line_checked_) {
        const std::size_t first_line = s.find('\n');
        const bool complete = first_line != std::string_view::npos;
        if (!may_start_message(s.substr(0, complete ? first_line : s.size()), complete)) {
            return {frame_error::not_sip};
        }
        if (!complete) {
            return s.size() > max_start_line ? next{frame_error::too_large} : next{};
        }
        start_line_checked_ = true;
        header_scan_ = first_line;
    }
    // Resume a little before where the last search stopped: a terminator may straddle the boundary.
    const std::size_t from = header_scan_ >= 2 ? header_scan_ - 2 : 0;
    const std::size_t found = header_end(s.substr(from));
    if (found == std::string_view::npos) {
        header_scan_ = s.size();
        return s.size() > max_message_ ? next{frame_error::too_large} : next{};
    }
    const std::size_t end = from + found;
    const length_result cl = content_length(s.substr(0, end));
    if (!cl.ok) {
        return {frame_error::bad_content_length};
    }
    const std::uint64_t total = end + cl.value;
    if (total > max_message_) {
        return {frame_error::too_large};
    }
    total_ = static_cast<std::size_t>(total);
    return s.size() < total_ ? next{} : next{frame_error::none, frame_kind::message, total_};
}

} // namespace sipalg::sip
