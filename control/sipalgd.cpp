// sipalgd: the appliance. EAL options, then "--", then sipalgd's own options (ARCHITECTURE.md "Names").
// The main lcore is the control core: it loads the configuration, brings up the data plane, serves
// telemetry and waits for a signal (or, for pcap tests, for the inputs to drain); every other lcore is a
// worker. Start-up failures print one clear message and exit non-zero.
#include "control/command_table.hpp"
#include "control/commands.hpp"
#include "control/config.hpp"
#include "control/control_server.hpp"
#include "control/json.hpp"
#include "control/metrics.hpp"
#include "control/route_plan.hpp"
#include "dataplane/appliance.hpp"
#include "dataplane/telemetry.hpp"

#include <boost/program_options.hpp>
#include <fmt/format.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_pdump.h>
#include <rte_ethdev.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace po = boost::program_options;
using namespace sipalg;

namespace {

constexpr const char* version = SIPALG_VERSION; // meson.build's project version
constexpr const char* default_control_socket = "/run/sipalg/sipalgd.sock";

std::atomic<bool> g_quit{false};
std::atomic<bool> g_reload{false};

void on_signal(int)
{
    g_quit.store(true);
}

// SIGHUP: read the configuration file again and put it in force (the control socket of the next issue
// does the same on request).
void on_reload(int)
{
    g_reload.store(true);
}

struct daemon_options {
    std::string config_path;
    std::string control_socket = default_control_socket;
    std::string control_group;
    std::string stats_file;
    std::string log_dir = "/var/log/sipalg";
    std::string metrics_listen; // ADDRESS:PORT for GET /metrics; empty: none
    unsigned drain_idle_ms = 100;
    unsigned control_timeout_ms = 10000;
    dp::options dp;
};

// One scrape's worth of what the workers and ports publish (control/metrics.hpp).
std::string metrics_of(const dp::appliance& app, const control::logger& logs)
{
    control::metrics_input in;
    in.version = version;
    in.tsc_hz = rte_get_tsc_hz();
    in.logs = logs.counters();
    for (unsigned w = 0; w < app.workers(); ++w) {
        const dp::worker& k = app.worker_at(w);
        control::metrics_input::worker m;
        m.counters.resize(dp::counter_count);
        for (std::size_t c = 0; c < dp::counter_count; ++c) {
            m.counters[c] = k.counters().get(static_cast<dp::counter>(c));
        }
        m.sessions = k.sessions_active();
        m.pinholes = k.pinholes_active();
        for (std::size_t s = 0; s < m.calls.size(); ++s) {
            m.calls[s] = k.calls_in_state(static_cast<nat::call_state>(s));
        }
        in.workers.push_back(std::move(m));
    }
    for (const auto& [id, s] : control::policy_sums(app)) {
        in.policies.push_back({id, s.hits, s.sessions, s.packets, s.bytes});
    }
    app.with_snapshot([&](const dp::snapshot& s) {
        for (const auto& itf : s.interfaces) {
            const rte_eth_stats st = app.port_stats(itf.index);
            in.ports.push_back({itf.name, st.ipackets, st.opackets, st.ibytes, st.obytes, st.imissed, st.ierrors, st.oerrors});
        }
    });
    return control::metrics_text(in);
}

po::options_description describe(daemon_options& o)
{
    po::options_description d("sipalgd options (after the EAL options and \"--\")");
    // clang-format off
    d.add_options()
        ("help,h", "show this help and exit")
        ("version", "show the version and exit")
        ("config,c", po::value(&o.config_path), "configuration file (YAML)")
        ("control-socket", po::value(&o.control_socket)->default_value(o.control_socket),
            "Unix control socket path (mode 0660; sipalgctl --socket, socat UNIX-CONNECT:)")
        ("control-group", po::value(&o.control_group),
            "group that owns the control socket, so that its members (operators) can use it")
        ("control-timeout-ms", po::value(&o.control_timeout_ms)->default_value(o.control_timeout_ms),
            "milliseconds a control client has to send its request, and to take its reply")
        ("mbufs", po::value(&o.dp.mbufs)->default_value(o.dp.mbufs), "mbufs in the packet pool")
        ("mbuf-size", po::value(&o.dp.mbuf_data_room)->default_value(o.dp.mbuf_data_room),
            "packet data bytes per mbuf (at least the net_af_packet framesz minus 32)")
        ("rx-descriptors", po::value(&o.dp.rx_descriptors)->default_value(o.dp.rx_descriptors),
            "descriptors per RX queue")
        ("tx-descriptors", po::value(&o.dp.tx_descriptors)->default_value(o.dp.tx_descriptors),
            "descriptors per TX queue")
        ("handoff-ring-size", po::value(&o.dp.handoff_ring_size)->default_value(o.dp.handoff_ring_size),
            "slots per worker-to-worker ring (power of two)")
        ("log-ring-size", po::value(&o.dp.log_ring_size)->default_value(o.dp.log_ring_size),
            "log records per worker waiting for the control core (power of two; beyond: lost and counted)")
        ("arp-entries", po::value(&o.dp.arp_entries)->default_value(o.dp.arp_entries),
            "neighbour entries per worker")
        ("arp-timeout", po::value(&o.dp.arp_timeout_s)->default_value(o.dp.arp_timeout_s),
            "seconds before a neighbour entry is re-probed (in use) or removed (idle)")
        ("arp-hold", po::value(&o.dp.arp_hold)->default_value(o.dp.arp_hold),
            "packets held per unresolved neighbour")
        ("frag-entries", po::value(&o.dp.frag_entries)->default_value(o.dp.frag_entries),
            "datagrams in reassembly per worker")
        ("frag-timeout-ms", po::value(&o.dp.frag_timeout_ms)->default_value(o.dp.frag_timeout_ms),
            "milliseconds before an incomplete datagram is dropped")
        ("sessions", po::value(&o.dp.sessions)->default_value(o.dp.sessions),
            "sessions per worker; a new session beyond it is refused and counted")
        ("pinholes", po::value(&o.dp.pinholes)->default_value(o.dp.pinholes),
            "SIP media and registration pinholes per worker; beyond it SDP ports stay as they were, counted")
        ("sip-connections", po::value(&o.dp.sip_connections)->default_value(o.dp.sip_connections),
            "SIP/TCP connections followed per worker; beyond it a connection passes unparsed, counted")
        ("sip-tcp-buffers", po::value(&o.dp.sip_tcp_buffers)->default_value(o.dp.sip_tcp_buffers),
            "SIP/TCP directions that may hold bytes at once, per worker (one is free again once its bytes are acknowledged)")
        ("sip-tcp-pages", po::value(&o.dp.sip_tcp_pages)->default_value(o.dp.sip_tcp_pages),
            "2 KiB pages for the bytes SIP/TCP directions hold, per worker (at most 65535)")
        ("session-time-scale", po::value(&o.dp.session_time_scale)->default_value(o.dp.session_time_scale),
            "run the session clock this many times faster (tests of timeouts)")
        ("icmp-rate", po::value(&o.dp.icmp_rate)->default_value(o.dp.icmp_rate),
            "ICMP errors per second per worker")
        ("idle-sleep-us", po::value(&o.dp.idle_sleep_us)->default_value(o.dp.idle_sleep_us),
            "microseconds a worker sleeps after finding no packets (0: pure polling)")
        ("exit-when-drained", po::bool_switch(&o.dp.exit_when_drained),
            "exit once every input has been idle (pcap tests and benchmarks)")
        ("drain-idle-ms", po::value(&o.drain_idle_ms)->default_value(o.drain_idle_ms),
            "idle time that counts as drained")
        ("stats-file", po::value(&o.stats_file), "write the counters as JSON to this file at exit")
        ("metrics-listen", po::value(&o.metrics_listen),
            "serve Prometheus metrics (GET /metrics) on ADDRESS:PORT, e.g. 127.0.0.1:9464 (default: off)")
        ("log-dir", po::value(&o.log_dir)->default_value(o.log_dir),
            "where the disk log (config log disk setting) writes sipalg.log, rotated to sipalg.log.1");
    // clang-format on
    return d;
}

void usage(const po::options_description& d)
{
    std::cout << "usage: sipalgd [EAL options] -- [sipalgd options]\n"
                 "  e.g. sipalgd -l 0,1 --no-huge --no-pci -m 512 --vdev net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap \\\n"
                 "         -- --config conf/default.yaml\n\n"
              << d << "\n";
}

std::string stats_json(const dp::appliance& app)
{
    using control::json;
    const auto totals = app.totals();
    json out;
    json& counters = out["counters"] = json::object();
    for (std::size_t i = 0; i < dp::counter_count; ++i) {
        counters[std::string(dp::counter_names[i])] = totals[i];
    }
    json& workers = out["workers"] = json::array();
    for (unsigned w = 0; w < app.workers(); ++w) {
        json one = json::object();
        for (std::size_t i = 0; i < dp::counter_count; ++i) {
            one[std::string(dp::counter_names[i])] = app.worker_at(w).counters().get(static_cast<dp::counter>(i));
        }
        workers.push_back(std::move(one));
    }
    json bytes = json::array();
    for (unsigned w = 0; w < app.workers(); ++w) {
        bytes.push_back(app.worker_at(w).session_bytes());
    }
    out["sessions"] = {{"active", app.sessions_active()}, {"bytes_allocated", std::move(bytes)}};
    out["pinholes"] = {{"bytes_per_pinhole", app.workers() != 0 ? app.worker_at(0).pinhole_bytes_per_entry() : 0.0}};
    out["sip_tcp"] = {{"bytes_per_connection", app.workers() != 0 ? app.worker_at(0).sip_connection_bytes() : 0}};
    json& interfaces = out["interfaces"] = json::object();
    app.with_snapshot([&](const dp::snapshot& s) {
        for (std::size_t i = 0; i < s.interfaces.size(); ++i) {
            const auto& itf = s.interfaces[i];
            const rte_eth_stats st = app.port_stats(i);
            interfaces[itf.name] = {{"port", itf.port},           {"mac", format_mac(itf.mac)},
                                    {"ipackets", st.ipackets},    {"opackets", st.opackets},
                                    {"imissed", st.imissed},      {"oerrors", st.oerrors}};
        }
    });
    return control::json_line(out);
}

// Counters that are not zero, one per line, for the log at exit.
void print_counters(const dp::appliance& app)
{
    const auto totals = app.totals();
    for (std::size_t i = 0; i < dp::counter_count; ++i) {
        if (totals[i] != 0) {
            fmt::print(stderr, "sipalgd:   {:<32} {}\n", dp::counter_names[i], totals[i]);
        }
    }
}

int run(int argc, char** argv)
{
    // Split at the first "--": EAL arguments before, ours after.
    int split = argc;
    for (int i = 1; i < argc; ++i) {
        if (std::string_view(argv[i]) == "--") {
            split = i;
            break;
        }
    }
    daemon_options o;
    const auto desc = describe(o);
    std::vector<std::string> ours(argv + std::min(split + 1, argc), argv + argc);
    if (split == argc) {
        // No separator: only a request for help or the version makes sense here.
        for (int i = 1; i < argc; ++i) {
            const std::string_view a(argv[i]);
            if (a == "--help" || a == "-h") {
                usage(desc);
                return 0;
            }
            if (a == "--version") {
                std::cout << "sipalgd " << version << "\n";
                return 0;
            }
        }
    }
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(ours).options(desc).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        fmt::print(stderr, "sipalgd: {}\nTry 'sipalgd -- --help'.\n", e.what());
        return 2;
    }
    if (vm.count("help") != 0) {
        usage(desc);
        return 0;
    }
    if (vm.count("version") != 0) {
        std::cout << "sipalgd " << version << "\n";
        return 0;
    }

