// See session_table.hpp.
#include "nat/session_table.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <bit>

namespace sipalg::nat {

namespace {

// Anonymous memory for a table array, with transparent huge pages asked for (MADV_HUGEPAGE): the
// tables are large and read at random, so 2 MiB pages save most of the TLB misses. Zeroed by the
// kernel.
void* map(std::size_t bytes) noexcept
{
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return nullptr;
    }
    madvise(p, bytes, MADV_HUGEPAGE);
    return p;
}

std::size_t round_up(std::size_t n, std::size_t to)
{
    return (n + to - 1) / to * to;
}

constexpr std::size_t huge_page = std::size_t{2} << 20;

} // namespace

std::unique_ptr<session_table> session_table::create(std::uint32_t max_sessions)
{
    if (max_sessions == 0 || max_sessions >= (1u << 30)) {
        return nullptr;
    }
    std::unique_ptr<session_table> t(new session_table());
    t->capacity_ = max_sessions;
    // Two keys per session; buckets at most three-quarters full on average, a power of two of them.
    const std::uint64_t slots_needed = std::uint64_t{max_sessions} * 2 * 4 / 3;
    const std::uint64_t buckets = std::bit_ceil(std::max<std::uint64_t>(2, (slots_needed + slots_per_bucket - 1) / slots_per_bucket));
    t->bucket_mask_ = static_cast<std::size_t>(buckets - 1);
    t->bucket_shift_ = static_cast<unsigned>(64 - std::countr_zero(buckets));
    t->sessions_bytes_ = round_up(sizeof(session) * std::size_t{max_sessions}, huge_page);
    t->buckets_bytes_ = round_up(sizeof(bucket) * static_cast<std::size_t>(buckets), huge_page);
    t->sessions_ = static_cast<session*>(map(t->sessions_bytes_));
    t->buckets_ = static_cast<bucket*>(map(t->buckets_bytes_));
    if (t->sessions_ == nullptr || t->buckets_ == nullptr) {
        return nullptr;
    }
    // The mapping is zero: every bucket empty, every session free (flags 0). Sessions are handed out
    // in index order before any freed one is reused, so memory is touched only as the table fills: a
    // million-session table costs nothing until it is used.
    t->free_ = no_index;
    t->wheel_ = std::make_unique<std::uint32_t[]>(wheel_slots);
    std::fill_n(t->wheel_.get(), wheel_slots, no_index);
    return t;
}

session_table::~session_table()
{
    if (sessions_ != nullptr) {
        munmap(sessions_, sessions_bytes_);
    }
    if (buckets_ != nullptr) {
        munmap(buckets_, buckets_bytes_);
    }
}

std::size_t session_table::bytes_allocated() const noexcept
{
    return sessions_bytes_ + buckets_bytes_ + wheel_slots * sizeof(std::uint32_t);
}

session_ref session_table::find_slow(const flow_key& k, std::uint64_t h) const noexcept
{
    const std::uint8_t tag = tag_of(h);
    std::size_t at = bucket_of(h);
    for (unsigned probe = 0; probe < max_probe; ++probe) {
        const bucket& b = buckets_[at];
        for (unsigned m = tag_matches(b, tag); m != 0; m &= m - 1) {
            const std::uint32_t ref = b.refs[std::countr_zero(m)];
            if (matches(ref, k)) {
                return {ref >> 1, ref & 1u};
            }
        }
        if (b.spilled == 0) {
            break;
        }
        at = (at + 1) & bucket_mask_;
    }
    return {};
}

bool session_table::index_insert(std::uint64_t h, std::uint32_t ref) noexcept
{
    const std::size_t home = bucket_of(h);
    std::size_t at = home;
    for (unsigned probe = 0; probe < max_probe; ++probe) {
        bucket& b = buckets_[at];
        for (unsigned i = 0; i < slots_per_bucket; ++i) {
            if (b.tags[i] == 0) {
                b.tags[i] = tag_of(h);
                b.refs[i] = ref;
                // Every bucket passed on the way records that a search must go on past it.
                for (std::size_t p = home; p != at; p = (p + 1) & bucket_mask_) {
                    ++buckets_[p].spilled;
                }
                return true;
            }
        }
        at = (at + 1) & bucket_mask_;
    }
    return false;
}

