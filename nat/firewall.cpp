// See firewall.hpp.
#include "nat/firewall.hpp"

#include <algorithm>
#include <bit>

namespace sipalg::nat {

void address_set::add(address_range r)
{
    if (r.first > r.last) {
        std::swap(r.first, r.last);
    }
    ranges_.push_back(r);
}

void address_set::finish()
{
    std::sort(ranges_.begin(), ranges_.end(), [](const address_range& a, const address_range& b) { return a.first < b.first; });
    std::vector<address_range> merged;
    for (const auto& r : ranges_) {
        if (!merged.empty() && (merged.back().last == 0xffffffffu || r.first <= merged.back().last + 1)) {
            merged.back().last = std::max(merged.back().last, r.last);
        } else {
            merged.push_back(r);
        }
    }
    ranges_ = std::move(merged);
}

bool address_set::contains(ipv4_address a) const noexcept
{
    // The last range that starts at or before a.
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), a,
                               [](ipv4_address x, const address_range& r) { return x < r.first; });
    return it != ranges_.begin() && a <= std::prev(it)->last;
}

bool service_matches(const std::vector<service_entry>& service, const flow_view& f) noexcept
{
    for (const auto& e : service) {
        if (e.proto != 0 && e.proto != f.proto) {
            continue;
        }
        if (e.proto == ip_proto::icmp) {
            if (e.icmp_type < 0 || e.icmp_type == f.icmp_type) {
                return true;
            }
            continue;
        }
        if (e.proto == 0) {
            return true; // any protocol, any port
        }
        if (f.dport >= e.dport_first && f.dport <= e.dport_last && f.sport >= e.sport_first && f.sport <= e.sport_last) {
            return true;
        }
    }
    return false;
}

bool schedule_rule::active(unsigned weekday, unsigned minute) const noexcept
{
    const bool today = (days >> weekday & 1u) != 0;
    if (start < end) {
        return today && minute >= start && minute < end;
    }
    // Over midnight (or the whole day when start == end): from start today, or until end for a window
    // that began yesterday.
    const bool yesterday = (days >> ((weekday + 6) % 7) & 1u) != 0;
    return (today && minute >= start) || (yesterday && minute < end);
}

void vip_index::build(const std::vector<vip_rule>& vips)
{
    starts_.clear();
    offsets_.clear();
    members_.clear();
    for (const auto& v : vips) {
        starts_.push_back(v.extip.first);
        if (v.extip.last != 0xffffffffu) {
            starts_.push_back(v.extip.last + 1);
        }
    }
    std::sort(starts_.begin(), starts_.end());
    starts_.erase(std::unique(starts_.begin(), starts_.end()), starts_.end());
    // Each VIP joins the intervals from the one its range starts in to the one it ends in, taken in
    // configured order, so that each interval's list is in that order.
    std::vector<std::vector<std::int32_t>> lists(starts_.size());
    for (std::size_t i = 0; i < vips.size(); ++i) {
        const auto first = std::lower_bound(starts_.begin(), starts_.end(), vips[i].extip.first) - starts_.begin();
        const auto end = std::upper_bound(starts_.begin(), starts_.end(), vips[i].extip.last) - starts_.begin();
        for (auto k = first; k < end; ++k) {
            lists[static_cast<std::size_t>(k)].push_back(static_cast<std::int32_t>(i));
        }
    }
    offsets_.push_back(0);
    for (const auto& l : lists) {
        members_.insert(members_.end(), l.begin(), l.end());
        offsets_.push_back(static_cast<std::uint32_t>(members_.size()));
    }
}

vip_target firewall::match_vip(const flow_view& f) const noexcept
{
    const auto [first, last] = vip_lookup.at(f.dst);
    for (const std::int32_t* it = first; it != last; ++it) {
        const auto i = static_cast<std::size_t>(*it);
        const vip_rule& v = vips[i];
        if (v.extintf >= 0 && v.extintf != f.in_interface) {
            continue;
        }
        vip_target t; // the index gave only VIPs whose extip holds f.dst
        t.vip = static_cast<std::int32_t>(i);
        t.address = v.mappedip + (f.dst - v.extip.first);
        if (!v.portforward) {
            t.port = f.dport;
            return t;
        }
        if (f.proto != v.proto) {
            continue;
        }
        if (v.proto == ip_proto::icmp) {
            t.port = f.dport; // the echo identifier passes unchanged
            return t;
        }
        if (f.dport < v.extport_first || f.dport > v.extport_last) {
            continue;
        }
        t.port = static_cast<std::uint16_t>(v.mappedport + (f.dport - v.extport_first));
        return t;
    }
    return {};
}

std::int32_t firewall::match_policy(const flow_view& f, std::int32_t vip, const schedule_set& active) const noexcept
{
    const std::uint64_t in_bit = std::uint64_t{1} << (f.in_interface & 63u);
    const std::uint64_t out_bit = std::uint64_t{1} << (f.out_interface & 63u);
    for (std::size_t i = 0; i < policies.size(); ++i) {
        const policy_rule& p = policies[i];
        if ((p.srcintf & in_bit) == 0 || (p.dstintf & out_bit) == 0) {
            continue;
        }
        if (p.schedule >= 0 && !active.has(static_cast<std::size_t>(p.schedule))) {
            continue;
        }
        if (!p.srcaddr.contains(f.src)) {
            continue;
        }
        if (vip >= 0) {
            if (std::find(p.vips.begin(), p.vips.end(), vip) == p.vips.end()) {
                continue;
            }
        } else if (!p.dstaddr.contains(f.dst)) {
            continue;
        }
        if (!service_matches(p.service, f)) {
            continue;
        }
        return static_cast<std::int32_t>(i);
    }
    return -1;
}

