#pragma once
// Every command an operator can give, in one table (ARCHITECTURE.md "The control path"): its words, where
// it can be given (the control socket, a line of FortiOS CLI text, sipalgctl, rte_telemetry), what it
// takes and what it does. The socket's dispatch, the CLI's output lines, sipalgctl's commands and help,
// the telemetry commands' help, the request framing (which commands carry a body) and shell completion
// all read it; the handlers are bound to its ids where they live (control/commands.cpp, sipalgctl.cpp,
// dataplane/telemetry.cpp).
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace sipalg::control {

namespace surface {
inline constexpr unsigned socket = 1u << 0;    // a request's command line
inline constexpr unsigned cli = 1u << 1;       // a line of the cli command's FortiOS text
inline constexpr unsigned sipalgctl = 1u << 2; // a sipalgctl command
inline constexpr unsigned telemetry = 1u << 3; // an rte_telemetry command (dpdk-telemetry.py)
} // namespace surface

enum class command_id : std::uint8_t {
    apply,
    validate,
    cli,
    show_config,
    stats,
    sessions,
    clear,
    ping,
    sip_check,
    schema,
    show,              // show [PATH [ENTRY]] | show full-configuration
    get,               // get PATH [ENTRY]
    session_filter,    // diagnose sys session filter FIELD VALUE
    session_filter_clear,
    session_list,
    session_clear,
    alg_calls,         // diagnose sys sip-proxy calls list
    alg_calls_clear,   // diagnose sys sip-proxy calls clear
    alg_calls_idle,    // diagnose sys sip-proxy calls idle
    sip_proxy_filter,  // diagnose sys sip-proxy filter FIELD [VALUE] | clear | list
    sip_proxy_meters,  // diagnose sys sip-proxy meters list
    sip_proxy_stats,   // diagnose sys sip-proxy stats [list]
    helper_calls,      // diagnose sys sip dialog list
    mappings,          // diagnose sys sip mapping list
    log,               // log [category=C] [FIELD=VALUE...] [lines=N]
    log_filter,        // execute log filter category C | field K V | view-lines N
    log_filter_reset,  // execute log filter reset
    log_display,       // execute log display
    policy_stats,      // diagnose firewall iprope show 100004 [ID]
    performance,       // get system performance status
    sniffer,           // diagnose sniffer packet INTERFACE ['FILTER'] [VERBOSE] [COUNT] [TSFORMAT]
    telemetry_info,
    telemetry_stats,
    telemetry_worker_stats,
    telemetry_interfaces,
    telemetry_sessions,
    telemetry_sessions_clear,
};

struct command_spec {
    command_id id;
    unsigned surfaces;
    std::string_view words;    // the fixed words ("diagnose sys session list", "/sipalg/stats")
    unsigned min_arguments;    // how many words may follow them
    unsigned max_arguments;    // (any_number: no limit)
    bool body;                 // on the socket: a body follows the command line (control/request.hpp)
    std::string_view synopsis; // the arguments, for help
    std::string_view help;     // one line
    std::string_view details;  // what the arguments are
};

inline constexpr unsigned any_number = ~0u;

std::span<const command_spec> command_table();

// The command of `surface` whose words start `words` (the longest such), or null. `words` is a line
// split at blanks; its remaining words are the command's arguments, checked against the spec's count.
const command_spec* find_command(unsigned in_surface, std::span<const std::string_view> words);

// The same for a line of text, split at blanks.
const command_spec* find_command(unsigned in_surface, std::string_view line);

// The spec of an id.
const command_spec& spec_of(command_id id);

// A line's words (split at blanks), as find_command takes them.
std::vector<std::string_view> split_words(std::string_view line);

} // namespace sipalg::control
