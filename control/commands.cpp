// See commands.hpp.
#include "control/commands.hpp"

#include "control/control_server.hpp"
#include "control/json.hpp"
#include "control/route_plan.hpp"
#include "dataplane/appliance.hpp"
#include "nat/session_filter.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

namespace sipalg::control {

namespace {

std::string errors_reply(const std::vector<config_error>& errors)
{
    std::string out = fmt::format("{{\"ok\":false,\"error\":{},\"errors\":[",
                                  json_string(errors.size() == 1 ? format_error(errors[0])
                                                                 : fmt::format("{} errors", errors.size())));
    for (std::size_t i = 0; i < errors.size(); ++i) {
        out += fmt::format("{}{{\"line\":{},\"column\":{},\"message\":{}}}", i ? "," : "", errors[i].where.line,
                           errors[i].where.column, json_string(errors[i].message));
    }
    return out + "]}\n";
}

// Writes `text` to `path` so that a crash leaves the old file or the new one, never half of one:
// a temporary file beside it, fsync, rename over, fsync of the directory (the rename itself).
std::string write_atomically(const std::string& path, const std::string& text)
{
    const std::string tmp = path + ".tmp";
    const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        return fmt::format("cannot write {}: {}", tmp, std::strerror(errno));
    }
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            const std::string err = fmt::format("cannot write {}: {}", tmp, std::strerror(errno));
            close(fd);
            unlink(tmp.c_str());
            return err;
        }
        done += static_cast<std::size_t>(n);
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(tmp.c_str());
        return fmt::format("cannot write {}: {}", tmp, std::strerror(errno));
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        unlink(tmp.c_str());
        return fmt::format("cannot replace {}: {}", path, std::strerror(errno));
    }
    const auto dir = std::filesystem::path(path).parent_path();
    const int dfd = open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return {};
}

std::string endpoint(be32 a, be16 p)
{
    return json_string(fmt::format("{}:{}", format_ipv4(a.to_host()), p.to_host()));
}

} // namespace

std::string commands::handle(std::string_view command, std::string_view body)
{
    std::string_view verb = command.substr(0, command.find(' '));
    std::string_view rest = verb.size() < command.size() ? command.substr(verb.size() + 1) : std::string_view{};
    if (verb == "apply") {
        return apply(body, true);
    }
    if (verb == "validate") {
        return apply(body, false);
    }
    if (command == "show config" || command == "show") {
        return fmt::format("{{\"ok\":true,\"yaml\":{}}}\n", json_string(to_yaml(running_)));
    }
    if (verb == "stats") {
        return stats();
    }
    if (verb == "sessions") {
        return sessions(rest, false);
    }
    if (verb == "clear") {
        return sessions(rest, true);
    }
    if (verb == "ping") {
        return "{\"ok\":true}\n";
    }
    return error_reply(fmt::format("unknown command '{}' (apply, validate, show config, stats, sessions, clear)",
                                   command.substr(0, 80)));
}

std::string commands::apply(std::string_view yaml, bool commit)
{
    const load_result update = load_yaml_sections(yaml);
    const config merged = merge_sections(running_, update.cfg, update.sections);
    // Every error at once: the document's own and the references across the merged configuration.
    std::vector<config_error> errors = update.errors;
    for (auto& e : check_config(merged)) {
        errors.push_back(std::move(e));
    }
    if (!errors.empty()) {
        return errors_reply(errors);
    }
    const plan_result planned = build_plan(merged);
    if (!planned.ok()) {
        return errors_reply(planned.errors);
    }
    if (!commit) {
        return "{\"ok\":true,\"applied\":false}\n";
    }
    if (const std::string err = app_.apply(planned.plan); !err.empty()) {
        return error_reply(err);
    }
    running_ = merged;
    std::string saved = "null";
    if (!path_.empty()) {
        const std::string err = write_atomically(path_, to_yaml(running_));
        if (!err.empty()) {
            // In force, but a restart would not see it: say so.
            return fmt::format("{{\"ok\":true,\"applied\":true,\"saved\":false,\"warning\":{}}}\n", json_string(err));
        }
        saved = json_string(path_);
    }
    return fmt::format("{{\"ok\":true,\"applied\":true,\"saved\":{}}}\n", saved);
}

