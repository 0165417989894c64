// See pinhole_table.hpp.
#include "nat/pinhole_table.hpp"

namespace sipalg::nat {

pinhole_table::pinhole_table(std::uint32_t capacity)
    : slots_(capacity), counts_(capacity), counts_index_(capacity), inside_index_(capacity), public_index_(capacity),
      call_index_(capacity)
{
    free_.reserve(capacity);
    free_counts_.reserve(capacity);
    for (std::uint32_t i = capacity; i > 0; --i) {
        free_.push_back(i - 1);
        free_counts_.push_back(i - 1);
    }
}

namespace {

bool counted(const pinhole& p) noexcept
{
    return p.kind == pinhole_kind::media || p.kind == pinhole_kind::contact;
}

} // namespace

void pinhole_table::count(const pinhole& p, int by) noexcept
{
    if (!counted(p)) {
        return;
    }
    std::uint32_t c = counts_index_.find(index_hash(p.inside_address), [&](std::uint32_t x) { return counts_[x].address == p.inside_address; });
    if (c == none) {
        c = free_counts_.back(); // never empty: at most one entry per pinhole
        free_counts_.pop_back();
        counts_[c] = {p.inside_address, 0};
        counts_index_.insert(index_hash(p.inside_address), c);
    }
    counts_[c].n = static_cast<std::uint32_t>(static_cast<int>(counts_[c].n) + by);
    if (counts_[c].n == 0) {
        counts_index_.erase(index_hash(p.inside_address), c, [this](std::uint32_t x) { return index_hash(counts_[x].address); });
        free_counts_.push_back(c);
    }
}

std::uint32_t pinhole_table::insert(const pinhole& p, std::uint32_t per_address) noexcept
{
    refusal_ = free_.empty() ? refusal::full
               : find_public(p.proto, p.public_address, p.public_port) != none ? refusal::public_taken
               : find_inside_if(p.proto, p.inside_address, p.inside_port, [&](const pinhole& o) {
                     return p.kind != pinhole_kind::media || o.kind != pinhole_kind::media || o.call == p.call || p.call == 0;
                 }) != none
                   ? refusal::inside_taken
               : per_address != 0 && counted(p) && count_of(p.inside_address) >= per_address ? refusal::address_limit
                                                                                            : refusal::none;
    if (refusal_ != refusal::none) {
        return none;
    }
    const std::uint32_t slot = free_.back();
    free_.pop_back();
    pinhole& s = slots_[slot];
    const std::uint16_t generation = s.generation;
    s = p;
    s.generation = generation;
    s.in_use = true;
    s.next_in_call = none;
    inside_index_.insert(hash(key_in(slot, true)), slot);
    public_index_.insert(hash(key_in(slot, false)), slot);
    if (p.call != 0) {
        // The first pinhole of a call heads its chain in the call index; the others follow it.
        const std::uint32_t head = call_head(p.call);
        if (head == none) {
            call_index_.insert(call_hash(p.call), slot);
        } else {
            s.next_in_call = slots_[head].next_in_call;
            slots_[head].next_in_call = slot;
        }
    }
    count(s, 1);
    ++used_;
    return slot;
}

void pinhole_table::remove(std::uint32_t slot) noexcept
{
    pinhole& s = slots_[slot];
    if (!s.in_use) {
        return;
    }
    if (s.call != 0) {
        const std::uint32_t head = call_head(s.call);
        if (head == slot && s.next_in_call != none) {
            call_index_.replace(call_hash(s.call), slot, s.next_in_call);
        } else if (head == slot) {
            call_index_.erase(call_hash(s.call), slot, [this](std::uint32_t x) { return call_hash(slots_[x].call); });
        } else {
            for (std::uint32_t p = head; p != none; p = slots_[p].next_in_call) {
                if (slots_[p].next_in_call == slot) {
                    slots_[p].next_in_call = s.next_in_call;
                    break;
                }
            }
        }
    }
    count(s, -1);
    inside_index_.erase(hash(key_in(slot, true)), slot, [this](std::uint32_t x) { return hash(key_in(x, true)); });
    public_index_.erase(hash(key_in(slot, false)), slot, [this](std::uint32_t x) { return hash(key_in(x, false)); });
    s.in_use = false;
    s.generation = static_cast<std::uint16_t>(s.generation + 1);
    free_.push_back(slot);
    --used_;
}

unsigned pinhole_table::remove_call(std::uint64_t call) noexcept
{
    unsigned n = 0;
    for (std::uint32_t head = call == 0 ? none : call_head(call); head != none; head = call_head(call)) {
        remove(head);
        ++n;
    }
    return n;
}

void pinhole_table::refresh_call(std::uint64_t call, std::uint32_t expires) noexcept
{
    for (std::uint32_t p = call == 0 ? none : call_head(call); p != none; p = slots_[p].next_in_call) {
        if (static_cast<std::int32_t>(slots_[p].expires - expires) < 0) {
            slots_[p].expires = expires;
        }
    }
}

unsigned pinhole_table::expire(std::uint32_t now, std::uint32_t budget) noexcept
{
    unsigned n = 0;
    const auto size = static_cast<std::uint32_t>(slots_.size());
    for (std::uint32_t k = 0; k < budget && k < size; ++k) {
        const std::uint32_t i = expire_cursor_;
        expire_cursor_ = expire_cursor_ + 1 == size ? 0 : expire_cursor_ + 1;
        if (slots_[i].in_use && static_cast<std::int32_t>(now - slots_[i].expires) >= 0) {
            remove(i);
            ++n;
        }
    }
    return n;
}

} // namespace sipalg::nat
