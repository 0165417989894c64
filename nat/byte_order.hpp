#pragma once
// Wire byte order as types (STYLE.md item 8). A be16/be32 holds the bytes exactly as they travel; the only
// way in or out is from_host()/to_host(), so a forgotten swap becomes a type error instead of a wrong port
// on the wire. Both are packed (alignment 1) because headers sit at odd offsets inside frames.
#include <bit>
#include <cstdint>

namespace sipalg {

constexpr std::uint16_t swap16(std::uint16_t v) noexcept
{
    return static_cast<std::uint16_t>((v << 8) | (v >> 8));
}

constexpr std::uint32_t swap32(std::uint32_t v) noexcept
{
    return __builtin_bswap32(v);
}

constexpr bool host_is_little = std::endian::native == std::endian::little;

struct [[gnu::packed]] be16 {
    std::uint16_t raw; // network byte order

    static constexpr be16 from_host(std::uint16_t v) noexcept
    {
        return be16{host_is_little ? swap16(v) : v};
    }
    constexpr std::uint16_t to_host() const noexcept
    {
        return host_is_little ? swap16(raw) : raw;
    }
    friend constexpr bool operator==(be16 a, be16 b) noexcept
    {
        return a.raw == b.raw;
    }
};

struct [[gnu::packed]] be32 {
    std::uint32_t raw; // network byte order

    static constexpr be32 from_host(std::uint32_t v) noexcept
    {
        return be32{host_is_little ? swap32(v) : v};
    }
    constexpr std::uint32_t to_host() const noexcept
    {
        return host_is_little ? swap32(raw) : raw;
    }
    friend constexpr bool operator==(be32 a, be32 b) noexcept
    {
        return a.raw == b.raw;
    }
};

static_assert(sizeof(be16) == 2 && alignof(be16) == 1);
static_assert(sizeof(be32) == 4 && alignof(be32) == 1);

} // namespace sipalg
