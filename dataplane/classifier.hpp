#pragma once
// The firewall policies compiled for the workers (ARCHITECTURE.md "Policy classification"): an rte_acl
// context built on the control core when a snapshot is compiled, that gives a new flow the first
// matching policy in configured order, as nat::firewall::match_policy (the definition, a walk over the
// policies) does, in a few hundred cycles whatever the number of policies.
//
// Each policy becomes one rule per combination of its parts that rte_acl cannot hold as one field
// value: a run of consecutive interface indexes on each side, a prefix of its source addresses (each
// range as the fewest prefixes that make it), its destination (a prefix of dstaddr for flows without a
// VIP, or one of the VIPs it names), and a service entry. A rule's priority is its policy's place (earlier is higher), so the best match is the first
// policy. Schedules are bit-mask fields: the flow's input carries the schedules in their window now.
#include "nat/firewall.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct rte_acl_ctx;

namespace sipalg::dp {

class policy_classifier {
public:
    // At most this many rules after expansion (the configuration's plan refuses more at the policy's
    // line: nat::max_classifier_rules).
    static constexpr std::size_t max_rules = nat::max_classifier_rules;

    // Null with `error` set when the policies cannot be compiled. `previous` is given back when fw's
    // policies make the very rules it was built from (an apply that changed routes or SIP settings, not
    // policies): rte_acl's build is most of an apply's time with many policies.
    static std::shared_ptr<const policy_classifier> build(const nat::firewall& fw, std::string& error,
                                                          const std::shared_ptr<const policy_classifier>& previous = {});
    ~policy_classifier();
    policy_classifier(const policy_classifier&) = delete;
    policy_classifier& operator=(const policy_classifier&) = delete;

    // The index in fw.policies of the first policy that matches, or -1: nat::firewall::match_policy's
    // answer for the same arguments.
    std::int32_t match(const nat::flow_view& f, std::int32_t vip, const nat::schedule_set& active) const noexcept;

    std::size_t rules() const noexcept
    {
        return rules_;
    }

private:
    policy_classifier() = default;

    // A context per rule shape (classifier.cpp), by its first policy.
    struct group {
        rte_acl_ctx* ctx = nullptr;
        std::int32_t first = 0; // the index of the first policy with a rule in it
    };
    std::vector<group> groups_;
    std::size_t rules_ = 0;
    unsigned words_ = 0; // schedule words in the rules' fields (0: no policy has a schedule)
    std::vector<std::uint8_t> made_from_; // the rules as given to rte_acl, and their field count
};

} // namespace sipalg::dp
