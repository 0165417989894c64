#pragma once
// Character classes and bounded scanning for SIP text (RFC 3261 §25.1). Every scanner works on a
// std::string_view and never reads outside it (STYLE.md item 4); numbers are parsed with a digit limit
// and a range. Header values may contain folded lines: inside a value, CR and LF only ever appear as
// part of LWS, so the skippers below treat them as white space.
#include <array>
#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
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
    // The first character of [p, end) not in the set, or end. Four characters per step: the loop's
    // bounds test and branch are paid once for four table lookups.
    constexpr const char* skip(const char* p, const char* end) const noexcept
    {
        while (end - p >= 4) {
            if (!(*this)(p[0])) {
                return p;
            }
            if (!(*this)(p[1])) {
                return p + 1;
            }
            if (!(*this)(p[2])) {
                return p + 2;
            }
            if (!(*this)(p[3])) {
                return p + 3;
            }
            p += 4;
        }
        while (p < end && (*this)(*p)) {
            ++p;
        }
        return p;
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
inline constexpr char_set token_chars("", detail::c_token);

inline constexpr std::uint8_t class_unreserved = detail::c_unreserved;
inline constexpr std::uint8_t class_token = detail::c_token;
inline constexpr std::uint8_t class_alnum = detail::c_alpha | detail::c_digit;
inline constexpr std::uint8_t class_hex = detail::c_hex;

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
constexpr bool is_alnum(char c) noexcept
{
    return (detail::classes[static_cast<unsigned char>(c)] & (detail::c_alpha | detail::c_digit)) != 0;
}
constexpr bool is_hex(char c) noexcept
{
    return (detail::classes[static_cast<unsigned char>(c)] & detail::c_hex) != 0;
}
constexpr bool is_unreserved(char c) noexcept
{
    return (detail::classes[static_cast<unsigned char>(c)] & detail::c_unreserved) != 0;
}
// The W-sized word at p, in memory order (an unaligned load; the caller has checked the bytes are there):
// short texts compared a word at a time, without a call to memcmp.
template <class W>
W load_word(const char* p) noexcept
{
    W w;
    std::memcpy(&w, p, sizeof w);
    return w;
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
        // Equal, or the same letter in the other case (the two differ in bit 0x20 alone).
        const auto x = static_cast<unsigned char>(a[i] ^ b[i]);
        if (x != 0 && (x != 0x20 || !is_alpha(a[i]))) {
            return false;
        }
    }
    return true;
}

constexpr bool istarts_with(std::string_view s, std::string_view prefix) noexcept
{
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// The first character of [p, end) that is not LWS: white space runs are short (none or one space),
// so a plain loop, not the unrolled char_set::skip.
constexpr const char* skip_lws(const char* p, const char* end) noexcept
{
    while (p < end && is_lws(*p)) {
        ++p;
    }
    return p;
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
    const char* const end = s.data() + s.size();
    return !s.empty() && token_chars.skip(s.data(), end) == end;
}

// A decimal number of at most `max_digits` digits and at most `max_value`; nothing else in `s`.
constexpr std::optional<std::uint64_t> parse_number(std::string_view s, unsigned max_digits,
                                                    std::uint64_t max_value) noexcept
{
    if (s.empty() || s.size() > max_digits) {
        return std::nullopt;
    }
    std::uint64_t v = 0;
    if (s.size() <= 19) {
        // Nineteen digits stay below 2^64: accumulate, then compare once.
        for (char c : s) {
            if (!is_digit(c)) {
                return std::nullopt;
            }
            v = v * 10 + static_cast<std::uint64_t>(c - '0');
        }
        return v <= max_value ? std::optional<std::uint64_t>(v) : std::nullopt;
    }
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

// The first byte of [p, end) that is one of Cs, or end. Sixteen bytes per step (SSE2 is part of
// x86-64), so finding the end of a 30-byte SIP line costs two compares where a call into memchr costs
// its set-up, and a search for several separators is one pass instead of several. Nothing outside
// [floor, end) is read: when fewer than sixteen bytes are left, the last sixteen of [floor, end) are
// loaded and the bytes before p ignored; only when the whole range is shorter do bytes go one at a
// time (floor defaults to p).
template <char... Cs>
inline const char* find_first_of(const char* p, const char* end, const char* floor = nullptr) noexcept
{
    static_assert(sizeof...(Cs) >= 1 && sizeof...(Cs) <= 4);
#if defined(__SSE2__)
    const auto hits = [](const char* at) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
        return static_cast<unsigned>(_mm_movemask_epi8((_mm_cmpeq_epi8(v, _mm_set1_epi8(Cs)) | ...)));
    };
    while (end - p >= 16) {
        if (const unsigned mask = hits(p); mask != 0) {
            return p + __builtin_ctz(mask);
        }
        p += 16;
    }
    if (p < end && floor != nullptr && end - floor >= 16) {
        const char* const base = end - 16;
        const unsigned mask = hits(base) >> (p - base);
        return mask != 0 ? p + __builtin_ctz(mask) : end;
    }
#else
    (void)floor;
#endif
    while (p < end && !((*p == Cs) || ...)) {
        ++p;
    }
    return p;
}

inline const char* find_line_feed(const char* p, const char* end, const char* floor = nullptr) noexcept
{
    return find_first_of<'\n'>(p, end, floor);
}

// The first SP, HTAB, CR or LF.
inline const char* find_lws(const char* p, const char* end) noexcept
{
    return find_first_of<' ', '\t', '\r', '\n'>(p, end);
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
        if (!done()) {
            pos_ = static_cast<std::size_t>(token_chars.skip(s_.data() + pos_, s_.data() + s_.size()) - s_.data());
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
