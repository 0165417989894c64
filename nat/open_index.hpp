#pragma once
// An open-addressing index of 32-bit values (slot numbers of a table kept elsewhere), with linear probing
// and backward-shift deletion (Knuth 6.4, algorithm R), so there are no tombstones and probe sequences
// stay short. Twice as many positions as the table holds, a power of two. The index stores no keys: the
// caller hashes and matches through the table, which keeps the index at four bytes a position.
// Allocation-free after construction.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

namespace sipalg::nat {

// A 64-bit key to an index hash (Fibonacci hashing: the multiply spreads every key bit into the top).
constexpr std::uint32_t index_hash(std::uint64_t key) noexcept
{
    return static_cast<std::uint32_t>((key * 0x9e3779b97f4a7c15ull) >> 32);
}

class open_index {
public:
    static constexpr std::uint32_t none = 0xffffffffu;

    explicit open_index(std::uint32_t capacity)
        : positions_(std::bit_ceil(std::max<std::uint32_t>(capacity, 8) * 2u), none),
          mask_(static_cast<std::uint32_t>(positions_.size() - 1))
    {
    }

    // The first value along `hash`'s probe sequence for which match(value) holds, or none.
    template <class Match>
    std::uint32_t find(std::uint32_t hash, Match&& match) const noexcept
    {
        for (std::uint32_t i = hash & mask_;; i = (i + 1) & mask_) {
            const std::uint32_t v = positions_[i];
            if (v == none || match(v)) {
                return v;
            }
        }
    }

    // Brings the home position of `hash` into the cache, and the table entry it holds (entry(value):
    // its address): a find soon after waits for neither. The home position holds the value sought
    // nearly always (at most half the positions are used, so probe sequences are short).
    template <class Entry>
    [[gnu::always_inline]] void prefetch(std::uint32_t hash, Entry&& entry) const noexcept
    {
        const std::uint32_t v = positions_[hash & mask_];
        if (v != none) {
            __builtin_prefetch(entry(v));
        }
    }

    // Brings only the home position of `hash` into the cache (for a key that is usually absent).
    [[gnu::always_inline]] void prefetch_position(std::uint32_t hash) const noexcept
    {
        __builtin_prefetch(&positions_[hash & mask_]);
    }

    void insert(std::uint32_t hash, std::uint32_t value) noexcept
    {
        std::uint32_t i = hash & mask_;
        while (positions_[i] != none) {
            i = (i + 1) & mask_;
        }
        positions_[i] = value;
    }

    // Puts `now` where `old` was (same hash): a table entry that stands for another under one key.
    void replace(std::uint32_t hash, std::uint32_t old, std::uint32_t now) noexcept
    {
        positions_[position_of(hash, old)] = now;
    }

    // Removes `value` (inserted with `hash`); hash_of(v) gives the hash of any other value.
    template <class HashOf>
    void erase(std::uint32_t hash, std::uint32_t value, HashOf&& hash_of) noexcept
    {
        std::uint32_t hole = position_of(hash, value);
        for (std::uint32_t j = (hole + 1) & mask_;; j = (j + 1) & mask_) {
            const std::uint32_t v = positions_[j];
            if (v == none) {
                break;
            }
            const std::uint32_t home = hash_of(v) & mask_;
            // Move the value at j into the hole unless its home is cyclically in (hole, j].
            if (((j - home) & mask_) >= ((j - hole) & mask_)) {
                positions_[hole] = v;
                hole = j;
            }
        }
        positions_[hole] = none;
    }

    std::size_t bytes() const noexcept
    {
        return positions_.size() * sizeof(std::uint32_t);
    }

private:
    std::uint32_t position_of(std::uint32_t hash, std::uint32_t value) const noexcept
    {
        std::uint32_t i = hash & mask_;
        while (positions_[i] != value) {
            i = (i + 1) & mask_;
        }
        return i;
    }

    std::vector<std::uint32_t> positions_;
    std::uint32_t mask_;
};

} // namespace sipalg::nat
