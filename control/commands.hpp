#pragma once
// The control socket's commands (README "The control socket"): apply and validate YAML, show the running
// configuration, counters, session lists and clears. Each request is all or nothing: a refused one
// changes nothing and says what and where.
#include "control/config.hpp"
#include "control/control_server.hpp"
#include "control/json.hpp"
#include "control/logging.hpp"
#include "control/performance.hpp"
#include "dataplane/counters.hpp"
#include "nat/call_table.hpp"
#include "nat/sip_policy_stats.hpp"
#include "nat/session_filter.hpp"

#include <array>
#include <map>
#include <functional>
#include <optional>
#include <vector>

#include <string>
#include <string_view>

namespace sipalg::dp {
class appliance;
struct plan;
}

namespace sipalg::control {

// One firewall policy's traffic summed over the workers (nat/policy_counters.hpp): sessions accepted,
// the TSC of the first and last, sessions now, packets and bytes each way.
struct policy_sum {
    std::uint64_t hits = 0, first = 0, last = 0;
    std::int64_t sessions = 0;
    std::array<std::uint64_t, 2> packets{}, bytes{};
};
std::map<std::uint32_t, policy_sum> policy_sums(const dp::appliance& app);

// diagnose sys sip-proxy filter (FortiOS): which of the ALG's calls the calls commands select. Fields add
// up; negate turns one into its opposite.
struct sip_proxy_filter {
    std::optional<std::uint32_t> src; // src-addr4: where the INVITE came from
    std::optional<std::uint32_t> dst; // dst-addr4: where it went
    std::optional<std::uint16_t> sport;
    std::optional<std::uint16_t> dport;
    std::optional<std::uint32_t> policy;
    std::optional<std::string> voip_profile;
    std::uint8_t negate = 0; // a bit per field, in the order above
    // `profile`: the call's VoIP profile's name.
    bool matches(const nat::call_entry& c, std::string_view profile) const;
    // FIELD [VALUE] | negate FIELD; an error text or empty.
    std::string set(const std::vector<std::string>& args);
    std::string text() const; // filter list
};

class commands {
public:
    // `path`: the configuration file the daemon started with (empty: none); a successful apply is
    // written there atomically so a restart comes back with it.
    // `server`: the control socket's own counters, for the stats reply.
    // `log`: where the logs go; configured with each configuration put in force.
    // `perf`: the control core's samples, for get system performance status.
    commands(dp::appliance& app, config running, const std::string& path, const server_counters& server, logger& log,
             const performance& perf);

    // One request: the command line and its body; returns the JSON reply.
    std::string handle(std::string_view command, std::string_view body);

    // What the control core must go on doing while a long command (diagnose sniffer packet) waits.
    void set_background(std::function<void()> f)
    {
        background_ = std::move(f);
    }

    // SIGHUP: the configuration file read again and applied; errors go to the log.
    void reload_file();

    const config& running() const noexcept
    {
        return running_;
    }

private:
    std::string apply(std::string_view yaml, bool commit);
    std::string cli(std::string_view text);
    // Puts a checked configuration and its plan in force; an error text or empty.
    std::string put_in_force(const config& next, const dp::plan& plan);
    // The same, then writes it to the file; `reply` gets its "saved" member (and "warning").
    std::string commit(const config& next, const dp::plan& plan, json& reply);
    std::string stats() const;
    std::string sessions(std::string_view filter, bool clear) const;

    dp::appliance& app_;
    config running_;
    std::string path_;
    const server_counters& server_;
    nat::session_filter diag_filter_; // diagnose sys session filter: kept between requests, as on FortiOS
    sip_proxy_filter sip_filter_;     // diagnose sys sip-proxy filter: the same
    logger& log_;
    const performance& perf_;
    std::function<void()> background_; // the control core's other work, while a command waits (sniffer)
    // diagnose sys sip-proxy stats clear: what the workers' counts were then.
    std::map<std::uint32_t, nat::sip_policy_counts> sip_stats_base_;
    std::array<std::uint64_t, dp::counter_count> sip_counters_base_{};
    log_filter log_filter_;           // execute log filter: the same
};

} // namespace sipalg::control
