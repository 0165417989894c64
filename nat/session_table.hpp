#pragma once
// One worker's session table (ARCHITECTURE.md: each worker owns its tables; no locks, no shared writes).
// Sessions live in a preallocated array; an index of 64-byte buckets maps both directions' flow keys to
// them. A bucket holds twelve slots (a session reference and an 8-bit tag each), so a lookup reads one
// bucket line and, for a tag match, the session's first line: two cache lines, which the worker
// prefetches for a whole burst before it looks. Full buckets spill into the next ones; a per-bucket
// count of spilled entries tells a lookup when to go on. Expiry is a timer wheel of one-second slots
// that a session joins once and leaves lazily: a packet only stores the new expiry time, and when the
// wheel reaches a session that was used since, it is moved to its new slot. Memory comes from one
// mapping per array, with transparent huge pages asked for, and is counted exactly.
#include "nat/session.hpp"

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sipalg::nat {

// Table time: sixteenths of a second since the table's clock started.
inline constexpr std::uint32_t ticks_per_second = 16;

// A found session: its index and the direction the key matched (0: originator's packets).
struct session_ref {
    std::uint32_t index = no_index;
    unsigned dir = 0;
    bool found() const noexcept
    {
        return index != no_index;
    }
};

class session_table {
public:
    static constexpr unsigned slots_per_bucket = 12;
    static constexpr unsigned wheel_slots = 4096; // seconds: the longest timeout kept exactly
    static constexpr unsigned max_probe = 32;     // buckets an insertion may spill across

    // Null when the memory cannot be mapped.
    static std::unique_ptr<session_table> create(std::uint32_t max_sessions);
    ~session_table();
    session_table(const session_table&) = delete;
    session_table& operator=(const session_table&) = delete;

    // Lookup in stages, so that a burst's memory accesses overlap: hash every key, prefetch every
    // bucket, then find (which reads the bucket and the candidate session).
    static std::uint64_t hash(const flow_key& k) noexcept
    {
        return flow_hash(k);
    }
    [[gnu::always_inline]] void prefetch_bucket(std::uint64_t h) const noexcept
    {
        __builtin_prefetch(&buckets_[bucket_of(h)]);
    }
    // The first slot whose tag matches in the home bucket (its reference: index << 1 | direction),
    // unverified, with the session's lines prefetched; or no_index. find() verifies it first.
    std::uint32_t candidate(std::uint64_t h) const noexcept
    {
        const bucket& b = buckets_[bucket_of(h)];
        const unsigned m = tag_matches(b, tag_of(h));
        if (m == 0) {
            return no_index;
        }
        const std::uint32_t ref = b.refs[std::countr_zero(m)];
        prefetch_session(ref >> 1);
        return ref;
    }
    [[gnu::always_inline]] void prefetch_session(std::uint32_t index) const noexcept
    {
        __builtin_prefetch(&sessions_[index]);
        __builtin_prefetch(reinterpret_cast<const char*>(&sessions_[index]) + 64);
    }
    // The session of key k (hash h): the candidate first (the common case: one bucket read, one key
    // compare), then every tag match of the home bucket and of the buckets it spilled into.
    session_ref find(const flow_key& k, std::uint64_t h, std::uint32_t candidate_ref) const noexcept
    {
        if (candidate_ref != no_index && matches(candidate_ref, k)) [[likely]] {
            return {candidate_ref >> 1, candidate_ref & 1u};
        }
        return find_slow(k, h);
    }
    session_ref find(const flow_key& k, std::uint64_t h) const noexcept
    {
        return find_slow(k, h);
    }
    session_ref find(const flow_key& k) const noexcept
    {
        return find_slow(k, hash(k));
    }

    // A new session for a flow whose two keys (as the originator's and the responder's packets arrive)
    // are not in the table; fills key, rewrites, state and expiry and links it into the wheel.
    enum class insert_error : std::uint8_t { none, full, index_full, exists };
    struct insert_result {
        std::uint32_t index = no_index;
        insert_error error = insert_error::none;
    };
    insert_result insert(const flow_key& original, const flow_key& reply, const flow_key& translated,
                         session_state state, std::uint32_t now, std::uint32_t timeout) noexcept;
    void remove(std::uint32_t index) noexcept;

    session& at(std::uint32_t index) noexcept
    {
        return sessions_[index];
    }
    const session& at(std::uint32_t index) const noexcept
    {
        return sessions_[index];
    }

    // Removes every session whose expiry has passed by `now`, handing each to on_expire(index) first;
    // sessions used since they joined their slot move on. At most `budget` sessions are looked at per
    // call; the wheel picks up where it stopped. Returns how many expired.
    template <class F>
    unsigned expire(std::uint32_t now, unsigned budget, F&& on_expire) noexcept;

    // Every session in use, in index order, from `from`, at most `budget`: calls f(index); returns the
    // index to continue from (capacity() when done).
    template <class F>
    std::uint32_t for_each(std::uint32_t from, std::uint32_t budget, F&& f) const
    {
        std::uint32_t i = from;
        for (; i < fresh_ && budget != 0; ++i, --budget) {
            if ((sessions_[i].flags & session_flag::in_use) != 0) {
                f(i);
            }
        }
        return i < fresh_ ? i : capacity_; // never-used sessions are not looked at
    }

    std::uint32_t size() const noexcept
    {
        return size_;
    }
    // Whether the session in slot `index` is still the one that had `generation` there.
    bool alive(std::uint32_t index, std::uint16_t generation) const noexcept
    {
        return index < capacity() && (at(index).flags & session_flag::in_use) != 0 && at(index).slot_generation == generation;
    }
    std::uint32_t capacity() const noexcept
    {
        return capacity_;
    }
    // Bytes mapped for sessions, the index and the wheel.
    std::size_t bytes_allocated() const noexcept;

private:
    struct alignas(64) bucket {
        std::uint32_t refs[slots_per_bucket]; // index << 1 | direction
        std::uint8_t tags[slots_per_bucket];  // 0: free
        std::uint16_t spilled;                // entries whose search passes through this bucket
        std::uint16_t pad;
    };
    static_assert(sizeof(bucket) == 64);
    static_assert(offsetof(bucket, tags) + 16 == sizeof(bucket)); // tag_matches reads 16 bytes

    session_table() = default;

    std::size_t bucket_of(std::uint64_t h) const noexcept
    {
        return static_cast<std::size_t>(h >> bucket_shift_);
    }
    // Bit i set when slot i holds `tag`: one 16-byte compare over the tags (and the two count bytes,
    // masked off).
    static unsigned tag_matches(const bucket& b, std::uint8_t tag) noexcept
    {
#if defined(__SSE2__)
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.tags));
        const auto m = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(static_cast<char>(tag)))));
        return m & ((1u << slots_per_bucket) - 1);
