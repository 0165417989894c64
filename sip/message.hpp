#pragma once
// A SIP message as views over its bytes (RFC 3261 §7): the start line, an index of the header fields
// (type, name, value, line) and the body. Nothing is copied; a message never outlives the buffer it was
// parsed from. Header values are parsed only when asked for (fields.hpp). Parsing fails only when the
// bytes cannot be a SIP message at all; everything else that is wrong with them is for the checks
// (checks.hpp) to report, so the ALG can apply the profile's action instead of guessing.
#include "sip/headers.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace sipalg::sip {

// RFC 3261 §7.1 methods and the extensions the ALG knows (RFC 3262, 3265, 3311, 3428, 3515, 3903, 6086).
#define SIPALG_SIP_METHODS(X)                                                                        \
    X(invite, "INVITE")                                                                            \
    X(ack, "ACK")                                                                                  \
    X(bye, "BYE")                                                                                  \
    X(cancel, "CANCEL")                                                                            \
    X(options, "OPTIONS")                                                                          \
    X(register_, "REGISTER")                                                                       \
    X(prack, "PRACK")                                                                              \
    X(subscribe, "SUBSCRIBE")                                                                      \
    X(notify, "NOTIFY")                                                                            \
    X(publish, "PUBLISH")                                                                          \
    X(info, "INFO")                                                                                \
    X(refer, "REFER")                                                                              \
    X(message, "MESSAGE")                                                                          \
    X(update, "UPDATE")

enum class method : std::uint8_t {
    unknown = 0,
#define SIPALG_X(id, text) id,
    SIPALG_SIP_METHODS(SIPALG_X)
#undef SIPALG_X
};

// Methods are case-sensitive (RFC 3261 §7.1).
method lookup_method(std::string_view text) noexcept;
std::string_view method_name(method m) noexcept;

// Why bytes are not a SIP message at all (each is also a counter name in the engines).
#define SIPALG_SIP_PARSE_ERRORS(X)                                                                   \
    X(empty, "no bytes")                                                                           \
    X(too_large, "larger than the parser accepts")                                                 \
    X(no_start_line, "the first line never ends")                                                  \
    X(not_sip, "the first line is neither a SIP request line nor a status line")                   \
    X(header_without_colon, "a header line without a colon")                                       \
    X(bad_header_name, "a header name that is not a token")                                        \
    X(fold_before_header, "a continuation line before the first header")                           \
    X(too_many_headers, "more header fields than the parser indexes")

enum class parse_error : std::uint8_t {
    ok = 0,
#define SIPALG_X(id, text) id,
    SIPALG_SIP_PARSE_ERRORS(SIPALG_X)
#undef SIPALG_X
};

std::string_view parse_error_name(parse_error e) noexcept;

struct parse_status {
    parse_error error = parse_error::ok;
    std::uint32_t offset = 0; // where the problem is
    bool ok() const noexcept
    {
        return error == parse_error::ok;
    }
};

struct header {
    header_type type;
    std::uint32_t line;        // 1-based line number of the header name
    std::uint32_t line_start;  // offset of the line
    std::uint32_t line_end;    // offset after the last line terminator of the field (folds included)
    std::uint32_t name_start;
    std::uint32_t name_len;    // without white space before the colon
    std::uint32_t value_start; // value without leading and trailing LWS; may contain folds
    std::uint32_t value_len;
};

class message {
public:
    static constexpr unsigned max_headers = 128;
    static constexpr std::size_t max_size = 16u << 20;

    message() noexcept
    {
        first_.fill(no_header);
    }

    // Parses one message. Over UDP the bytes are the datagram: Content-Length, when present, bounds
    // the body and anything after it is discarded (RFC 3261 §18.3); over TCP the framer (framer.hpp)
    // has already cut the message at its Content-Length.
    parse_status parse(std::string_view bytes) noexcept;

