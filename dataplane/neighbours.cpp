// See neighbours.hpp.
#include "dataplane/neighbours.hpp"

#include <algorithm>
#include <bit>

namespace sipalg::dp {

neighbour_table::neighbour_table(std::uint32_t max_entries, std::uint32_t hold, timing t)
    : max_entries_(std::max<std::uint32_t>(1, max_entries)), hold_(std::max<std::uint32_t>(1, hold)), timing_(t)
{
    // At most half full keeps linear probes short.
    const std::uint32_t cap = std::bit_ceil(std::max<std::uint32_t>(16, max_entries_ * 2));
    mask_ = cap - 1;
    shift_ = 32 - static_cast<unsigned>(std::countr_zero(cap));
    slots_.assign(cap, entry{});
    cold_.assign(cap, cold{});
    held_.assign(static_cast<std::size_t>(cap) * hold_, nullptr);
    released_.reserve(hold_);
}

std::uint32_t neighbour_table::slot_of(std::uint16_t port, ipv4_address ip) const noexcept
{
    std::uint32_t i = home(port, ip);
    for (;;) {
        const entry& e = slots_[i];
        if (e.st == state::free) {
            return npos;
        }
        if (e.ip == ip && e.port == port) {
            return i;
        }
        i = (i + 1) & mask_;
    }
}

const neighbour_table::entry* neighbour_table::find(std::uint16_t port, ipv4_address ip) const noexcept
{
    const auto i = slot_of(port, ip);
    return i == npos ? nullptr : &slots_[i];
}

std::uint32_t neighbour_table::insert(std::uint16_t port, ipv4_address ip)
{
    if (count_ >= max_entries_) {
        return npos;
    }
    std::uint32_t i = home(port, ip);
    while (slots_[i].st != state::free) {
        i = (i + 1) & mask_;
    }
    slots_[i] = entry{ip, port, state::incomplete, 0, {}, 0};
    cold_[i] = cold{};
    ++count_;
    return i;
}

// Backward-shift deletion: later members of the probe run move up so lookups never meet a hole
// before their key.
void neighbour_table::erase(std::uint32_t i)
{
    held_total_ -= cold_[i].held;
    std::uint32_t hole = i;
    std::uint32_t j = i;
    for (;;) {
        j = (j + 1) & mask_;
        if (slots_[j].st == state::free) {
            break;
        }
        const std::uint32_t h = home(slots_[j].port, slots_[j].ip);
        // Entry j may fill the hole only if its home is not in the cyclic range (hole, j].
        const bool home_in_range = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
        if (home_in_range) {
            continue;
        }
        slots_[hole] = slots_[j];
        cold_[hole] = cold_[j];
        std::copy_n(held_of(j), hold_, held_of(hole));
        hole = j;
    }
    slots_[hole] = entry{};
    cold_[hole] = cold{};
    --count_;
}

std::span<rte_mbuf* const> neighbour_table::take_held(std::uint32_t i)
{
    released_.assign(held_of(i), held_of(i) + cold_[i].held);
    held_total_ -= cold_[i].held;
    cold_[i].held = 0;
    return released_;
}

neighbour_table::hold_result neighbour_table::hold(std::uint16_t port, ipv4_address ip, rte_mbuf* m,
                                                   std::uint64_t now)
{
    std::uint32_t i = slot_of(port, ip);
    hold_result r = hold_result::held;
    if (i == npos) {
        i = insert(port, ip);
        if (i == npos) {
            return hold_result::table_full;
        }
        cold_[i].requests = 1;
        cold_[i].next = now + timing_.retry;
        r = hold_result::held_first;
    }
    cold& c = cold_[i];
    if (c.held >= hold_) {
        return hold_result::hold_full;
    }
    held_of(i)[c.held++] = m;
    ++held_total_;
    return r;
}

neighbour_table::learn_result neighbour_table::learn(std::uint16_t port, ipv4_address ip, const mac_address& mac,
                                                     bool create, std::uint64_t now)
{
    std::uint32_t i = slot_of(port, ip);
    if (i == npos) {
        if (!create) {
            return {};
        }
        i = insert(port, ip);
        if (i == npos) {
            return {};
        }
    }
    entry& e = slots_[i];
    if (e.st == state::fixed) {
        return {true, {}}; // configuration wins over the wire
    }
    e.mac = mac;
    e.st = state::reachable;
    cold_[i].updated = now;
    cold_[i].requests = 0;
    return {true, take_held(i)};
}

neighbour_table::learn_result neighbour_table::set_fixed(std::uint16_t port, ipv4_address ip, const mac_address& mac)
{
    std::uint32_t i = slot_of(port, ip);
    if (i == npos) {
        i = insert(port, ip);
        if (i == npos) {
            return {};
        }
    }
    slots_[i].mac = mac;
    slots_[i].st = state::fixed;
    return {true, take_held(i)};
}

} // namespace sipalg::dp