void commands::reload_file()
{
    if (path_.empty()) {
        fmt::print(stderr, "sipalgd: reload: started without --config; nothing to read\n");
        return;
    }
    auto loaded = load_yaml_file(path_);
    std::vector<config_error> errors = loaded.errors;
    plan_result planned;
    if (errors.empty()) {
        planned = build_plan(loaded.cfg);
        errors = planned.errors;
    }
    for (const auto& e : errors) {
        fmt::print(stderr, "sipalgd: reload refused: {}:{}\n", path_, format_error(e));
    }
    if (!errors.empty()) {
        return;
    }
    if (auto err = app_.apply(planned.plan); !err.empty()) {
        fmt::print(stderr, "sipalgd: reload refused: {}\n", err);
        return;
    }
    running_ = std::move(loaded.cfg);
    fmt::print(stderr, "sipalgd: configuration reloaded from {}\n", path_);
}

std::string commands::stats() const
{
    const auto totals = app_.totals();
    std::string out = "{\"ok\":true,\"counters\":{";
    for (std::size_t i = 0; i < dp::counter_count; ++i) {
        out += fmt::format("{}\"{}\":{}", i ? "," : "", dp::counter_names[i], totals[i]);
    }
    out += fmt::format("}},\"sessions_active\":{},\"workers\":[", app_.sessions_active());
    for (unsigned w = 0; w < app_.workers(); ++w) {
        const auto& c = app_.worker_at(w).counters();
        out += fmt::format("{}{{\"id\":{},\"rx_packets\":{},\"forwarded\":{},\"sessions_active\":{}}}", w ? "," : "", w,
                           c.get(dp::counter::rx_packets), c.get(dp::counter::forwarded),
                           app_.worker_at(w).sessions_active());
    }
    return out + "]}\n";
}

std::string commands::sessions(std::string_view filter_text, bool clear) const
{
    const auto filter = nat::parse_session_filter(filter_text);
    if (!filter) {
        return error_reply(fmt::format("bad session filter '{}' (fields: src dst sport dport proto policy, as "
                                       "field=value)",
                                       filter_text.substr(0, 200)));
    }
    constexpr std::size_t max_listed = 100000;
    const dp::session_list list = app_.query_sessions(*filter, clear, clear ? 0 : max_listed);
    if (!list.complete) {
        return error_reply("a worker did not answer in time");
    }
    if (clear) {
        return fmt::format("{{\"ok\":true,\"cleared\":{}}}\n", list.cleared);
    }
    std::string out = fmt::format("{{\"ok\":true,\"matched\":{},\"listed\":{},\"sessions\":[", list.matched,
                                  list.sessions.size());
    for (std::size_t i = 0; i < list.sessions.size(); ++i) {
        const auto& s = list.sessions[i];
        const auto& o = s.rewrite[0];
        out += fmt::format(
            "{}{{\"proto\":{},\"state\":\"{}\",\"policy\":{},\"expire\":{},\"duration\":{},\"worker\":{},"
            "\"src\":{},\"dst\":{},\"nat_src\":{},\"nat_dst\":{},\"packets\":[{},{}],\"bytes\":[{},{}],"
            "\"snat\":{},\"dnat\":{}}}",
            i ? "," : "", s.key.proto, nat::state_name(s.state), s.policy_id, s.expires_in, s.age, s.worker,
            endpoint(s.key.src, s.key.sport), endpoint(s.key.dst, s.key.dport), endpoint(o.src, o.sport),
            endpoint(o.dst, o.dport), s.packets[0], s.packets[1], s.bytes[0], s.bytes[1],
            (s.flags & nat::session_flag::snat) != 0, (s.flags & nat::session_flag::dnat) != 0);
    }
    return out + "]}\n";
}

} // namespace sipalg::control
