// The header table's lookup: compact forms by letter, full names through a small open-addressing hash
// of the lower-cased name, built at compile time.
#include "sip/headers.hpp"

#include "sip/text.hpp"

#include <array>

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

constexpr std::uint32_t hash_lower(std::string_view s) noexcept
{
    std::uint32_t h = 2166136261u; // FNV-1a
    for (char c : s) {
        h ^= static_cast<unsigned char>(to_lower(c));
        h *= 16777619u;
    }
    return h;
}

constexpr std::size_t table_size = 512; // over four times the entries: short probes

constexpr std::array<std::uint8_t, table_size> make_table()
{
    std::array<std::uint8_t, table_size> t{}; // 0 = empty, else index + 1
    for (std::size_t i = 0; i < entries.size(); ++i) {
        std::size_t slot = hash_lower(entries[i].name) % table_size;
        while (t[slot] != 0) {
            slot = (slot + 1) % table_size;
        }
        t[slot] = static_cast<std::uint8_t>(i + 1);
    }
    return t;
}

constexpr auto table = make_table();
static_assert(entries.size() < 255);

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
    std::size_t slot = hash_lower(name) % table_size;
    while (table[slot] != 0) {
        const entry& e = entries[table[slot] - 1u];
        if (iequals(e.name, name)) {
            return e.type;
        }
        slot = (slot + 1) % table_size;
    }
    return header_type::unknown;
}

std::string_view header_name(header_type t) noexcept
{
    const auto i = static_cast<std::size_t>(t);
    return i == 0 || i > entries.size() ? std::string_view{} : entries[i - 1].name;
}

} // namespace sipalg::sip
