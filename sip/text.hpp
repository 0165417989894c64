#pragma once
// Character classes and bounded scanning for SIP text (RFC 3261 §25.1). Every scanner works on a
// std::string_view and never reads outside it (STYLE.md item 4); numbers are parsed with a digit limit
// and a range. Header values may contain folded lines: inside a value, CR and LF only ever appear as
// part of LWS, so the skippers below treat them as white space.
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sipalg::sip {

namespace detail {

enum : std::uint8_t {
    c_alpha = 1,
    c_digit = 2,
    c_token = 4,   // RFC 3261 token: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~"
    c_ws = 8,      // SP, HTAB, CR, LF (LWS inside a header value)
    c_hex = 16,
    c_unreserved = 32, // alphanum / mark (RFC 3261 §25.1)
};

constexpr std::array<std::uint8_t, 256> make_classes()
{
    std::array<std::uint8_t, 256> t{};
    for (int c = 'a'; c <= 'z'; ++c) {
        t[c] |= c_alpha | c_token | c_unreserved;
    }
    for (int c = 'A'; c <= 'Z'; ++c) {
        t[c] |= c_alpha | c_token | c_unreserved;
    }
    for (int c = '0'; c <= '9'; ++c) {
        t[c] |= c_digit | c_token | c_hex | c_unreserved;
    }
    for (int c = 'a'; c <= 'f'; ++c) {
        t[c] |= c_hex;
    }
    for (int c = 'A'; c <= 'F'; ++c) {
        t[c] |= c_hex;
    }
    for (char c : std::string_view("-.!%*_+`'~")) {
        t[static_cast<unsigned char>(c)] |= c_token;
    }
    for (char c : std::string_view("-_.!~*'()")) {
        t[static_cast<unsigned char>(c)] |= c_unreserved;
    }
    for (char c : std::string_view(" \t\r\n")) {
        t[static_cast<unsigned char>(c)] |= c_ws;
    }
    return t;
}

inline constexpr std::array<std::uint8_t, 256> classes = make_classes();

} // namespace detail

// A set of characters as a 256-entry table, built at compile time: membership is one load, where
// searching a string of allowed characters for every input byte would cost a call per byte.
class char_set {
public:
    constexpr char_set(std::string_view chars, std::uint8_t classes = 0) noexcept
    {
        for (char c : chars) {
            in_[static_cast<unsigned char>(c)] = 1;
        }
        for (std::size_t i = 0; i < 256; ++i) {
            if ((detail::classes[i] & classes) != 0) {
                in_[i] = 1;
            }
        }
    }
    constexpr bool operator()(char c) const noexcept
    {
        return in_[static_cast<unsigned char>(c)] != 0;
    }

private:
    std::array<std::uint8_t, 256> in_{};
};

// Whether any character of `s` is in `set` (a table lookup per byte; std::string_view::find_first_of
// would search the set for every byte).
constexpr bool contains_any(std::string_view s, const char_set& set) noexcept
{
    for (char c : s) {
        if (set(c)) {
            return true;
        }
    }
    return false;
}

inline constexpr char_set lws_chars(" \t\r\n");

inline constexpr std::uint8_t class_unreserved = detail::c_unreserved;
inline constexpr std::uint8_t class_token = detail::c_token;

constexpr bool is_token_char(char c) noexcept
{
    return (detail::classes[static_cast<unsigned char>(c)] & detail::c_token) != 0;
}
constexpr bool is_digit(char c) noexcept
{
    return c >= '0' && c <= '9';
}
constexpr bool is_alpha(char c) noexcept
{
    return (detail::classes[static_cast<unsigned char>(c)] & detail::c_alpha) != 0;
}
constexpr bool is_hex(char c) noexcept
{
    return (detail::classes[static_cast<unsigned char>(c)] & detail::c_hex) != 0;
}
constexpr bool is_unreserved(char c) noexcept
{
    return (detail::classes[static_cast<unsigned char>(c)] & detail::c_unreserved) != 0;
}
// White space inside a header value: SP, HTAB and the CR LF of a folded line.
constexpr bool is_lws(char c) noexcept
{
    return (detail::classes[static_cast<unsigned char>(c)] & detail::c_ws) != 0;
}
constexpr char to_lower(char c) noexcept
{
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
}

constexpr bool iequals(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (to_lower(a[i]) != to_lower(b[i])) {
            return false;
        }
    }
    return true;
}

