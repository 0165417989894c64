#pragma once
// Counters through rte_telemetry, readable with the stock dpdk-telemetry.py (STYLE.md item 15):
//   /sipalg/info            version, workers, TSC frequency
//   /sipalg/stats           every counter summed over the workers
//   /sipalg/worker_stats,N  the counters of worker N
//   /sipalg/interfaces      interfaces with their port, address, MAC and MTU
//   /sipalg/sessions[,F]    sessions matching filter F (src=,dst=,sport=,dport=,proto=,policy=): counts
//                           and the first few (the full list comes through the control socket)
//   /sipalg/sessions_clear[,F]  removes the sessions matching F on every worker
#include <functional>
#include <string>
#include <string_view>

namespace sipalg::dp {

class appliance;

// Registers the commands, each with the help text `help_of` gives for its name (the control plane's
// command table, control/command_table.hpp: a string that lives as long as the program); returns an
// error text naming the command that failed, or empty.
std::string register_telemetry(const appliance* app, const char* version,
                               const std::function<const char*(std::string_view name)>& help_of);
// Detaches the commands from the appliance before it goes away; they then answer with an error.
void unregister_telemetry();

} // namespace sipalg::dp
