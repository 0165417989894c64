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
    // Shifts and exclusive-ors only: the key is ready a cycle or two after the name's bytes are, where
    // a chain of multiplies would make every header wait on it.
    const auto lower = [](char c) { return static_cast<std::uint32_t>(static_cast<unsigned char>(c) | 0x20u); };
    return static_cast<std::uint32_t>(s.size()) ^ lower(s[0]) << 4 ^ lower(s[1]) ^ lower(s.back()) << 3;
}

constexpr std::size_t table_size = 512; // over four times the entries: short probes

// The hash table holds one byte per slot (the entry's index + 1, 0 = empty), so the whole of it is
// eight cache lines; the lower-cased names are apart, indexed by entry, read only for the candidate.
struct folded_name {
    std::array<char, 32> lower{}; // zero-padded
    std::uint8_t length = 0;
};

constexpr std::array<std::uint8_t, table_size> make_table()
{
    std::array<std::uint8_t, table_size> t{};
    for (std::size_t i = 0; i < entries.size(); ++i) {
        std::size_t at = slot_key(entries[i].name) % table_size;
        while (t[at] != 0) {
            at = (at + 1) % table_size;
        }
        t[at] = static_cast<std::uint8_t>(i + 1);
    }
    return t;
}

constexpr std::array<folded_name, entries.size()> make_names()
{
    std::array<folded_name, entries.size()> n{};
    for (std::size_t i = 0; i < entries.size(); ++i) {
        n[i].length = static_cast<std::uint8_t>(entries[i].name.size());
        for (std::size_t k = 0; k < entries[i].name.size(); ++k) {
            n[i].lower[k] = to_lower(entries[i].name[k]);
        }
    }
    return n;
}

constexpr auto table = make_table();
// Every name is found within two probes (the shifts above were chosen for that).
static_assert([] {
    for (const auto& e : entries) {
        std::size_t at = slot_key(e.name) % table_size;
        std::size_t probes = 1;
        while (entries[table[at] - 1u].name != e.name) {
            at = (at + 1) % table_size;
            ++probes;
        }
        if (probes > 2) {
            return false;
        }
    }
    return true;
}());
constexpr auto names = make_names();
static_assert(entries.size() < 255);
static_assert([] {
    for (const auto& e : entries) {
        if (e.name.size() > 32) {
            return false;
        }
    }
    return true;
}());

// Case-insensitive equality of a name with a lower-cased table name, a word at a time. For bytes
// 0x21-0x7E, OR-ing 0x20 maps A-Z to a-z and maps no other byte into [a-z0-9-], the alphabet of the
// table's names, so it never makes two different names equal. The last word overlaps
// the one before instead of falling back to bytes; the table side is zero-padded to 32 bytes, so its
// loads stay inside it.
template <class W>
bool word_equal(const char* name, const char* lower) noexcept
{
    constexpr W fold = static_cast<W>(0x2020202020202020ull);
    return static_cast<W>(load_word<W>(name) | fold) == load_word<W>(lower);
}

bool equals_folded(const char* name, const std::array<char, 32>& table_name, std::size_t n) noexcept
{
    const char* lower = table_name.data();
    if (n >= 8) {
        for (std::size_t i = 0; i + 8 < n; i += 8) {
            if (!word_equal<std::uint64_t>(name + i, lower + i)) {
                return false;
            }
        }
        return word_equal<std::uint64_t>(name + n - 8, lower + n - 8);
    }
    if (n >= 4) {
        return word_equal<std::uint32_t>(name, lower) && word_equal<std::uint32_t>(name + n - 4, lower + n - 4);
    }
    return word_equal<std::uint16_t>(name, lower) && word_equal<std::uint16_t>(name + n - 2, lower + n - 2);
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
    while (table[at] != 0) {
        const std::size_t i = table[at] - 1u;
        if (names[i].length == name.size() && equals_folded(name.data(), names[i].lower, name.size())) {
            return entries[i].type;
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
