// Text forms of IPv4 addresses, prefixes and MAC addresses for configuration and diagnostics.
#include "nat/ipv4.hpp"

#include <charconv>

namespace sipalg {

namespace {

std::optional<unsigned> hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return static_cast<unsigned>(c - '0');
    }
    if (c >= 'a' && c <= 'f') {
        return static_cast<unsigned>(c - 'a' + 10);
    }
    if (c >= 'A' && c <= 'F') {
        return static_cast<unsigned>(c - 'A' + 10);
    }
    return std::nullopt;
}

} // namespace

ipv4_scan scan_ipv4(const char* p, const char* end) noexcept
{
    // Four groups of one to three digits, each at most 255, separated by single dots. While three
    // bytes remain a group is read without a bounds test per byte.
    const auto digit = [](char c) { return static_cast<unsigned>(c - '0') <= 9u; };
    ipv4_address a = 0;
    for (int i = 0; i < 4; ++i) {
        if (i != 0) {
            if (p == end || *p != '.') {
                return {};
            }
            ++p;
        }
        unsigned v = 0;
        if (end - p >= 3) {
            const auto d0 = static_cast<unsigned>(p[0] - '0');
            const auto d1 = static_cast<unsigned>(p[1] - '0');
            const auto d2 = static_cast<unsigned>(p[2] - '0');
            if (d0 > 9) {
                return {};
            }
            if (d1 > 9) {
                v = d0;
                p += 1;
            } else if (d2 > 9) {
                v = d0 * 10 + d1;
                p += 2;
            } else {
                v = d0 * 100 + d1 * 10 + d2;
                p += 3;
                if (v > 255 || (p < end && digit(*p))) {
                    return {};
                }
            }
        } else {
            if (p == end || !digit(*p)) {
                return {};
            }
            v = static_cast<unsigned>(*p++ - '0');
            if (p < end && digit(*p)) {
                v = v * 10 + static_cast<unsigned>(*p++ - '0');
            }
        }
        a = (a << 8) | v;
    }
    return {p, a};
}

std::optional<ipv4_address> parse_ipv4(std::string_view text)
{
    const char* end = text.data() + text.size();
    const ipv4_scan r = scan_ipv4(text.data(), end);
    if (r.stop == nullptr || r.stop != end) {
        return std::nullopt; // (an empty view may have a null end, hence the first test)
    }
    return r.address;
}

std::optional<std::uint8_t> netmask_length(ipv4_address mask)
{
    const auto len = static_cast<std::uint8_t>(std::countl_one(mask));
    const ipv4_prefix p{0, len};
    if (p.mask() != mask) {
        return std::nullopt;
    }
    return len;
}

std::optional<ipv4_prefix> parse_ipv4_prefix(std::string_view text)
{
    if (const auto slash = text.find('/'); slash != std::string_view::npos) {
        const auto addr = parse_ipv4(text.substr(0, slash));
        const auto len_text = text.substr(slash + 1);
        unsigned len = 0;
        const auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
        if (!addr || ec != std::errc{} || end != len_text.data() + len_text.size() || len_text.empty() ||
            len_text.size() > 2 || len > 32) {
            return std::nullopt;
        }
        return ipv4_prefix{*addr, static_cast<std::uint8_t>(len)};
    }
    const auto space = text.find(' ');
    if (space == std::string_view::npos) {
        return std::nullopt;
    }
    const auto addr = parse_ipv4(text.substr(0, space));
    auto mask_text = text.substr(space + 1);
    while (!mask_text.empty() && mask_text.front() == ' ') {
        mask_text.remove_prefix(1);
    }
    const auto mask = parse_ipv4(mask_text);
    if (!addr || !mask) {
        return std::nullopt;
    }
    const auto len = netmask_length(*mask);
    if (!len) {
        return std::nullopt;
    }
    return ipv4_prefix{*addr, *len};
}

std::string format_ipv4(ipv4_address a)
{
    std::string s;
    s.reserve(15);
    for (int shift = 24; shift >= 0; shift -= 8) {
        s += std::to_string((a >> shift) & 0xffu);
        if (shift != 0) {
            s += '.';
        }
    }
    return s;
}

std::string format_prefix(const ipv4_prefix& p)
{
    return format_ipv4(p.address) + "/" + std::to_string(p.length);
}

std::optional<mac_address> parse_mac(std::string_view text)
{
    if (text.size() != 17) {
        return std::nullopt;
    }
    mac_address m{};
    for (std::size_t i = 0; i < 6; ++i) {
        const auto hi = hex_digit(text[i * 3]);
        const auto lo = hex_digit(text[i * 3 + 1]);
        if (!hi || !lo) {
            return std::nullopt;
        }
        if (i < 5 && text[i * 3 + 2] != ':' && text[i * 3 + 2] != '-') {
            return std::nullopt;
        }
        m[i] = static_cast<std::uint8_t>((*hi << 4) | *lo);
    }
    return m;
}

std::string format_mac(const mac_address& m)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    s.reserve(17);
    for (std::size_t i = 0; i < m.size(); ++i) {
        if (i != 0) {
            s += ':';
        }
        s += digits[m[i] >> 4];
        s += digits[m[i] & 0xf];
    }
    return s;
}

std::string_view ipv4_error_name(ipv4_error e) noexcept
{
    switch (e) {
    case ipv4_error::ok:
        return "ok";
#define SIPALG_X(name, text)                                                                         \
    case ipv4_error::name:                                                                           \
        return #name;
        SIPALG_IPV4_ERRORS(SIPALG_X)
#undef SIPALG_X
    }
    return "unknown";
}

} // namespace sipalg