    control::config cfg;
    if (!o.config_path.empty()) {
        auto loaded = control::load_yaml_file(o.config_path);
        if (!loaded.ok()) {
            for (const auto& e : loaded.errors) {
                fmt::print(stderr, "sipalgd: {}{}{}\n", e.where.line != 0 ? o.config_path : std::string{},
                           e.where.line != 0 ? ":" : "", control::format_error(e));
            }
            return 1;
        }
        cfg = std::move(loaded.cfg);
    }
    auto planned = control::build_plan(cfg);
    if (!planned.ok()) {
        for (const auto& e : planned.errors) {
            fmt::print(stderr, "sipalgd: {}:{}\n", o.config_path, control::format_error(e));
        }
        return 1;
    }
    if (planned.plan.interfaces.empty()) {
        fmt::print(stderr, "sipalgd: note: no interfaces configured; nothing will be forwarded\n");
    }

    std::vector<char*> eal_argv(argv, argv + split);
    const int eal_rc = rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data());
    if (eal_rc < 0) {
        // The EAL has printed its reason; rte_errno is not always set (a --file-prefix in use, say).
        fmt::print(stderr, "sipalgd: EAL initialisation failed{}\n",
                   rte_errno != 0 ? fmt::format(" ({})", rte_strerror(rte_errno)) : std::string(": see the EAL messages above"));
        return 1;
    }
    // The stock dpdk-dumpcap (and dpdk-pdump) capture the ports through the packet capture framework: a
    // secondary process asks, and the ports' callbacks copy what it asked for (ARCHITECTURE.md "Packet
    // captures"). A secondary process needs the primary's memory shared: with hugepages, not --no-huge.
    if (rte_pdump_init() != 0) {
        fmt::print(stderr, "sipalgd: note: packet capture (dpdk-dumpcap) unavailable: {}\n", rte_strerror(rte_errno));
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGHUP, on_reload);

    auto started = dp::appliance::start(planned.plan, o.dp);
    if (!started.app) {
        fmt::print(stderr, "sipalgd: {}\n", started.error);
        rte_eal_cleanup();
        return 1;
    }
    dp::appliance& app = *started.app;
    const auto telemetry_help = [](std::string_view name) -> const char* {
        for (const auto& c : control::command_table()) {
            if ((c.surfaces & control::surface::telemetry) != 0 && c.words == name) {
                return c.help.data(); // a string literal of the table: NUL-terminated, static
            }
        }
        return nullptr;
    };
    if (auto err = dp::register_telemetry(&app, version, telemetry_help); !err.empty()) {
        fmt::print(stderr, "sipalgd: {}\n", err);
        started.app.reset();
        rte_eal_cleanup();
        return 1;
    }
    fmt::print(stderr, "sipalgd {}: {} worker(s)\n", version, app.workers());
    app.with_snapshot([&](const dp::snapshot& s) {
        for (const auto& itf : s.interfaces) {
            const auto& b = app.ports()[itf.index];
            fmt::print(stderr, "sipalgd:   {} on port {}: {} {} mtu {} ({} rx / {} tx queues)\n", itf.name,
                       itf.port, format_prefix(itf.address), format_mac(itf.mac), itf.mtu, b.rx_queues, b.tx_queues);
        }
    });

    control::server_counters server_counters;
    control::logger logs(o.log_dir, rte_get_tsc_hz(), rte_rdtsc());
    control::performance perf(rte_get_tsc_hz());
    control::commands cmds(app, cfg, o.config_path, server_counters, logs, perf);
    // get system performance status: a sample of what the workers and ports publish, once a second.
    const auto started_at = std::chrono::steady_clock::now();
    auto next_sample = started_at;
    const auto sample = [&] {
        const auto now = std::chrono::steady_clock::now();
        if (now < next_sample) {
            return;
        }
        next_sample = now + std::chrono::seconds(1);
        control::performance_sample s;
        s.seconds = std::chrono::duration<double>(now - started_at).count();
        for (unsigned w = 0; w < app.workers(); ++w) {
            s.busy.push_back(app.worker_at(w).counters().get(dp::counter::busy_cycles));
        }
        const auto t = app.totals();
        s.sessions = app.sessions_active();
        s.sessions_created = t[static_cast<std::size_t>(dp::counter::sessions_created)];
        s.calls = t[static_cast<std::size_t>(dp::counter::sip_calls)];
        for (std::size_t c = 0; c < dp::counter_count; ++c) {
            s.drops += dp::counter_names[c].starts_with("drop_") ? t[c] : 0;
        }
        for (std::size_t i = 0; i < app.ports().size(); ++i) {
            const rte_eth_stats st = app.port_stats(i);
            s.rx_bytes += st.ibytes;
            s.tx_bytes += st.obytes;
        }
        perf.add(std::move(s));
    };

    // The workers' log records, drained between the socket's clients: at most this many at a time, so
    // that a flood of them cannot keep the socket waiting (the rings hold the rest).
    constexpr unsigned log_budget = 65536;
    const auto drain_logs = [&] {
        app.drain_logs(log_budget, [&logs](const dp::log_record& r) { logs.take(r); });
        logs.poll();
    };
    std::unique_ptr<control::metrics_server> metrics;
    if (!o.metrics_listen.empty()) {
        std::string metrics_error;
        metrics = control::metrics_server::create(o.metrics_listen, [&] { return metrics_of(app, logs); }, metrics_error);
        if (!metrics) {
            fmt::print(stderr, "sipalgd: {}\n", metrics_error);
            dp::unregister_telemetry();
            app.stop();
            started.app.reset();
            rte_eal_cleanup();
            return 1;
        }
        fmt::print(stderr, "sipalgd: metrics on http://{}/metrics\n", o.metrics_listen);
    }
    std::string socket_error;
    auto server = control::control_server::create(
        o.control_socket, o.control_group, [&cmds](std::string_view c, std::string_view b) { return cmds.handle(c, b); },
        control::server_limits{.request_timeout = std::chrono::milliseconds(o.control_timeout_ms),
                               .reply_timeout = std::chrono::milliseconds(o.control_timeout_ms)},
        server_counters, socket_error);
    if (!server) {
        fmt::print(stderr, "sipalgd: {}\n", socket_error);
        dp::unregister_telemetry();
        app.stop();
        started.app.reset();
        rte_eal_cleanup();
        return 1;
    }
    fmt::print(stderr, "sipalgd: control socket {}\n", o.control_socket);

    // What the control core does between the socket's clients, and while a long command waits.
    const auto background = [&] {
        drain_logs();
        sample();
        if (metrics) {
            metrics->poll();
        }
    };
    cmds.set_background(background);
    while (!g_quit.load()) {
        // The control core's loop: the socket's clients, then the timers of a drained pcap run.
        server->poll(std::chrono::milliseconds(10));
        background();
        if (g_reload.exchange(false)) {
            cmds.reload_file();
        }
        if (o.dp.exit_when_drained && app.drained(o.drain_idle_ms)) {
            fmt::print(stderr, "sipalgd: inputs drained\n");
            break;
        }
    }
    server.reset();
    dp::unregister_telemetry();
    app.stop();
    drain_logs(); // what the workers logged before they stopped
    fmt::print(stderr, "sipalgd: stopped; counters:\n");
    print_counters(app);
    int status = 0;
    if (!o.stats_file.empty()) {
        std::ofstream out(o.stats_file, std::ios::trunc);
        out << stats_json(app);
        if (!out) {
            fmt::print(stderr, "sipalgd: cannot write {}\n", o.stats_file);
            status = 1;
        }
    }
    started.app.reset();
    rte_eal_cleanup();
    return status;
}

} // namespace

int main(int argc, char** argv)
{
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        fmt::print(stderr, "sipalgd: {}\n", e.what());
        return 1;
    }
}