void session_table::index_remove(std::uint64_t h, std::uint32_t ref) noexcept
{
    const std::size_t home = bucket_of(h);
    std::size_t at = home;
    for (unsigned probe = 0; probe < max_probe; ++probe) {
        bucket& b = buckets_[at];
        for (unsigned i = 0; i < slots_per_bucket; ++i) {
            if (b.tags[i] != 0 && b.refs[i] == ref) {
                b.tags[i] = 0;
                for (std::size_t p = home; p != at; p = (p + 1) & bucket_mask_) {
                    --buckets_[p].spilled;
                }
                return;
            }
        }
        at = (at + 1) & bucket_mask_;
    }
}

std::size_t session_table::wheel_slot(std::uint32_t now, std::uint32_t expires) const noexcept
{
    // Never further ahead than the wheel reaches: a later expiry is looked at again when its slot comes.
    std::uint32_t second = expires / ticks_per_second;
    const std::uint32_t base = wheel_started_ ? wheel_second_ : now / ticks_per_second;
    if (second - base >= wheel_slots) {
        second = base + wheel_slots - 1;
    }
    return second % wheel_slots;
}

// A list head's prev names its slot (with the top bit set, above any session index), so unlinking a
// head needs no search.
namespace {
constexpr std::uint32_t head_mark = 0x80000000u;
}

void session_table::wheel_link(std::uint32_t index, std::size_t slot) noexcept
{
    session& s = sessions_[index];
    s.prev = head_mark | static_cast<std::uint32_t>(slot);
    s.next = wheel_[slot];
    if (s.next != no_index) {
        sessions_[s.next].prev = index;
    }
    wheel_[slot] = index;
}

void session_table::wheel_unlink(std::uint32_t index) noexcept
{
    session& s = sessions_[index];
    if (s.prev == no_index) {
        return; // not linked
    }
    if ((s.prev & head_mark) != 0) {
        wheel_[s.prev & ~head_mark] = s.next;
    } else {
        sessions_[s.prev].next = s.next;
    }
    if (s.next != no_index) {
        sessions_[s.next].prev = s.prev;
    }
    s.next = no_index;
    s.prev = no_index;
}

session_table::insert_result session_table::insert(const flow_key& original, const flow_key& reply,
                                                   const flow_key& translated, session_state state, std::uint32_t now,
                                                   std::uint32_t timeout) noexcept
{
    if (free_ == no_index && fresh_ == capacity_) {
        return {no_index, insert_error::full};
    }
    if (!wheel_started_) {
        wheel_second_ = now / ticks_per_second; // the wheel's clock starts with the first session
        wheel_started_ = true;
    }
    const std::uint64_t h0 = hash(original);
    const std::uint64_t h1 = hash(reply);
    if (find(original, h0).found() || find(reply, h1).found()) {
        return {no_index, insert_error::exists};
    }
    std::uint32_t index;
    if (free_ != no_index) {
        index = free_;
        free_ = sessions_[index].next;
    } else {
        index = fresh_++;
    }
    session& s = sessions_[index];
    const auto generation = static_cast<std::uint16_t>(s.slot_generation + 1);
    s = session();
    s.slot_generation = generation;
    s.key = original;
    // Direction 0 turns the original key into the translated one; direction 1 turns the reply key
    // (the translated key reversed) back into the original reversed.
    s.rewrite[0] = make_rewrite(original, translated);
    s.rewrite[1] = make_rewrite(reply, original.reversed());
    s.state = state;
    s.flags = session_flag::in_use;
    s.created = now;
    s.expires = now + timeout;
    if (!index_insert(h0, index << 1)) {
        s = session();
        s.slot_generation = generation;
        s.next = free_;
        free_ = index;
        return {no_index, insert_error::index_full};
    }
    if (!index_insert(h1, index << 1 | 1u)) {
        index_remove(h0, index << 1);
        s = session();
        s.next = free_;
        free_ = index;
        return {no_index, insert_error::index_full};
    }
    wheel_link(index, wheel_slot(now, s.expires));
    ++size_;
    return {index, insert_error::none};
}

void session_table::remove(std::uint32_t index) noexcept
{
    session& s = sessions_[index];
    if ((s.flags & session_flag::in_use) == 0) {
        return;
    }
    index_remove(hash(s.key), index << 1);
    index_remove(hash(s.reply_key()), index << 1 | 1u);
    wheel_unlink(index);
    s = session();
    s.next = free_;
    free_ = index;
    --size_;
}

} // namespace sipalg::nat
