// The header table's lookup: compact forms by letter, full names through a small open-addressing hash
// of the lower-cased name, built at compile time.
#include "sip/headers.hpp"

#include "sip/text.hpp"

#include <array>
#include <cstring>

namespace sipalg::sip {

namespace {

struct entry {
    std::string_view name;
    char compact;
    header_type type;
};

constexpr std::array entries{
#define SIPALG_X(id, name, compact) entry{name, compact, header_type::id},
    SIPALG_SIP_HEADERS(SIPALG_X)
#undef SIPALG_X
};

// The slot of a name: its length and its first, second and last characters, lower-cased. No loop
// over the name; the comparison that follows settles collisions.
constexpr std::uint32_t slot_key(std::string_view s) noexcept
{
    const auto lower = [](char c) { return static_cast<std::uint32_t>(static_cast<unsigned char>(c) | 0x20u); };
    return static_cast<std::uint32_t>(s.size()) * 0x9e3779b1u ^ lower(s[0]) * 0x85ebca77u ^ lower(s[1]) * 0xc2b2ae3du ^
           lower(s.back()) * 0x27d4eb2fu;
}

constexpr std::size_t table_size = 512; // over four times the entries: short probes

struct slot {
    std::uint8_t entry;   // index + 1; 0 = empty
    std::uint8_t length;
    std::array<char, 32> lower; // the name, lower-cased, zero-padded
};

constexpr std::array<slot, table_size> make_table()
{
    std::array<slot, table_size> t{};
    for (std::size_t i = 0; i < entries.size(); ++i) {
        std::size_t at = slot_key(entries[i].name) % table_size;
        while (t[at].entry != 0) {
            at = (at + 1) % table_size;
        }
        t[at].entry = static_cast<std::uint8_t>(i + 1);
        t[at].length = static_cast<std::uint8_t>(entries[i].name.size());
        for (std::size_t k = 0; k < entries[i].name.size(); ++k) {
            t[at].lower[k] = to_lower(entries[i].name[k]);
        }
    }
    return t;
}

constexpr auto table = make_table();
static_assert(entries.size() < 255);
static_assert([] {
    for (const auto& e : entries) {
        if (e.name.size() > 32) {
            return false;
        }
    }
    return true;
}());

// Case-insensitive equality of a token with a lower-cased table name, eight bytes at a time. For token
// characters, OR-ing 0x20 maps A-Z to a-z and maps no other token character into [a-z0-9-], the
// alphabet of the table's names, so it never makes two different names equal.
bool equals_folded(const char* name, const std::array<char, 32>& lower, std::size_t n) noexcept
{
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t a;
        std::uint64_t b;
        std::memcpy(&a, name + i, 8);
        std::memcpy(&b, lower.data() + i, 8);
        if ((a | 0x2020202020202020ull) != b) {
            return false;
        }
    }
    for (; i < n; ++i) {
        if ((static_cast<unsigned char>(name[i]) | 0x20u) != static_cast<unsigned char>(lower[i])) {
            return false;
        }
    }
    return true;
}

constexpr std::array<header_type, 26> make_compact()
{
    std::array<header_type, 26> t{};
    for (const auto& e : entries) {
        if (e.compact != 0) {
            t[static_cast<std::size_t>(e.compact - 'a')] = e.type;
        }
    }
    return t;
}

constexpr auto compact = make_compact();

} // namespace

header_type lookup_header(std::string_view name) noexcept
{
    if (name.size() == 1) {
        const char c = to_lower(name[0]);
        return c >= 'a' && c <= 'z' ? compact[static_cast<std::size_t>(c - 'a')] : header_type::unknown;
    }
    if (name.empty() || name.size() > 32) {
        return header_type::unknown;
    }
    std::size_t at = slot_key(name) % table_size;
    while (table[at].entry != 0) {
        const slot& t = table[at];
        if (t.length == name.size() && equals_folded(name.data(), t.lower, name.size())) {
            return entries[t.entry - 1u].type;
        }
        at = (at + 1) % table_size;
    }
    return header_type::unknown;
}

std::string_view header_name(header_type t) noexcept
{
    const auto i = static_cast<std::size_t>(t);
    return i == 0 || i > entries.size() ? std::string_view{} : entries[i - 1].name;
}

} // namespace sipalg::sip
