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

} // namespace

std::string register_telemetry(const appliance* app, const char* version)
{
    g_app.store(app);
    g_version = version;
    struct command {
        const char* name;
        telemetry_cb fn;
        const char* help;
    };
    static const command commands[] = {
        {"/sipalg/info", cmd_info, "sipalgd version, workers and TSC frequency. Takes no parameters."},
        {"/sipalg/stats", cmd_stats, "Every counter summed over the workers. Takes no parameters."},
        {"/sipalg/worker_stats", cmd_worker_stats, "Counters of one worker. Parameter: worker id."},
        {"/sipalg/interfaces", cmd_interfaces, "Interfaces with port, address, MAC, MTU. Takes no parameters."},
    };
    for (const auto& c : commands) {
        if (const int rc = rte_telemetry_register_cmd(c.name, c.fn, c.help); rc != 0) {
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
