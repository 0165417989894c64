#pragma once
// The control socket's commands (README "The control socket"): apply and validate YAML, show the running
// configuration, counters, session lists and clears. Each request is all or nothing: a refused one
// changes nothing and says what and where.
#include "control/config.hpp"
#include "control/control_server.hpp"
#include "control/json.hpp"
#include "nat/session_filter.hpp"

#include <string>
#include <string_view>

namespace sipalg::dp {
class appliance;
struct plan;
}

namespace sipalg::control {

class commands {
public:
    // `path`: the configuration file the daemon started with (empty: none); a successful apply is
    // written there atomically so a restart comes back with it.
    // `server`: the control socket's own counters, for the stats reply.
    commands(dp::appliance& app, config running, const std::string& path, const server_counters& server);

    // One request: the command line and its body; returns the JSON reply.
    std::string handle(std::string_view command, std::string_view body);

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
};

} // namespace sipalg::control
