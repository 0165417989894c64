// See telemetry.hpp. The callbacks run on the EAL's telemetry thread; they only read counters, which
// workers publish with relaxed stores (counters.hpp).
#include "dataplane/telemetry.hpp"

#include "dataplane/appliance.hpp"

#include <fmt/format.h>
#include <rte_cycles.h>
#include <rte_telemetry.h>

#include <atomic>
#include <charconv>
#include <cstring>
#include <optional>
#include <string_view>

namespace sipalg::dp {

namespace {

std::atomic<const appliance*> g_app{nullptr};
const char* g_version = "";

void add_counters(rte_tel_data* d, const std::array<std::uint64_t, counter_count>& values)
{
    for (std::size_t i = 0; i < counter_count; ++i) {
        // counter_names are string literals from the X-macro, so NUL-terminated.
        rte_tel_data_add_dict_u64(d, counter_names[i].data(), values[i]);
    }
}

int cmd_info(const char*, const char*, rte_tel_data* d)
{
    const appliance* app = g_app.load();
    if (app == nullptr) {
        return -1;
    }
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_string(d, "version", g_version);
    rte_tel_data_add_dict_int(d, "workers", static_cast<int>(app->workers()));
    rte_tel_data_add_dict_u64(d, "tsc_hz", rte_get_tsc_hz());
    return 0;
}

int cmd_stats(const char*, const char*, rte_tel_data* d)
{
    const appliance* app = g_app.load();
    if (app == nullptr) {
        return -1;
    }
    rte_tel_data_start_dict(d);
    add_counters(d, app->totals());
    return 0;
}

int cmd_worker_stats(const char*, const char* params, rte_tel_data* d)
{
    const appliance* app = g_app.load();
    if (app == nullptr || params == nullptr) {
        return -1;
    }
    unsigned id = 0;
    const auto len = std::strlen(params);
    const auto [end, ec] = std::from_chars(params, params + len, id);
    if (len == 0 || ec != std::errc{} || end != params + len || id >= app->workers()) {
        return -1;
    }
    std::array<std::uint64_t, counter_count> values{};
    for (std::size_t i = 0; i < counter_count; ++i) {
        values[i] = app->worker_at(id).counters().get(static_cast<counter>(i));
    }
    rte_tel_data_start_dict(d);
    add_counters(d, values);
    return 0;
}

int cmd_interfaces(const char*, const char*, rte_tel_data* d)
{
    const appliance* app = g_app.load();
    if (app == nullptr) {
        return -1;
    }
    rte_tel_data_start_dict(d);
    return app->with_snapshot([d](const snapshot& s) {
        for (const auto& itf : s.interfaces) {
            rte_tel_data* x = rte_tel_data_alloc();
            if (x == nullptr) {
                return -1;
            }
            rte_tel_data_start_dict(x);
            rte_tel_data_add_dict_int(x, "port", itf.port);
            rte_tel_data_add_dict_string(x, "ip", format_prefix(itf.address).c_str());
            rte_tel_data_add_dict_string(x, "mac", format_mac(itf.mac).c_str());
            rte_tel_data_add_dict_int(x, "mtu", itf.mtu);
            rte_tel_data_add_dict_string(x, "allowaccess", itf.allow_ping ? "ping" : "");
            rte_tel_data_add_dict_container(d, itf.name.c_str(), x, 0);
        }
        return 0;
    });
}

// Telemetry replies are small (16 KiB): the list shows the first sessions; the counts are complete.
constexpr std::size_t telemetry_sessions_listed = 16;

int sessions_reply(const char* params, rte_tel_data* d, bool clear)
{
    const appliance* app = g_app.load();
    if (app == nullptr) {
        return -1;
    }
    const auto filter = nat::parse_session_filter(params == nullptr ? std::string_view{} : std::string_view{params});
    if (!filter) {
        return -1;
    }
    const session_list list = app->query_sessions(*filter, clear, clear ? 0 : telemetry_sessions_listed);
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_u64(d, "matched", list.matched);
    rte_tel_data_add_dict_u64(d, "cleared", list.cleared);
    rte_tel_data_add_dict_int(d, "complete", list.complete ? 1 : 0);
    rte_tel_data_add_dict_u64(d, "active", app->sessions_active());
    if (clear) {
        return 0;
    }
    // rte_telemetry nests one level only: each session is a dict under its own key (session_0, ...).
    unsigned n = 0;
    for (const auto& s : list.sessions) {
        // The fields of a "diagnose sys session list" entry (telemetry strings are short: one per field).
        rte_tel_data* x = rte_tel_data_alloc();
        if (x == nullptr) {
            return -1;
        }
        const auto& o = s.rewrite[0];
        const auto endpoint = [](be32 a, be16 p) { return fmt::format("{}:{}", format_ipv4(a.to_host()), p.to_host()); };
        rte_tel_data_start_dict(x);
        rte_tel_data_add_dict_int(x, "proto", s.key.proto);
        rte_tel_data_add_dict_string(x, "state", nat::state_name(s.state));
        rte_tel_data_add_dict_u64(x, "policy", s.policy_id);
        rte_tel_data_add_dict_u64(x, "expire", s.expires_in);
        rte_tel_data_add_dict_u64(x, "duration", s.age);
        rte_tel_data_add_dict_int(x, "worker", static_cast<int>(s.worker));
        rte_tel_data_add_dict_string(x, "src", endpoint(s.key.src, s.key.sport).c_str());
        rte_tel_data_add_dict_string(x, "dst", endpoint(s.key.dst, s.key.dport).c_str());
        rte_tel_data_add_dict_string(x, "nat_src", endpoint(o.src, o.sport).c_str());
        rte_tel_data_add_dict_string(x, "nat_dst", endpoint(o.dst, o.dport).c_str());
        rte_tel_data_add_dict_u64(x, "packets_orig", s.packets[0]);
        rte_tel_data_add_dict_u64(x, "bytes_orig", s.bytes[0]);
        rte_tel_data_add_dict_u64(x, "packets_reply", s.packets[1]);
        rte_tel_data_add_dict_u64(x, "bytes_reply", s.bytes[1]);
        rte_tel_data_add_dict_int(x, "snat", (s.flags & nat::session_flag::snat) != 0 ? 1 : 0);
        rte_tel_data_add_dict_int(x, "dnat", (s.flags & nat::session_flag::dnat) != 0 ? 1 : 0);
        rte_tel_data_add_dict_container(d, fmt::format("session_{}", n++).c_str(), x, 0);
    }
    return 0;
}

int cmd_sessions(const char*, const char* params, rte_tel_data* d)
{
    return sessions_reply(params, d, false);
}

int cmd_sessions_clear(const char*, const char* params, rte_tel_data* d)
{
    return sessions_reply(params, d, true);
}

} // namespace

std::string register_telemetry(const appliance* app, const char* version,
                               const std::function<const char*(std::string_view name)>& help_of)
{
    g_app.store(app);
    g_version = version;
    struct command {
        const char* name;
        telemetry_cb fn;
    };
    static const command commands[] = {
        {"/sipalg/info", cmd_info},
        {"/sipalg/stats", cmd_stats},
        {"/sipalg/worker_stats", cmd_worker_stats},
        {"/sipalg/interfaces", cmd_interfaces},
        {"/sipalg/sessions", cmd_sessions},
        {"/sipalg/sessions_clear", cmd_sessions_clear},
    };
    for (const auto& c : commands) {
        const char* help = help_of(c.name);
        if (help == nullptr) {
            return fmt::format("telemetry command {} has no help in the command table", c.name);
        }
        if (const int rc = rte_telemetry_register_cmd(c.name, c.fn, help); rc != 0) {
            return fmt::format("cannot register telemetry command {} ({})", c.name, rc);
        }
    }
    return {};
}

void unregister_telemetry()
{
    g_app.store(nullptr);
}

} // namespace sipalg::dp
