// See command_table.hpp.
#include "control/command_table.hpp"

#include <algorithm>

namespace sipalg::control {

namespace {

constexpr std::string_view filters_help =
    "FILTER: src=ADDRESS dst=ADDRESS sport=PORT dport=PORT proto=NUMBER policy=ID, as FortiOS's\n"
    "diagnose sys session filter: the originator's addresses and ports; every one given must match.";

constexpr unsigned socket_and_ctl = surface::socket | surface::sipalgctl;

// clang-format off
constexpr command_spec table[] = {
    // The control socket, and sipalgctl's commands of the same name.
    {command_id::apply, socket_and_ctl, "apply", 0, 1, true, "FILE",
     "apply a YAML document (sections it holds replace the running ones); saved to sipalgd's --config",
     "FILE: a YAML document (\"-\": standard input). The sections it holds replace the running ones, the\n"
     "others stay; all or nothing. Refusals are printed as FILE:LINE:COLUMN: message."},
    {command_id::cli, socket_and_ctl, "cli", 0, 1, true, "[FILE]",
     "FortiOS CLI text (config blocks, show, diagnose, | grep) from FILE, stdin or a prompt",
     "FILE: FortiOS CLI text (\"-\" or none: standard input; on a terminal, a prompt). One transaction:\n"
     "every line is checked first, the config blocks are committed once, then the output lines run:\n"
     "  show [PATH [ENTRY]] | show full-configuration\n"
     "  get PATH [ENTRY]\n"
     "  diagnose sys session filter FIELD VALUE | filter clear | list | clear\n"
     "  diagnose sys sip-proxy calls list | calls clear | calls idle | filter FIELD [VALUE] | filter clear |\n"
     "    filter list | meters list | stats\n"
     "  diagnose sys sip dialog list | diagnose sys sip mapping list\n"
     "  execute log filter category C | field NAME VALUE | view-lines N | reset; execute log display\n"
     "each optionally followed by | grep [-c] [-i] [-n] [-v] [-A N] [-B N] [-C N] PATTERN."},
    {command_id::validate, socket_and_ctl, "validate", 0, 1, true, "FILE",
     "check a YAML document against the running configuration without applying it",
     "FILE: a YAML document (\"-\": standard input), checked as apply checks it; nothing changes."},
    {command_id::show_config, surface::socket, "show config", 0, 0, false, "",
     "the running configuration as YAML", ""},
    {command_id::show_config, surface::socket, "show", 0, 0, false, "", "the same as show config", ""},
    {command_id::show_config, surface::sipalgctl, "show", 1, 1, false, "config [--cli]",
     "show config [--cli]: the running configuration as YAML, or as FortiOS CLI",
     "config: the running configuration, as YAML that apply takes back unchanged (--cli: as FortiOS CLI)."},
    {command_id::stats, socket_and_ctl, "stats", 0, 0, false, "",
     "counters that are not zero, and the sessions in the tables",
     "The data plane's counters (summed over workers) that are not zero, and the active sessions; --json\n"
     "adds every counter, the control socket's own, and per-worker figures."},
    {command_id::sessions, socket_and_ctl, "sessions", 0, any_number, false, "[FILTER...]",
     "list sessions [src=A dst=A sport=N dport=N proto=N policy=N]", filters_help},
    {command_id::clear, socket_and_ctl, "clear", 0, any_number, false, "[FILTER...]",
     "remove sessions on every worker [same filters as sessions]", filters_help},
    {command_id::ping, surface::socket, "ping", 0, 0, false, "", "whether sipalgd answers", ""},
    {command_id::log, socket_and_ctl, "log", 0, any_number, false, "[category=C] [FIELD=VALUE...] [lines=N]",
     "the newest log lines in memory (FortiOS execute log display), oldest first",
     "category: utm-voip (or voip, 8) or traffic (0); FIELD=VALUE: a log field as logged (logid=0814044032,\n"
     "policy_id=1, call_id=...); every one given must match; lines: at most this many (default 1000)."},
    {command_id::sip_check, surface::sipalgctl, "sip-check", 1, any_number, false, "[options] FILE...",
     "check raw SIP messages in files as the ALG would (no daemon needed)",
     "FILE: raw SIP messages, one per file (\"-\": standard input), or with --stream a TCP byte stream."},
    {command_id::schema, surface::sipalgctl, "schema", 0, any_number, false, "[PATH]",
     "the configuration's sections, or one section's fields: type, default, live, help (no daemon needed)",
     "PATH: a section such as firewall policy or voip profile (none: every section). Each field with\n"
     "what its value looks like, its default, whether a running sipalgd takes a change, and an example."},
    // Lines of FortiOS CLI text (the cli command) that are not configuration.
    {command_id::show, surface::cli, "show", 0, any_number, false, "[PATH [ENTRY]] | full-configuration",
     "the configuration as FortiOS CLI", "PATH: a config path such as firewall policy; ENTRY: one entry of it."},
    {command_id::get, surface::cli, "get", 1, any_number, false, "PATH [ENTRY]",
     "every field of an object or entry as key : value, defaults too",
     "PATH: a config path such as system settings; ENTRY: one entry of a table (none: its entries' names)."},
    {command_id::session_filter, surface::cli, "diagnose sys session filter", 2, 2, false, "FIELD VALUE",
     "narrow the session list (the fields add up; kept between requests)",
     "FIELD: src dst sport dport proto policy."},
    {command_id::session_filter_clear, surface::cli, "diagnose sys session filter clear", 0, 0, false, "",
     "forget the session filter", ""},
    {command_id::session_list, surface::cli, "diagnose sys session list", 0, 0, false, "",
     "the sessions the filter selects", ""},
    {command_id::session_clear, surface::cli, "diagnose sys session clear", 0, 0, false, "",
     "remove the sessions the filter selects", ""},
    {command_id::alg_calls, surface::cli, "diagnose sys sip-proxy calls list", 0, 0, false, "",
     "the SIP ALG's calls (those the sip-proxy filter selects)", ""},
    {command_id::alg_calls_clear, surface::cli, "diagnose sys sip-proxy calls clear", 0, 0, false, "",
     "end the SIP ALG's calls the sip-proxy filter selects, closing their pinholes", ""},
    {command_id::alg_calls_idle, surface::cli, "diagnose sys sip-proxy calls idle", 0, 0, false, "",
     "the SIP ALG's answered calls with no media session alive (those the filter selects)", ""},
    {command_id::sip_proxy_filter, surface::cli, "diagnose sys sip-proxy filter", 1, 2, false, "FIELD [VALUE] | clear | list",
     "narrow the sip-proxy calls lists and clear (the fields add up; kept between requests)",
     "FIELD: src-addr4 dst-addr4 (an address), src-port dst-port, policy (an id), voip-profile (a name);\n"
     "negate FIELD selects the calls that do not match it; clear forgets the filter, list prints it."},
    {command_id::sip_proxy_meters, surface::cli, "diagnose sys sip-proxy meters list", 0, 0, false, "",
     "the SIP ALG's request rate meters: rate, count, drop, peak, per policy and method (and address)", ""},
    {command_id::sip_proxy_stats, surface::cli, "diagnose sys sip-proxy stats", 0, 1, false, "[list | clear]",
     "per policy and in total, SIP requests and responses received and blocked by method; then the SIP counters",
     "clear: count from now on (the workers' counters are kept; what they show now becomes the zero)."},
    {command_id::helper_calls, surface::cli, "diagnose sys sip dialog list", 0, 0, false, "",
     "the session helper's calls", ""},
    {command_id::mappings, surface::cli, "diagnose sys sip mapping list", 0, 0, false, "",
     "the pinholes of both engines", ""},
    {command_id::log_filter, surface::cli, "execute log filter", 2, 3, false, "category C | field NAME VALUE | view-lines N",
     "narrow execute log display (kept between requests, as on FortiOS)",
     "category: utm-voip (voip, 8) or traffic (0); field: a log field and the value it must have (they add up);\n"
     "view-lines: the newest this many lines."},
    {command_id::log_filter_reset, surface::cli, "execute log filter reset", 0, 0, false, "", "forget the log filter", ""},
    {command_id::log_display, surface::cli, "execute log display", 0, 0, false, "",
     "the log lines in memory the filter selects", ""},
    {command_id::sniffer, surface::cli, "diagnose sniffer packet", 1, 5, false, "INTERFACE ['FILTER'] [VERBOSE] [COUNT] [a|l]",
     "the packets received and sent on an interface (or any) that a pcap filter selects",
     "INTERFACE: an interface or any; FILTER: pcap syntax, quoted ('udp port 5060'; none or none: all);\n"
     "VERBOSE: 1 (addresses), 2 (and the IP packet in hex), 3 (and the Ethernet header), 4-6 (the same with the\n"
     "interface and direction); COUNT: packets to take (0: 1,000); a: absolute UTC times, l: local (default:\n"
     "seconds since the first). It stops after COUNT packets or 5 seconds."},
    {command_id::performance, surface::cli, "get system performance status", 0, 0, false, "",
     "the workers' busy share, memory, and averages over 1, 10 and 30 minutes: network, sessions, setup rates, drops", ""},
    {command_id::policy_stats, surface::cli, "diagnose firewall iprope show 100004", 0, 1, false, "[ID]",
     "per firewall policy: packets and bytes each way, hit count, first and last hit, sessions now",
     "ID: one policy (none: every policy with traffic)."},
    // rte_telemetry (dpdk-telemetry.py), answered by the data plane itself.
    {command_id::telemetry_info, surface::telemetry, "/sipalg/info", 0, 0, false, "",
     "sipalgd version, workers and TSC frequency. Takes no parameters.", ""},
    {command_id::telemetry_stats, surface::telemetry, "/sipalg/stats", 0, 0, false, "",
     "Every counter summed over the workers. Takes no parameters.", ""},
    {command_id::telemetry_worker_stats, surface::telemetry, "/sipalg/worker_stats", 1, 1, false, "WORKER",
     "Counters of one worker. Parameter: worker id.", ""},
    {command_id::telemetry_interfaces, surface::telemetry, "/sipalg/interfaces", 0, 0, false, "",
     "Interfaces with port, address, MAC, MTU. Takes no parameters.", ""},
    {command_id::telemetry_sessions, surface::telemetry, "/sipalg/sessions", 0, 1, false, "[FILTER]",
     "Sessions: counts and the first 16. Parameter: filter src=,dst=,sport=,dport=,proto=,policy= (optional).", ""},
    {command_id::telemetry_sessions_clear, surface::telemetry, "/sipalg/sessions_clear", 0, 1, false, "[FILTER]",
     "Removes the sessions that match. Parameter: filter as /sipalg/sessions (none: all).", ""},
};
// clang-format on

} // namespace

std::span<const command_spec> command_table()
{
    return table;
}

std::vector<std::string_view> split_words(std::string_view line)
{
    std::vector<std::string_view> out;
    for (std::size_t i = 0; i < line.size();) {
        const std::size_t start = line.find_first_not_of(" \t", i);
        if (start == std::string_view::npos) {
            break;
        }
        const std::size_t stop = std::min(line.find_first_of(" \t", start), line.size());
        out.push_back(line.substr(start, stop - start));
        i = stop;
    }
    return out;
}

const command_spec* find_command(unsigned in_surface, std::span<const std::string_view> words)
{
    const command_spec* best = nullptr;
    std::size_t best_length = 0;
    for (const auto& c : table) {
        if ((c.surfaces & in_surface) == 0) {
            continue;
        }
        const auto fixed = split_words(c.words);
        if (fixed.size() > words.size() || fixed.size() <= best_length ||
            !std::equal(fixed.begin(), fixed.end(), words.begin())) {
            continue;
        }
        const std::size_t arguments = words.size() - fixed.size();
        if (arguments < c.min_arguments || (c.max_arguments != any_number && arguments > c.max_arguments)) {
            continue;
        }
        best = &c;
        best_length = fixed.size();
    }
    return best;
}

const command_spec* find_command(unsigned in_surface, std::string_view line)
{
    const auto words = split_words(line);
    return find_command(in_surface, words);
}

const command_spec& spec_of(command_id id)
{
    return *std::find_if(std::begin(table), std::end(table), [id](const command_spec& c) { return c.id == id; });
}

} // namespace sipalg::control