constexpr bool istarts_with(std::string_view s, std::string_view prefix) noexcept
{
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

constexpr std::string_view trim_lws_front(std::string_view s) noexcept
{
    std::size_t i = 0;
    while (i < s.size() && is_lws(s[i])) {
        ++i;
    }
    return s.substr(i);
}

constexpr std::string_view trim_lws_back(std::string_view s) noexcept
{
    std::size_t n = s.size();
    while (n > 0 && is_lws(s[n - 1])) {
        --n;
    }
    return s.substr(0, n);
}

constexpr std::string_view trim_lws(std::string_view s) noexcept
{
    return trim_lws_back(trim_lws_front(s));
}

constexpr bool is_token(std::string_view s) noexcept
{
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        if (!is_token_char(c)) {
            return false;
        }
    }
    return true;
}

// A decimal number of at most `max_digits` digits and at most `max_value`; nothing else in `s`.
constexpr std::optional<std::uint64_t> parse_number(std::string_view s, unsigned max_digits,
                                                    std::uint64_t max_value) noexcept
{
    if (s.empty() || s.size() > max_digits) {
        return std::nullopt;
    }
    std::uint64_t v = 0;
    for (char c : s) {
        if (!is_digit(c)) {
            return std::nullopt;
        }
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (v > (max_value - d) / 10) {
            return std::nullopt; // beyond max_value (and so never wraps around)
        }
        v = v * 10 + d;
    }
    return v;
}

// A cursor over a header value for the small recursive-descent parsers of fields.hpp and uri.hpp.
class scanner {
public:
    constexpr explicit scanner(std::string_view s) noexcept : s_(s) {}

    constexpr bool done() const noexcept
    {
        return pos_ >= s_.size();
    }
    constexpr char peek() const noexcept
    {
        return done() ? '\0' : s_[pos_];
    }
    constexpr std::size_t pos() const noexcept
    {
        return pos_;
    }
    constexpr std::string_view rest() const noexcept
    {
        return s_.substr(pos_);
    }
    constexpr std::string_view text() const noexcept
    {
        return s_;
    }
    constexpr void skip_lws() noexcept
    {
        while (!done() && is_lws(s_[pos_])) {
            ++pos_;
        }
    }
    // Consumes c (after optional LWS on both sides, RFC 3261 §25.1 SWS c SWS).
    constexpr bool eat(char c) noexcept
    {
        const std::size_t save = pos_;
        skip_lws();
        if (peek() == c) {
            ++pos_;
            skip_lws();
            return true;
        }
        pos_ = save;
        return false;
    }
    // Consumes c with no white space around it.
    constexpr bool eat_exact(char c) noexcept
    {
        if (peek() == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    constexpr std::string_view token() noexcept
    {
        const std::size_t start = pos_;
        while (!done() && is_token_char(s_[pos_])) {
            ++pos_;
        }
        return s_.substr(start, pos_ - start);
    }
    // Everything up to (not including) the first character in `stops`, or to the end.
    constexpr std::string_view until(const char_set& stops) noexcept
    {
        const std::size_t start = pos_;
        while (!done() && !stops(s_[pos_])) {
            ++pos_;
        }
        return s_.substr(start, pos_ - start);
    }
    // A quoted-string (RFC 3261 §25.1) including its quotes; empty when unterminated or absent.
    constexpr std::string_view quoted() noexcept
    {
        if (peek() != '"') {
            return {};
        }
        const std::size_t start = pos_;
        ++pos_;
        while (!done()) {
            const char c = s_[pos_];
            if (c == '\\') {
                if (pos_ + 1 >= s_.size()) {
                    break;
                }
                pos_ += 2;
                continue;
            }
            ++pos_;
            if (c == '"') {
                return s_.substr(start, pos_ - start);
            }
        }
        pos_ = start;
        return {};
    }
    constexpr void advance(std::size_t n) noexcept
    {
        pos_ = n > s_.size() - pos_ ? s_.size() : pos_ + n;
    }

private:
    std::string_view s_;
    std::size_t pos_ = 0;
};

} // namespace sipalg::sip
