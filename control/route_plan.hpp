#pragma once
// Compiles the routing part of the configuration into the data plane's plan: connected prefixes, our own
// addresses, directed broadcasts (RFC 2644: not forwarded), static routes chosen by administrative
// distance, gateways resolved to the interface whose connected prefix holds them, static neighbours.
// Pure: no DPDK, unit-tested; the data plane turns the plan into an rte_lpm table.
#include "control/config.hpp"
#include "dataplane/plan.hpp"

#include <vector>

namespace sipalg::control {

struct plan_result {
    dp::plan plan;
    std::vector<config_error> errors;
    bool ok() const
    {
        return errors.empty();
    }
};

plan_result build_plan(const config& cfg);

} // namespace sipalg::control
