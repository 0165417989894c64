#pragma once
// Compiles the firewall part of the configuration (addresses and groups, services, schedules, VIPs,
// policies, session timers) into the plain firewall the workers evaluate (nat/firewall.hpp): names
// resolved to address ranges, services to protocol and port ranges, interfaces to bit masks. Pure: no
// DPDK, unit-tested. The configuration has been checked (config_yaml.cpp); what can only be found here
// (more interfaces than a policy mask holds) is an error too.
#include "control/config.hpp"
#include "dataplane/plan.hpp"

#include <vector>

namespace sipalg::control {

// Fills plan.firewall and plan.timeouts; interface indexes are positions in cfg.interfaces, as in
// build_plan. Returns the errors.
std::vector<config_error> add_firewall(const config& cfg, dp::plan& plan);

} // namespace sipalg::control