bool firewall::vip_answers_arp(ipv4_address address, std::uint16_t itf) const noexcept
{
    const auto [first, last] = vip_lookup.at(address);
    return std::any_of(first, last, [&](std::int32_t i) {
        const vip_rule& v = vips[static_cast<std::size_t>(i)];
        return v.extintf < 0 || v.extintf == itf;
    });
}

bool firewall::forwards_port(ipv4_address address, std::uint8_t proto, std::uint16_t port) const noexcept
{
    const auto [first, last] = vip_lookup.at(address);
    return std::any_of(first, last, [&](std::int32_t i) {
        const vip_rule& v = vips[static_cast<std::size_t>(i)];
        return v.portforward && v.proto == proto && port >= v.extport_first && port <= v.extport_last;
    });
}

bool firewall::is_vip_external(ipv4_address address, std::uint8_t proto, std::uint16_t port) const noexcept
{
    const auto [first, last] = vip_lookup.at(address);
    for (const std::int32_t* it = first; it != last; ++it) {
        const vip_rule& v = vips[static_cast<std::size_t>(*it)];
        if (!v.portforward || port == 0 || v.proto == ip_proto::icmp) {
            return true;
        }
        if (proto == v.proto && port >= v.extport_first && port <= v.extport_last) {
            return true;
        }
    }
    return false;
}

std::vector<value_range> interface_runs(std::uint64_t mask)
{
    if (mask == ~std::uint64_t{0}) {
        return {{0, 0xffff}};
    }
    std::vector<value_range> runs;
    for (unsigned i = 0; i < 64;) {
        if ((mask >> i & 1u) == 0) {
            ++i;
            continue;
        }
        unsigned j = i;
        while (j + 1 < 64 && (mask >> (j + 1) & 1u) != 0) {
            ++j;
        }
        runs.push_back({i, j});
        i = j + 1;
    }
    return runs;
}

std::vector<address_prefix> prefixes_of(std::uint64_t first, std::uint64_t last)
{
    std::vector<address_prefix> out;
    while (first <= last) {
        // The largest aligned block that starts at `first` and stays within `last`.
        unsigned size_log2 = first == 0 ? 32 : static_cast<unsigned>(std::countr_zero(first));
        while (size_log2 > 0 && first + (std::uint64_t{1} << size_log2) - 1 > last) {
            --size_log2;
        }
        out.push_back({static_cast<std::uint32_t>(first), 32 - size_log2});
        first += std::uint64_t{1} << size_log2;
    }
    return out;
}

std::uint64_t classifier_rules(const policy_rule& p)
{
    const auto prefixes = [](const address_set& a) {
        std::uint64_t n = 0;
        for (const auto& r : a.ranges()) {
            n += prefixes_of(r.first, r.last).size();
        }
        return n;
    };
    return static_cast<std::uint64_t>(interface_runs(p.srcintf).size()) * interface_runs(p.dstintf).size() *
           prefixes(p.srcaddr) * (prefixes(p.dstaddr) + p.vips.size()) * p.service.size();
}

namespace {

// What decides which flows a policy takes and whether it lets them through.
bool same_match(const policy_rule& a, const policy_rule& b)
{
    return a.srcintf == b.srcintf && a.dstintf == b.dstintf && a.srcaddr.ranges() == b.srcaddr.ranges() &&
           a.dstaddr.ranges() == b.dstaddr.ranges() && a.vips == b.vips && a.service == b.service &&
           a.schedule == b.schedule && a.accept == b.accept;
}

} // namespace

std::vector<std::uint32_t> policies_kept(const firewall& before, const firewall& after)
{
    std::vector<std::uint32_t> kept;
    if (before.vips != after.vips) {
        return kept;
    }
    std::vector<std::pair<std::uint32_t, std::size_t>> old_place; // id -> index before, sorted by id
    for (std::size_t i = 0; i < before.policies.size(); ++i) {
        old_place.emplace_back(before.policies[i].id, i);
    }
    std::sort(old_place.begin(), old_place.end());
    bool ahead_unchanged = true; // every policy ahead in the new order is one from before, unchanged
    std::size_t ahead_last_place = 0; // the latest place before of those policies, + 1
    for (const policy_rule& p : after.policies) {
        const auto it = std::lower_bound(old_place.begin(), old_place.end(), std::pair<std::uint32_t, std::size_t>{p.id, 0});
        const bool existed = it != old_place.end() && it->first == p.id;
        const bool unchanged = existed && same_match(before.policies[it->second], p);
        if (unchanged && ahead_unchanged && ahead_last_place <= it->second) {
            kept.push_back(p.id);
        }
        ahead_unchanged = ahead_unchanged && unchanged;
        if (existed) {
            ahead_last_place = std::max(ahead_last_place, it->second + 1);
        }
    }
    std::sort(kept.begin(), kept.end());
    return kept;
}

} // namespace sipalg::nat
