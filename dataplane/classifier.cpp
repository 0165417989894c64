// See classifier.hpp.
#include "dataplane/classifier.hpp"

#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_lcore.h>

#include <fmt/format.h>

#include <atomic>
#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

namespace sipalg::dp {

namespace {

constexpr unsigned schedule_words = nat::max_schedules / 32;

// What rte_acl reads of a flow. Its search takes the first byte alone and then four bytes at a time, so
// every later field sits in a 4-byte group (input_index) of its own or shares one whole. Values are in
// network order, as rte_acl reads them from packets; rules are given in host order.
struct alignas(8) acl_input {
    std::uint8_t proto = 0;
    std::uint8_t pad[3] = {};
    std::uint32_t src = 0;
    std::uint32_t dst = 0;
    std::uint16_t sport = 0;
    std::uint16_t dport = 0;
    std::uint16_t in_interface = 0;
    std::uint16_t out_interface = 0;
    std::uint16_t vip = 0;  // the VIP's index + 1; 0: no VIP
    std::uint16_t icmp = 0; // the ICMP type + 1; 0: not ICMP
    std::uint32_t schedules[schedule_words] = {};
};

enum field : unsigned { f_proto, f_src, f_dst, f_sport, f_dport, f_in, f_out, f_vip, f_icmp, f_schedules };

rte_acl_field_def field_def(std::uint8_t type, std::uint8_t size, unsigned index, unsigned input, std::size_t offset)
{
    rte_acl_field_def d{};
    d.type = type;
    d.size = size;
    d.field_index = static_cast<std::uint8_t>(index);
    d.input_index = static_cast<std::uint8_t>(input);
    d.offset = static_cast<std::uint32_t>(offset);
    return d;
}

// The fields for `words` schedule words (none when no policy has a schedule: fewer bytes to walk).
std::vector<rte_acl_field_def> field_defs(unsigned words)
{
    std::vector<rte_acl_field_def> d = {
        field_def(RTE_ACL_FIELD_TYPE_BITMASK, 1, f_proto, 0, offsetof(acl_input, proto)),
        field_def(RTE_ACL_FIELD_TYPE_MASK, 4, f_src, 1, offsetof(acl_input, src)),
        field_def(RTE_ACL_FIELD_TYPE_MASK, 4, f_dst, 2, offsetof(acl_input, dst)),
        field_def(RTE_ACL_FIELD_TYPE_RANGE, 2, f_sport, 3, offsetof(acl_input, sport)),
        field_def(RTE_ACL_FIELD_TYPE_RANGE, 2, f_dport, 3, offsetof(acl_input, dport)),
        field_def(RTE_ACL_FIELD_TYPE_RANGE, 2, f_in, 4, offsetof(acl_input, in_interface)),
        field_def(RTE_ACL_FIELD_TYPE_RANGE, 2, f_out, 4, offsetof(acl_input, out_interface)),
        field_def(RTE_ACL_FIELD_TYPE_RANGE, 2, f_vip, 5, offsetof(acl_input, vip)),
        field_def(RTE_ACL_FIELD_TYPE_RANGE, 2, f_icmp, 5, offsetof(acl_input, icmp)),
    };
    for (unsigned w = 0; w < words; ++w) {
        d.push_back(field_def(RTE_ACL_FIELD_TYPE_BITMASK, 4, f_schedules + w, 6 + w, offsetof(acl_input, schedules) + 4 * w));
    }
    return d;
}

using range = nat::value_range;
using prefix = nat::address_prefix;
using nat::interface_runs;
using nat::prefixes_of;

// One service entry as the fields it sets (nat::service_matches).
struct service_fields {
    std::uint8_t proto = 0; // 0: any
    range sport{0, 0xffff};
    range dport{0, 0xffff};
    range icmp{0, 0xffff};
};

service_fields fields_of(const nat::service_entry& e)
{
    service_fields s;
    s.proto = e.proto;
    if (e.proto == 0) {
        return s; // any protocol, any port
    }
    if (e.proto == ip_proto::icmp) {
        if (e.icmp_type >= 0) {
            const auto t = static_cast<std::uint64_t>(e.icmp_type) + 1;
            s.icmp = {t, t};
        }
        return s;
    }
    s.sport = {e.sport_first, e.sport_last};
    s.dport = {e.dport_first, e.dport_last};
    return s;
}

// The destinations a policy matches: its dstaddr for flows without a VIP, each VIP it names for theirs.
struct destination {
    range vip{0, 0};
    prefix dst{0, 0};
};

std::vector<destination> destinations_of(const nat::policy_rule& p)
{
    std::vector<destination> d;
    for (const auto& r : p.dstaddr.ranges()) {
        for (const prefix& x : prefixes_of(r.first, r.last)) {
            d.push_back({{0, 0}, x});
        }
    }
    for (const std::int32_t v : p.vips) {
        const auto index = static_cast<std::uint64_t>(v) + 1;
        d.push_back({{index, index}, {0, 0}});
    }
    return d;
}

std::vector<prefix> sources_of(const nat::policy_rule& p)
{
    std::vector<prefix> s;
    for (const auto& r : p.srcaddr.ranges()) {
        const auto x = prefixes_of(r.first, r.last);
        s.insert(s.end(), x.begin(), x.end());
    }
    return s;
}

// A 16-bit range field.
void set_range(rte_acl_field& f, const range& r)
{
    f.value.u16 = static_cast<std::uint16_t>(r.first);
    f.mask_range.u16 = static_cast<std::uint16_t>(r.last);
}

std::atomic<unsigned> contexts_made{0};

} // namespace

std::shared_ptr<const policy_classifier> policy_classifier::build(const nat::firewall& fw, std::string& error,
                                                                 const std::shared_ptr<const policy_classifier>& previous)
{
    std::shared_ptr<policy_classifier> c(new policy_classifier());
    if (fw.vips.size() >= 0xffff) {
        error = fmt::format("{} virtual IPs: the policy classifier tells at most {} apart", fw.vips.size(), 0xfffe);
        return nullptr;
    }
    std::uint64_t total = 0;
    for (const auto& p : fw.policies) {
        total += nat::classifier_rules(p);
        if (total > max_rules) {
            // The configuration's plan refuses this first, at the policy's line; this stays for a firewall
            // made some other way (tests, fuzzing).
            error = fmt::format("firewall policy {}: the policies up to it make {} classifier rules, more than {}",
                                p.id, total, max_rules);
            return nullptr;
        }
    }
    c->rules_ = static_cast<std::size_t>(total);
    bool scheduled = false;
    for (const auto& p : fw.policies) {
        scheduled = scheduled || p.schedule >= 0;
    }
    const unsigned words = scheduled ? static_cast<unsigned>((fw.schedules.size() + 31) / 32) : 0;
    c->words_ = words;
    const std::vector<rte_acl_field_def> defs = field_defs(words);
    const std::size_t rule_size = RTE_ACL_RULE_SZ(defs.size());
    // The rules, then their field count: what the context is built from, compared with the previous one's.
    std::vector<std::uint8_t>& rules = c->made_from_;
    rules.assign(rule_size * total + 1, 0);
    rules.back() = static_cast<std::uint8_t>(defs.size());
    std::size_t n = 0;
    const auto priority_of = [&](std::size_t index) {
        return static_cast<std::int32_t>(fw.policies.size() - index); // earlier is higher; all are >= 1
    };
    for (std::size_t i = 0; i < fw.policies.size(); ++i) {
        const nat::policy_rule& p = fw.policies[i];
        const auto in_runs = interface_runs(p.srcintf);
        const auto out_runs = interface_runs(p.dstintf);
        const auto srcs = sources_of(p);
        const auto dsts = destinations_of(p);
        for (const auto& in : in_runs) {
            for (const auto& out : out_runs) {
                for (const auto& src : srcs) {
                    for (const auto& d : dsts) {
                        for (const auto& e : p.service) {
                            auto* r = reinterpret_cast<rte_acl_rule*>(rules.data() + n * rule_size);
                            ++n;
                            r->data.category_mask = 1;
                            r->data.priority = priority_of(i);
                            r->data.userdata = static_cast<std::uint32_t>(i + 1);
                            const service_fields s = fields_of(e);
                            r->field[f_proto].value.u8 = s.proto;
                            r->field[f_proto].mask_range.u8 = s.proto == 0 ? 0 : 0xff;
                            r->field[f_src].value.u32 = src.address;
                            r->field[f_src].mask_range.u32 = src.length;
                            r->field[f_dst].value.u32 = d.dst.address;
                            r->field[f_dst].mask_range.u32 = d.dst.length;
                            set_range(r->field[f_sport], s.sport);
                            set_range(r->field[f_dport], s.dport);
                            set_range(r->field[f_in], in);
                            set_range(r->field[f_out], out);
                            set_range(r->field[f_vip], d.vip);
                            set_range(r->field[f_icmp], s.icmp);
                            if (p.schedule >= 0 && words != 0) {
                                const auto bit = static_cast<unsigned>(p.schedule);
                                rte_acl_field& f = r->field[f_schedules + bit / 32];
                                f.value.u32 = std::uint32_t{1} << (bit % 32);
                                f.mask_range.u32 = f.value.u32;
                            }
                        }
                    }
                }
            }
        }
    }
    if (previous != nullptr && previous->made_from_ == rules) {
        return previous;
    }
    // One context per shape: whether a rule names source addresses, destination addresses, or both.
    // Merging a rule for some sources and any destination with one for any source and some
    // destinations makes rte_acl copy one's trie under every node of the other's, and its build time
    // and size grow with the product (4,000 such policies took 9 s in one context, against 0.1 s
    // apart). Each context is searched in the order of its first policy; the first match wins.
    std::array<std::vector<std::size_t>, 4> by_shape;
    for (std::size_t k = 0; k < n; ++k) {
        const auto* r = reinterpret_cast<const rte_acl_rule*>(rules.data() + k * rule_size);
        const unsigned shape = (r->field[f_src].mask_range.u32 != 0 ? 1u : 0u) | (r->field[f_dst].mask_range.u32 != 0 ? 2u : 0u);
        by_shape[shape].push_back(k);
    }
    rte_acl_config cfg{};
    cfg.num_categories = 1;
    cfg.num_fields = static_cast<std::uint32_t>(defs.size());
    std::memcpy(cfg.defs, defs.data(), defs.size() * sizeof(rte_acl_field_def));
    for (const auto& members : by_shape) {
        if (members.empty()) {
            continue;
        }
        // rte_acl keeps its contexts in a list by name, and gives back the existing one for a name it
        // knows: each must have a new name (a snapshot's lives on until its grace period ends).
        const std::string name = fmt::format("sipalg-pol-{}", contexts_made.fetch_add(1));
        rte_acl_param param{};
        param.name = name.c_str();
        param.socket_id = static_cast<int>(rte_socket_id());
        param.rule_size = static_cast<std::uint32_t>(rule_size);
        param.max_rule_num = static_cast<std::uint32_t>(members.size());
        rte_acl_ctx* ctx = rte_acl_create(&param);
        if (ctx == nullptr) {
            error = fmt::format("the policy classifier: no DPDK memory for {} rules", members.size());
            return nullptr;
        }
        const auto first = reinterpret_cast<const rte_acl_rule*>(rules.data() + members.front() * rule_size)->data.userdata - 1;
        c->groups_.push_back({ctx, static_cast<std::int32_t>(first)});
        std::vector<std::uint8_t> part(members.size() * rule_size);
        for (std::size_t k = 0; k < members.size(); ++k) {
            std::memcpy(part.data() + k * rule_size, rules.data() + members[k] * rule_size, rule_size);
        }
        if (const int rc = rte_acl_add_rules(ctx, reinterpret_cast<const rte_acl_rule*>(part.data()),
                                             static_cast<std::uint32_t>(members.size()));
            rc != 0) {
            error = fmt::format("the policy classifier: its rules were not taken ({})", rte_strerror(-rc));
            return nullptr;
        }
        if (const int rc = rte_acl_build(ctx, &cfg); rc != 0) {
            error = fmt::format("the policy classifier: {} rules could not be built ({})", members.size(), rte_strerror(-rc));
            return nullptr;
        }
    }
    std::sort(c->groups_.begin(), c->groups_.end(), [](const group& a, const group& b) { return a.first < b.first; });
    return c;
}

policy_classifier::~policy_classifier()
{
    for (const group& g : groups_) {
        rte_acl_free(g.ctx);
    }
}

std::int32_t policy_classifier::match(const nat::flow_view& f, std::int32_t vip, const nat::schedule_set& active) const noexcept
{
    if (groups_.empty()) {
        return -1; // no policy: the implicit deny
    }
    acl_input in;
    in.proto = f.proto;
    in.src = rte_cpu_to_be_32(f.src);
    in.dst = rte_cpu_to_be_32(f.dst);
    in.sport = rte_cpu_to_be_16(f.sport);
    in.dport = rte_cpu_to_be_16(f.dport);
    in.in_interface = rte_cpu_to_be_16(f.in_interface);
    in.out_interface = rte_cpu_to_be_16(f.out_interface);
    in.vip = rte_cpu_to_be_16(static_cast<std::uint16_t>(vip + 1));
    in.icmp = rte_cpu_to_be_16(static_cast<std::uint16_t>(f.icmp_type + 1));
    for (unsigned w = 0; w < words_; ++w) { // only the words the rules have fields for
        in.schedules[w] = rte_cpu_to_be_32(static_cast<std::uint32_t>(active.bits[w / 2] >> (32 * (w % 2))));
    }
    const auto* data = reinterpret_cast<const std::uint8_t*>(&in);
    std::int32_t best = -1;
    for (const group& g : groups_) {
        if (best >= 0 && best < g.first) {
            break; // this context's policies, and the later ones', all come after the match
        }
        std::uint32_t result = 0;
        rte_acl_classify(g.ctx, &data, &result, 1, 1);
        const auto index = static_cast<std::int32_t>(result) - 1;
        if (index >= 0 && (best < 0 || index < best)) {
            best = index;
        }
    }
    return best;
}

} // namespace sipalg::dp