    std::string_view bytes() const noexcept
    {
        return bytes_;
    }
    bool is_request() const noexcept
    {
        return request_;
    }

    // The start line without its terminator, and its parts as they were split at single spaces. For a
    // request: method, Request-URI, version; for a response: version, code text, reason.
    std::string_view start_line() const noexcept
    {
        return start_line_;
    }
    std::string_view method_text() const noexcept
    {
        return part1_;
    }
    sip::method method_type() const noexcept
    {
        return method_;
    }
    std::string_view request_uri() const noexcept
    {
        return part2_;
    }
    std::string_view version() const noexcept
    {
        return request_ ? part3_ : part1_;
    }
    std::string_view status_text() const noexcept
    {
        return part2_;
    }
    // 100..699, or 0 when the status code is not a three-digit number.
    unsigned status_code() const noexcept
    {
        return status_;
    }
    std::string_view reason() const noexcept
    {
        return part3_;
    }
    // The start line has exactly three parts separated by single spaces (RFC 3261 §7.1, §7.2).
    bool start_line_split_ok() const noexcept
    {
        return split_ok_;
    }

    std::span<const header> headers() const noexcept
    {
        return {headers_.data(), n_headers_};
    }
    // The first header of a type, or null (an index lookup: parse records the first of each type).
    const header* find(header_type t) const noexcept
    {
        const std::uint8_t i = first_[static_cast<std::size_t>(t)];
        return i == no_header ? nullptr : &headers_[i];
    }
    // Headers of a type after `after` (null: from the start).
    const header* find_next(header_type t, const header* after) const noexcept;
    std::string_view name(const header& h) const noexcept
    {
        return bytes_.substr(h.name_start, h.name_len);
    }
    std::string_view value(const header& h) const noexcept
    {
        return bytes_.substr(h.value_start, h.value_len);
    }
    std::string_view value_of(header_type t) const noexcept
    {
        const header* h = find(t);
        return h == nullptr ? std::string_view{} : value(*h);
    }

    // Offset of the body: after the empty line, or the end when the header section never ended.
    std::uint32_t body_offset() const noexcept
    {
        return body_start_;
    }
    std::string_view body() const noexcept
    {
        return bytes_.substr(body_start_, body_end_ - body_start_);
    }
    bool headers_terminated() const noexcept
    {
        return terminated_;
    }
    // Some header was folded over lines (RFC 3261 §7.3.1): its line holds more than one line feed.
    bool folded() const noexcept
    {
        return folded_;
    }
    // The first Content-Length is a valid number; its value.
    bool has_content_length() const noexcept
    {
        return has_content_length_;
    }
    std::uint64_t content_length() const noexcept
    {
        return content_length_;
    }
    // A datagram shorter than its Content-Length says (RFC 4475 §3.1.2.2).
    bool body_truncated() const noexcept
    {
        return body_truncated_;
    }

    // Offset to 1-based (line, column), for findings.
    struct position {
        std::uint32_t line;
        std::uint32_t column;
    };
    position position_of(std::uint32_t offset) const noexcept;

private:
    static constexpr std::uint8_t no_header = 0xff;
    static_assert(max_headers < no_header);

    void split_start_line() noexcept;

    std::string_view bytes_;
    std::string_view start_line_;
    std::string_view part1_;
    std::string_view part2_;
    std::string_view part3_;
    std::uint32_t body_start_ = 0;
    std::uint32_t body_end_ = 0;
    std::uint64_t content_length_ = 0;
    unsigned status_ = 0;
    sip::method method_ = sip::method::unknown;
    bool request_ = false;
    bool split_ok_ = false;
    bool terminated_ = false;
    bool has_content_length_ = false;
    bool body_truncated_ = false;
    bool folded_ = false;
    std::uint16_t n_headers_ = 0;
    std::array<std::uint8_t, static_cast<std::size_t>(header_type::count_)> first_{}; // index by type
    std::array<header, max_headers> headers_;
};

} // namespace sipalg::sip