#else
        unsigned m = 0;
        for (unsigned i = 0; i < slots_per_bucket; ++i) {
            m |= unsigned{b.tags[i] == tag} << i;
        }
        return m;
#endif
    }
    bool matches(std::uint32_t ref, const flow_key& k) const noexcept
    {
        const session& s = sessions_[ref >> 1];
        if ((ref & 1u) == 0) {
            return s.key == k;
        }
        // The reply key, compared field by field without building it.
        const nat_rewrite& o = s.rewrite[0];
        return k.src == o.dst && k.dst == o.src && k.sport == o.dport && k.dport == o.sport && k.proto == s.key.proto;
    }
    session_ref find_slow(const flow_key& k, std::uint64_t h) const noexcept;
    static std::uint8_t tag_of(std::uint64_t h) noexcept
    {
        const auto t = static_cast<std::uint8_t>(h >> 8);
        return t == 0 ? 1 : t;
    }
    bool index_insert(std::uint64_t h, std::uint32_t ref) noexcept;
    void index_remove(std::uint64_t h, std::uint32_t ref) noexcept;
    std::size_t wheel_slot(std::uint32_t now, std::uint32_t expires) const noexcept;
    void wheel_link(std::uint32_t index, std::size_t slot) noexcept;
    void wheel_unlink(std::uint32_t index) noexcept;

    session* sessions_ = nullptr;
    bucket* buckets_ = nullptr;
    std::size_t sessions_bytes_ = 0;
    std::size_t buckets_bytes_ = 0;
    std::size_t bucket_mask_ = 0;
    unsigned bucket_shift_ = 64;
    std::uint32_t capacity_ = 0;
    std::uint32_t size_ = 0;
    std::uint32_t free_ = no_index; // freed sessions, listed through session::next
    std::uint32_t fresh_ = 0;       // sessions from here on were never used
    std::unique_ptr<std::uint32_t[]> wheel_;
    std::uint32_t wheel_second_ = 0; // the next second the wheel will process
    bool wheel_started_ = false;
};

template <class F>
unsigned session_table::expire(std::uint32_t now, unsigned budget, F&& on_expire) noexcept
{
    const std::uint32_t now_second = now / ticks_per_second;
    if (!wheel_started_) {
        return 0; // nothing was ever inserted
    }
    unsigned expired = 0;
    // A slot is processed once its second has passed entirely.
    while (wheel_second_ < now_second && budget != 0) {
        const std::size_t slot = wheel_second_ % wheel_slots;
        std::uint32_t i = wheel_[slot];
        while (i != no_index && budget != 0) {
            --budget;
            session& s = sessions_[i];
            const std::uint32_t next = s.next;
            if (static_cast<std::int32_t>(s.expires - now) > 0) {
                // Used since: on to the slot of its new expiry.
                wheel_unlink(i);
                wheel_link(i, wheel_slot(now, s.expires));
            } else {
                on_expire(i);
                remove(i);
                ++expired;
            }
            i = next;
        }
        if (i != no_index) {
            break; // budget spent inside this slot
        }
        ++wheel_second_;
    }
    return expired;
}

} // namespace sipalg::nat
