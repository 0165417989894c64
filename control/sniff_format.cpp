// See sniff_format.hpp.
#include "control/sniff_format.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace sipalg::control {

namespace {

std::uint16_t be16(std::span<const std::uint8_t> b, std::size_t at)
{
    return at + 2 <= b.size() ? static_cast<std::uint16_t>(b[at] << 8 | b[at + 1]) : 0;
}

std::uint32_t be32(std::span<const std::uint8_t> b, std::size_t at)
{
    return at + 4 <= b.size() ? static_cast<std::uint32_t>(b[at]) << 24 | static_cast<std::uint32_t>(b[at + 1]) << 16 |
                                    static_cast<std::uint32_t>(b[at + 2]) << 8 | b[at + 3]
                              : 0;
}

std::string ipv4(std::span<const std::uint8_t> b, std::size_t at)
{
    return at + 4 <= b.size() ? fmt::format("{}.{}.{}.{}", b[at], b[at + 1], b[at + 2], b[at + 3]) : std::string("?");
}

// What the packet is, after the time (and interface): "10.0.1.2.5060 -> 198.51.100.2.5060: udp 512".
std::string summary(std::span<const std::uint8_t> f)
{
    const std::uint16_t type = be16(f, 12);
    if (type == 0x0806 && f.size() >= 42) {
        const std::uint16_t op = be16(f, 20);
        return op == 1 ? fmt::format("arp who-has {} tell {}", ipv4(f, 38), ipv4(f, 28))
                       : fmt::format("arp reply {} is-at {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", ipv4(f, 28), f[22], f[23],
                                     f[24], f[25], f[26], f[27]);
    }
    if (type != 0x0800 || f.size() < 34) {
        return fmt::format("ethertype 0x{:04x} {} bytes", type, f.size());
    }
    const std::size_t ip = 14;
    const std::size_t ihl = static_cast<std::size_t>(f[ip] & 0x0f) * 4;
    const std::uint16_t total = be16(f, ip + 2);
    const std::uint8_t proto = f[ip + 9];
    const std::string src = ipv4(f, ip + 12);
    const std::string dst = ipv4(f, ip + 16);
    const std::size_t l4 = ip + ihl;
    const bool first_fragment = (be16(f, ip + 6) & 0x1fff) == 0;
    if (proto == 17 && first_fragment) {
        return fmt::format("{}.{} -> {}.{}: udp {}", src, be16(f, l4), dst, be16(f, l4 + 2),
                           be16(f, l4 + 4) >= 8 ? be16(f, l4 + 4) - 8 : 0);
    }
    if (proto == 6 && first_fragment && l4 + 14 <= f.size()) {
        const std::uint8_t flags = f[l4 + 13];
        std::string words;
        for (const auto& [bit, word] : {std::pair{0x02, "syn"}, {0x01, "fin"}, {0x04, "rst"}, {0x08, "psh"}}) {
            if ((flags & bit) != 0) {
                words += words.empty() ? "" : " ";
                words += word;
            }
        }
        std::string out = fmt::format("{}.{} -> {}.{}: {}{}{}", src, be16(f, l4), dst, be16(f, l4 + 2), words, words.empty() ? "" : " ",
                                      be32(f, l4 + 4));
        if ((flags & 0x10) != 0) {
            fmt::format_to(std::back_inserter(out), " ack {}", be32(f, l4 + 8));
        }
        return out;
    }
    if (proto == 1 && first_fragment && l4 + 1 <= f.size()) {
        const std::uint8_t t = f[l4];
        const std::string_view what = t == 8 ? "echo request" : t == 0 ? "echo reply" : t == 3 ? "destination unreachable"
                                      : t == 11 ? "time exceeded" : "type";
        return fmt::format("{} -> {}: icmp: {}{}", src, dst, what, t == 8 || t == 0 || t == 3 || t == 11 ? "" : fmt::format(" {}", t));
    }
    return fmt::format("{} -> {}: ip-proto-{} {}", src, dst, proto, total >= ihl ? total - ihl : 0);
}

} // namespace

std::string hex_dump(std::span<const std::uint8_t> bytes)
{
    std::string out;
    for (std::size_t line = 0; line < bytes.size(); line += 16) {
        const std::size_t n = std::min<std::size_t>(16, bytes.size() - line);
        fmt::format_to(std::back_inserter(out), "0x{:04x}\t", line);
        for (std::size_t i = 0; i < 16; i += 2) {
            if (i < n) {
                out += ' ';
                fmt::format_to(std::back_inserter(out), "{:02x}", bytes[line + i]);
                if (i + 1 < n) {
                    fmt::format_to(std::back_inserter(out), "{:02x}", bytes[line + i + 1]);
                } else {
                    out += "  ";
                }
            } else {
                out += "     ";
            }
        }
        out += '\t';
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint8_t c = bytes[line + i];
            out += c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '.';
        }
        out += '\n';
    }
    return out;
}

std::string format_sniffed(const sniffed_view& p, unsigned verbose)
{
    std::string out = fmt::format("{:.6f} ", p.seconds);
    if (verbose >= 4) {
        fmt::format_to(std::back_inserter(out), "{} {} ", p.interface, p.out ? "out" : "in");
    }
    out += summary(p.frame);
    out += '\n';
    const unsigned data = verbose >= 4 ? verbose - 3 : verbose; // 2: from the IP header, 3: from Ethernet
    if (data == 2 && p.frame.size() > 14) {
        out += hex_dump(p.frame.subspan(14));
        out += '\n';
    } else if (data == 3) {
        out += hex_dump(p.frame);
        out += '\n';
    }
    return out;
}

} // namespace sipalg::control
