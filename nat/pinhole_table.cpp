// See pinhole_table.hpp.
#include "nat/pinhole_table.hpp"

#include <bit>

namespace sipalg::nat {

namespace {

std::uint32_t call_hash(std::uint64_t call) noexcept
{
    return static_cast<std::uint32_t>((call * 0x9e3779b97f4a7c15ull) >> 32);
}

} // namespace

pinhole_table::pinhole_table(std::uint32_t capacity)
    : slots_(capacity), inside_index_(std::bit_ceil(std::max<std::uint32_t>(capacity, 8) * 2u), none),
      public_index_(inside_index_.size(), none), call_index_(inside_index_.size(), none)
{
    mask_ = static_cast<std::uint32_t>(inside_index_.size() - 1);
    free_.reserve(capacity);
    for (std::uint32_t i = capacity; i > 0; --i) {
        free_.push_back(i - 1);
    }
}

std::uint32_t pinhole_table::find(const std::vector<std::uint32_t>& index, std::uint8_t proto, ipv4_address address,
                                  std::uint16_t port, bool inside) const noexcept
{
    const std::uint64_t key = key_of(proto, address, port);
    for (std::uint32_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
        const std::uint32_t slot = index[i];
        if (slot == none) {
            return none;
        }
        if (key_in(slot, inside) == key) {
            return slot;
        }
    }
}

void pinhole_table::index_insert(std::vector<std::uint32_t>& index, std::uint32_t slot, bool inside) noexcept
{
    std::uint32_t i = hash(key_in(slot, inside)) & mask_;
    while (index[i] != none) {
        i = (i + 1) & mask_;
    }
    index[i] = slot;
}

// Backward-shift deletion (Knuth 6.4 algorithm R): the probe sequences of the entries after the hole
// stay unbroken without tombstones.
template <class Home>
void erase_at(std::vector<std::uint32_t>& index, std::uint32_t mask, std::uint32_t hole, Home home) noexcept
{
    for (std::uint32_t j = (hole + 1) & mask;; j = (j + 1) & mask) {
        const std::uint32_t slot = index[j];
        if (slot == pinhole_table::none) {
            break;
        }
        const std::uint32_t h = home(slot) & mask;
        // Move the entry at j into the hole when its home is not cyclically in (hole, j].
        if (((j - h) & mask) >= ((j - hole) & mask)) {
            index[hole] = slot;
            hole = j;
        }
    }
    index[hole] = pinhole_table::none;
}

void pinhole_table::index_erase(std::vector<std::uint32_t>& index, std::uint32_t slot, bool inside) noexcept
{
    std::uint32_t i = hash(key_in(slot, inside)) & mask_;
    while (index[i] != slot) {
        i = (i + 1) & mask_;
    }
    erase_at(index, mask_, i, [this, inside](std::uint32_t s) { return hash(key_in(s, inside)); });
}

std::uint32_t pinhole_table::call_head(std::uint64_t call) const noexcept
{
    for (std::uint32_t i = call_hash(call) & mask_;; i = (i + 1) & mask_) {
        const std::uint32_t slot = call_index_[i];
        if (slot == none || slots_[slot].call == call) {
            return slot;
        }
    }
}

std::uint32_t pinhole_table::insert(const pinhole& p) noexcept
{
    if (free_.empty() || find_inside(p.proto, p.inside_address, p.inside_port) != none ||
        find_public(p.proto, p.public_address, p.public_port) != none) {
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
    index_insert(inside_index_, slot, true);
    index_insert(public_index_, slot, false);
    if (p.call != 0) {
        const std::uint32_t head = call_head(p.call);
        if (head == none) {
            std::uint32_t i = call_hash(p.call) & mask_;
            while (call_index_[i] != none) {
                i = (i + 1) & mask_;
            }
            call_index_[i] = slot;
        } else {
            s.next_in_call = slots_[head].next_in_call;
            slots_[head].next_in_call = slot;
        }
    }
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
        if (head == slot) {
            // The next of the call becomes its head (in the same index position).
            std::uint32_t i = call_hash(s.call) & mask_;
            while (call_index_[i] != slot) {
                i = (i + 1) & mask_;
            }
            if (s.next_in_call != none) {
                call_index_[i] = s.next_in_call;
            } else {
                erase_at(call_index_, mask_, i, [this](std::uint32_t x) { return call_hash(slots_[x].call); });
            }
        } else {
            for (std::uint32_t p = head; p != none; p = slots_[p].next_in_call) {
                if (slots_[p].next_in_call == slot) {
                    slots_[p].next_in_call = s.next_in_call;
                    break;
                }
            }
        }
    }
    index_erase(inside_index_, slot, true);
    index_erase(public_index_, slot, false);
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
