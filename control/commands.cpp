// See commands.hpp.
#include "control/commands.hpp"

#include "control/cli.hpp"
#include "control/command_table.hpp"
#include "control/control_server.hpp"
#include "control/json.hpp"
#include "control/output_filter.hpp"
#include "control/route_plan.hpp"
#include "control/sniffer.hpp"
#include "dataplane/appliance.hpp"
#include "nat/session_filter.hpp"
#include "sip/message.hpp"
#include "sip/text.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <tuple>

namespace sipalg::control {

namespace {

std::string errors_reply(const std::vector<config_error>& errors)
{
    json reply{{"ok", false},
               {"error", errors.size() == 1 ? format_error(errors[0]) : fmt::format("{} errors", errors.size())}};
    json& list = reply["errors"] = json::array();
    for (const auto& e : errors) {
        list.push_back({{"line", e.where.line}, {"column", e.where.column}, {"message", e.message}});
    }
    return json_line(reply);
}

// Writes `text` to `link` so that a crash leaves the old file or the new one, never half of one:
// a temporary file beside it, fsync, rename over, fsync of the directory (the rename itself). A
// symbolic link is written through: the file it points to is replaced, keeping its mode and owner,
// and the link stays.
std::string write_atomically(const std::string& link, const std::string& text)
{
    std::error_code ec;
    const std::string path = std::filesystem::weakly_canonical(link, ec).string();
    if (ec) {
        return fmt::format("cannot resolve {}: {}", link, ec.message());
    }
    const std::string tmp = path + ".tmp";
    const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        return fmt::format("cannot write {}: {}", tmp, std::strerror(errno));
    }
    if (struct stat st{}; stat(path.c_str(), &st) == 0) {
        // The mode it had; the owner too when we may (a non-root daemon keeps its own).
        if (fchmod(fd, st.st_mode & 07777) != 0 || (fchown(fd, st.st_uid, st.st_gid) != 0 && errno != EPERM)) {
            const std::string err = fmt::format("cannot give {} the mode of {}: {}", tmp, path, std::strerror(errno));
            close(fd);
            unlink(tmp.c_str());
            return err;
        }
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
    return fmt::format("{}:{}", format_ipv4(a.to_host()), p.to_host());
}

} // namespace

// The file's path made absolute once, at start: replies name it, and a later change of directory
// must not move it.
commands::commands(dp::appliance& app, config running, const std::string& path, const server_counters& server, logger& log,
                   const performance& perf)
    : app_(app), running_(std::move(running)), path_(path.empty() ? path : std::filesystem::absolute(path).string()),
      server_(server), log_(log), perf_(perf)
{
    log_.configure(running_);
}



std::string commands::handle(std::string_view command, std::string_view body)
{
    const command_spec* c = find_command(surface::socket, command);
    if (c == nullptr) {
        std::string known;
        for (const auto& k : command_table()) {
            if ((k.surfaces & surface::socket) != 0) {
                known += known.empty() ? "" : ", ";
                known += k.words;
            }
        }
        return error_reply(fmt::format("unknown command '{}' ({})", command.substr(0, 80), known));
    }
    // The arguments: what follows the command's own words.
    const auto words = split_words(command);
    const std::size_t fixed = split_words(c->words).size();
    const std::string_view rest =
        words.size() > fixed ? command.substr(static_cast<std::size_t>(words[fixed].data() - command.data())) : std::string_view{};
    switch (c->id) {
    case command_id::apply:
        return apply(body, true);
    case command_id::validate:
        return apply(body, false);
    case command_id::cli:
        return cli(body);
    case command_id::show_config:
        return json_line({{"ok", true}, {"yaml", to_yaml(running_)}});
    case command_id::stats:
        return stats();
    case command_id::sessions:
        return sessions(rest, false);
    case command_id::clear:
        return sessions(rest, true);
    case command_id::ping:
        return json_line({{"ok", true}});
    case command_id::log: {
        // category=C FIELD=VALUE lines=N, each as execute log filter would take it.
        log_filter f;
        for (const std::string_view w : split_words(rest)) {
            const std::size_t eq = w.find('=');
            if (eq == std::string_view::npos || eq == 0) {
                return error_reply(fmt::format("log: '{}' is not FIELD=VALUE", w));
            }
            const std::string key(w.substr(0, eq));
            const std::string value(w.substr(eq + 1));
            const std::string err = key == "category" ? set_log_filter(f, {"category", value})
                                    : key == "lines"  ? set_log_filter(f, {"view-lines", value})
                                                      : set_log_filter(f, {"field", key, value});
            if (!err.empty()) {
                return error_reply(err);
            }
        }
        return json_line({{"ok", true}, {"output", format_log_display(log_, f)}});
    }
    default:
        return error_reply(fmt::format("'{}' is not a command of the socket", c->words));
    }
}

// One session in the shape of FortiOS `diagnose sys session list`: the state flags say who handles it
// (seed: "redir" and "local" for the SIP ALG, "ndr" for IPS SIP, "helper=sip" for the session helper).
static std::string format_session(const nat::session_info& s)
{
    std::string state;
    const auto flag = [&state](bool on, std::string_view name) {
        if (on) {
            state += state.empty() ? "" : " ";
            state += name;
        }
    };
    flag((s.flags & nat::session_flag::snat) != 0, "snat");
    flag((s.flags & nat::session_flag::dnat) != 0, "dnat");
    flag(s.engine == nat::sip_engine::alg, "redir local");
    flag((s.voip_flags & nat::voip_flag::ips) != 0, "ndr");
    const auto& o = s.rewrite[0];
    const auto& r = s.rewrite[1];
    return fmt::format("session info: proto={} proto_state={} duration={} expire={} policy_id={}\n"
                       "helper={} state={}\n"
                       "statistic(bytes/packets): org={}/{} reply={}/{}\n"
                       "orig {}:{}->{}:{} nat {}:{}->{}:{}\n"
                       "reply {}:{}->{}:{} nat {}:{}->{}:{}\n\n",
                       s.key.proto, nat::state_name(s.state), s.age, s.expires_in, s.policy_id,
                       s.engine == nat::sip_engine::helper ? "sip" : "", state, s.bytes[0], s.packets[0], s.bytes[1],
                       s.packets[1], format_ipv4(s.key.src.to_host()), s.key.sport.to_host(),
                       format_ipv4(s.key.dst.to_host()), s.key.dport.to_host(), format_ipv4(o.src.to_host()),
                       o.sport.to_host(), format_ipv4(o.dst.to_host()), o.dport.to_host(),
                       format_ipv4(o.dst.to_host()), o.dport.to_host(), format_ipv4(o.src.to_host()),
                       o.sport.to_host(), format_ipv4(r.src.to_host()), r.sport.to_host(),
                       format_ipv4(r.dst.to_host()), r.dport.to_host());
}

namespace {

constexpr std::array<std::string_view, 6> sip_filter_fields{"src-addr4", "dst-addr4", "src-port", "dst-port", "policy",
                                                            "voip-profile"};

std::string_view profile_name(const config& cfg, std::int16_t index)
{
    return index >= 0 && static_cast<std::size_t>(index) < cfg.voip_profiles.size()
               ? std::string_view(cfg.voip_profiles[static_cast<std::size_t>(index)].name)
               : std::string_view();
}

// The calls of one engine, in the spirit of FortiOS `diagnose sys sip-proxy calls list`; `idle`: only the
// answered ones with no media session alive; `filter`: those it selects (the ALG's lists).
std::string format_calls(const dp::session_list& list, nat::sip_engine engine, const config& cfg,
                         const sip_proxy_filter* filter = nullptr, bool idle = false)
{
    std::string out;
    unsigned n = 0;
    for (const auto& v : list.calls) {
        if (v.call.engine != engine || (filter != nullptr && !filter->matches(v.call, profile_name(cfg, v.call.voip_profile))) ||
            (idle && (v.call.state != nat::call_state::answered || v.call.media))) {
            continue;
        }
        ++n;
        out += fmt::format("call: call-id={} state={} duration={} talking={} media={} policy_id={} src={}:{} dst={}:{} worker={}\n",
                           v.call.call_id_text(), nat::call_state_name(v.call.state), v.age, v.talking,
                           v.call.media ? "yes" : "no", v.call.policy_id, format_ipv4(v.call.src), v.call.sport,
                           format_ipv4(v.call.dst), v.call.dport, v.worker);
    }
    return out + fmt::format("total calls {}\n", n);
}

// diagnose sys sip-proxy meters list: per policy with ALG calls, its dialogs against its max-dialogs
// (FortiOS's dialogs/dialog-limit); then each rate meter (the workers share them), in key order.
std::string format_meters(const dp::session_list& list, const config& cfg)
{
    std::map<std::uint32_t, std::pair<std::uint64_t, std::uint32_t>> dialogs; // policy: live calls, limit
    for (const auto& v : list.calls) {
        if (v.call.engine != nat::sip_engine::alg) {
            continue;
        }
        auto& d = dialogs[v.call.policy_id];
        d.first += v.call.state != nat::call_state::ended ? 1 : 0;
        if (v.call.voip_profile >= 0 && static_cast<std::size_t>(v.call.voip_profile) < cfg.voip_profiles.size()) {
            d.second = cfg.voip_profiles[static_cast<std::size_t>(v.call.voip_profile)].max_dialogs;
        }
    }
    std::string head;
    for (const auto& [policy, d] : dialogs) {
        head += fmt::format("policy: policy_id={} dialogs={} dialog-limit={}\n", policy, d.first, d.second);
    }
    std::map<std::tuple<std::uint32_t, std::uint8_t, std::uint32_t>, nat::rate_meter> sorted;
    for (const auto& m : list.meters) {
        sorted[{m.policy_id, m.method, m.address}] = m;
    }
    std::string out = std::move(head);
    for (const auto& [key, m] : sorted) {
        const auto& [policy, method, address] = key;
        out += fmt::format("meter: policy_id={} method={} {}rate={}/s count={} drop={} peak={}/s\n", policy,
                           sip::method_name(static_cast<sip::method>(method)),
                           address != 0 ? fmt::format("addr={} ", format_ipv4(address)) : std::string(), m.per_second,
                           m.count, m.dropped, m.peak);
    }
    return out + fmt::format("total meters {}\n", sorted.size());
}

} // namespace

std::map<std::uint32_t, policy_sum> policy_sums(const dp::appliance& app)
{
    std::map<std::uint32_t, policy_sum> by_policy;
    const auto get = [](const auto& v) { return nat::get(v); };
    for (unsigned w = 0; w < app.workers(); ++w) {
        app.worker_at(w).policy_stats().for_each([&](const nat::policy_counts& e) {
            policy_sum& s = by_policy[e.policy_id];
            s.hits += get(e.hits);
            s.sessions += get(e.sessions);
            const std::uint64_t first = get(e.first_hit);
            s.first = first != 0 && (s.first == 0 || first < s.first) ? first : s.first;
            s.last = std::max(s.last, get(e.last_hit));
            for (unsigned d = 0; d < 2; ++d) {
                s.packets[d] += get(e.packets[d]);
                s.bytes[d] += get(e.bytes[d]);
            }
        });
    }
    return by_policy;
}

namespace {

// diagnose firewall iprope show 100004 [ID]: each policy's traffic summed over the workers, as FortiOS
// prints a policy's statistics (idx, pkts/bytes, hit count, first and last hit, sessions).
std::string format_policy_stats(const dp::appliance& app, const logger& log, std::optional<std::uint32_t> only)
{
    std::map<std::uint32_t, policy_sum> by_policy = policy_sums(app);
    if (only) {
        std::erase_if(by_policy, [&](const auto& kv) { return kv.first != *only; });
    }
    const auto when = [&log](std::uint64_t tsc) {
        if (tsc == 0) {
            return std::string("-");
        }
        const auto t = static_cast<std::time_t>(log.wall_of(tsc) / 1000000000u);
        std::tm tm{};
        ::localtime_r(&t, &tm);
        return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                           tm.tm_min, tm.tm_sec);
    };
    std::string out;
    for (const auto& [policy, s] : by_policy) {
        fmt::format_to(std::back_inserter(out),
                       "idx={} pkts/bytes={}/{} hit count:{}\n first:{} last:{}\n established session count:{}\n"
                       " original pkts/bytes={}/{} reply pkts/bytes={}/{}\n",
                       policy == 0 ? std::string("other") : std::to_string(policy), s.packets[0] + s.packets[1],
                       s.bytes[0] + s.bytes[1], s.hits, when(s.first), when(s.last), std::max<std::int64_t>(0, s.sessions),
                       s.packets[0], s.bytes[0], s.packets[1], s.bytes[1]);
    }
    return out;
}

// One policy's SIP messages (or the total's) as FortiOS's stats print them: per method, the requests and
// responses received and blocked; then the messages of unknown form, with long header lines, malformed.
void format_sip_counts(std::string& out, std::string_view title, const nat::sip_policy_counts& c)
{
    fmt::format_to(std::back_inserter(out), "{}\n  {:<10} {:>12} {:>12} {:>12} {:>12}\n", title, "method", "req-received",
                   "req-blocked", "resp-received", "resp-blocked");
    for (std::size_t m = 0; m < c.by_method.size(); ++m) {
        const auto& x = c.by_method[m];
        if (x.received[0] + x.received[1] + x.blocked[0] + x.blocked[1] == 0) {
            continue;
        }
        const std::string_view name = m == 0 ? std::string_view("unknown") : sip::method_name(static_cast<sip::method>(m));
        fmt::format_to(std::back_inserter(out), "  {:<10} {:>12} {:>12} {:>12} {:>12}\n", name, x.received[0], x.blocked[0],
                       x.received[1], x.blocked[1]);
    }
    fmt::format_to(std::back_inserter(out), "  unknown form: {}  long headers: {}  malformed: {}\n", c.unknown_form,
                   c.long_headers, c.malformed);
}

// `from`'s counts added to `to` (read as a reader reads a worker's: nat::get).
void add_counts(nat::sip_policy_counts& to, const nat::sip_policy_counts& from)
{
    for (std::size_t m = 0; m < from.by_method.size(); ++m) {
        for (std::size_t k = 0; k < 2; ++k) {
            to.by_method[m].received[k] += nat::get(from.by_method[m].received[k]);
            to.by_method[m].blocked[k] += nat::get(from.by_method[m].blocked[k]);
        }
    }
    to.unknown_form += nat::get(from.unknown_form);
    to.long_headers += nat::get(from.long_headers);
    to.malformed += nat::get(from.malformed);
}

// The workers' per-policy SIP counts summed, less `base` (what stats clear saw).
std::map<std::uint32_t, nat::sip_policy_counts> sip_counts(const dp::appliance& app, const std::map<std::uint32_t, nat::sip_policy_counts>& base)
{
    std::map<std::uint32_t, nat::sip_policy_counts> sum;
    for (unsigned w = 0; w < app.workers(); ++w) {
        app.worker_at(w).sip_stats().for_each([&](const nat::sip_policy_counts& e) {
            nat::sip_policy_counts& t = sum[e.policy_id];
            t.policy_id = e.policy_id;
            add_counts(t, e);
        });
    }
    for (auto& [policy, t] : sum) {
        if (const auto b = base.find(policy); b != base.end()) {
            for (std::size_t m = 0; m < t.by_method.size(); ++m) {
                for (std::size_t k = 0; k < 2; ++k) {
                    t.by_method[m].received[k] -= std::min(t.by_method[m].received[k], b->second.by_method[m].received[k]);
                    t.by_method[m].blocked[k] -= std::min(t.by_method[m].blocked[k], b->second.by_method[m].blocked[k]);
                }
            }
            t.unknown_form -= std::min(t.unknown_form, b->second.unknown_form);
            t.long_headers -= std::min(t.long_headers, b->second.long_headers);
            t.malformed -= std::min(t.malformed, b->second.malformed);
        }
    }
    return sum;
}

// diagnose sys sip-proxy stats: per policy, then in total, the SIP messages by method; then the SIP
// engines' counters, summed over the workers.
std::string format_sip_stats(const std::map<std::uint32_t, nat::sip_policy_counts>& by_policy,
                             const std::array<std::uint64_t, dp::counter_count>& t)
{
    std::string out;
    nat::sip_policy_counts total;
    for (const auto& [policy, c] : by_policy) {
        format_sip_counts(out, policy == 0 ? std::string("policy other:") : fmt::format("policy {}:", policy), c);
        add_counts(total, c);
    }
    format_sip_counts(out, "total:", total);
    out += "counters:\n";
    for (std::size_t i = 0; i < dp::counter_count; ++i) {
        const std::string_view name = dp::counter_names[i];
        if (name.starts_with("sip_") || name.starts_with("drop_sip_") || name.starts_with("pinhole") ||
            name.starts_with("registrations_") || name.starts_with("contact_pinholes_") || name.starts_with("media_")) {
            out += fmt::format("  {:<36} {}\n", name, t[i]);
        }
    }
    return out;
}

} // namespace

bool sip_proxy_filter::matches(const nat::call_entry& c, std::string_view profile) const
{
    const std::array<std::optional<bool>, 6> hit{
        src ? std::optional(c.src == *src) : std::nullopt,
        dst ? std::optional(c.dst == *dst) : std::nullopt,
        sport ? std::optional(c.sport == *sport) : std::nullopt,
        dport ? std::optional(c.dport == *dport) : std::nullopt,
        policy ? std::optional(c.policy_id == *policy) : std::nullopt,
        voip_profile ? std::optional(profile == *voip_profile) : std::nullopt};
    for (std::size_t i = 0; i < hit.size(); ++i) {
        if (hit[i] && *hit[i] == ((negate >> i & 1u) != 0)) {
            return false;
        }
    }
    return true;
}

std::string sip_proxy_filter::set(const std::vector<std::string>& args)
{
    const auto field = [](std::string_view f) {
        return static_cast<std::size_t>(std::find(sip_filter_fields.begin(), sip_filter_fields.end(), f) - sip_filter_fields.begin());
    };
    if (args.size() == 2 && args[0] == "negate") {
        const std::size_t i = field(args[1]);
        if (i == sip_filter_fields.size()) {
            return fmt::format("diagnose sys sip-proxy filter negate: no field {} ({})", args[1], fmt::join(sip_filter_fields, " "));
        }
        negate = static_cast<std::uint8_t>(negate | 1u << i);
        return {};
    }
    if (args.size() != 2) {
        return "diagnose sys sip-proxy filter: FIELD VALUE, negate FIELD, clear or list";
    }
    const std::string& v = args[1];
    const auto number = [&](std::uint64_t max) { return sip::parse_number(v, 10, max); };
    switch (field(args[0])) {
    case 0:
    case 1: {
        const auto a = parse_ipv4(v);
        if (!a) {
            return fmt::format("diagnose sys sip-proxy filter {}: {} is not an IPv4 address", args[0], v);
        }
        (args[0] == "src-addr4" ? src : dst) = *a;
        return {};
    }
    case 2:
    case 3: {
        const auto n = number(65535);
        if (!n) {
            return fmt::format("diagnose sys sip-proxy filter {}: {} is not a port", args[0], v);
        }
        (args[0] == "src-port" ? sport : dport) = static_cast<std::uint16_t>(*n);
        return {};
    }
    case 4: {
        const auto n = number(4294967295u);
        if (!n) {
            return fmt::format("diagnose sys sip-proxy filter policy: {} is not a policy id", v);
        }
        policy = static_cast<std::uint32_t>(*n);
        return {};
    }
    case 5:
        voip_profile = v;
        return {};
    default:
        return fmt::format("diagnose sys sip-proxy filter: field {} not understood ({}, negate, clear, list)", args[0],
                           fmt::join(sip_filter_fields, " "));
    }
}

std::string sip_proxy_filter::text() const
{
    std::string out;
    const auto line = [&](std::size_t i, const std::string& value) {
        out += fmt::format("{:<13} {}{}\n", sip_filter_fields[i], (negate >> i & 1u) != 0 ? "! " : "", value);
    };
    line(0, src ? format_ipv4(*src) : "any");
    line(1, dst ? format_ipv4(*dst) : "any");
    line(2, sport ? std::to_string(*sport) : "any");
    line(3, dport ? std::to_string(*dport) : "any");
    line(4, policy ? std::to_string(*policy) : "any");
    line(5, voip_profile ? *voip_profile : "any");
    return out;
}

// The pinholes, in the spirit of FortiOS `diagnose sys sip mapping list`.
static std::string format_pinholes(const dp::session_list& list)
{
    std::string out;
    for (const auto& v : list.pinholes) {
        const auto& p = v.pinhole;
        out += fmt::format("mapping: {} proto={} {}:{} <-> {}:{} expire={} policy_id={} worker={}\n",
                           p.kind == nat::pinhole_kind::media ? "media"
                           : p.kind == nat::pinhole_kind::registration ? "register"
                                                                        : "contact",
                           p.proto,
                           format_ipv4(p.inside_address), p.inside_port, format_ipv4(p.public_address),
                           p.public_port, v.expires_in, p.policy_id, v.worker);
    }
    return out + fmt::format("total mappings {}\n", list.pinholes.size());
}

std::string commands::apply(std::string_view yaml, bool commit)
{
    const load_result update = load_yaml_sections(yaml);
    const config merged = merge_sections(running_, update.cfg, update.sections);
    // Every error at once: the document's own, the references across the merged configuration, and
    // what a running appliance cannot change.
    std::vector<config_error> errors = update.errors;
    for (auto& e : check_config(merged)) {
        if (e.where.line == 0 && update.sections != 0) {
            // About a section kept from the running configuration, which this request broke: said at
            // the request's own text (its first section), not at a line of another one.
            e.where = update.first_section;
            e.message += " (found in what this request keeps of the running configuration)";
        }
        errors.push_back(std::move(e));
    }
    for (auto& e : check_interfaces_kept(running_, merged)) {
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
        return json_line({{"ok", true}, {"applied", false}});
    }
    json reply{{"ok", true}, {"applied", true}};
    if (const std::string err = this->commit(merged, planned.plan, reply); !err.empty()) {
        return error_reply(err);
    }
    return json_line(reply);
}

std::string commands::put_in_force(const config& next, const dp::plan& plan)
{
    if (std::string err = app_.apply(plan); !err.empty()) {
        return err;
    }
    running_ = next;
    log_.configure(running_);
    return {};
}

std::string commands::commit(const config& next, const dp::plan& plan, json& reply)
{
    if (std::string err = put_in_force(next, plan); !err.empty()) {
        return err;
    }
    reply["saved"] = nullptr;
    if (!path_.empty()) {
        const std::string err = write_atomically(path_, to_yaml(running_));
        // In force either way; when the file could not be written a restart would not see it: say so.
        if (err.empty()) {
            reply["saved"] = path_;
        } else {
            reply["saved"] = false;
            reply["warning"] = err;
        }
    }
    return {};
}

namespace {

// One output line of a cli request (show, diagnose), checked before anything changes; run after.
struct cli_action {
    int line = 0;
    command_id what = command_id::show;
    std::string text;           // show: the configuration as the request leaves it
    nat::session_filter filter; // diagnose sys session filter FIELD VALUE
    std::vector<std::string> args; // diagnose sys sip-proxy filter's
    output_pipe pipe;
};

// The action of one command line (control/command_table.hpp's CLI commands), or an error text.
std::string plan_action(const cli_command& c, const config& cfg, cli_action& a)
{
    std::vector<std::string> w;
    std::string error;
    if (!split_output_pipe(c.words, w, a.pipe, error)) {
        return error;
    }
    a.line = c.line;
    std::vector<std::string_view> views(w.begin(), w.end());
    const command_spec* spec = find_command(surface::cli, views);
    if (spec == nullptr) {
        return fmt::format("'{}' is not supported here", fmt::join(w, " "));
    }
    a.what = spec->id;
    const std::vector<std::string> args(w.begin() + static_cast<std::ptrdiff_t>(split_words(spec->words).size()), w.end());
    if (a.what == command_id::show) {
        if (!show_cli(cfg, args, a.text)) {
            return fmt::format("show: no such path '{}'", fmt::join(args, " "));
        }
    } else if (a.what == command_id::get) {
        if (!get_cli(cfg, args, a.text)) {
            return fmt::format("get: no such path or entry '{}'", fmt::join(args, " "));
        }
    } else if (a.what == command_id::sip_proxy_filter) {
        a.args = args;
        if (!(args.size() == 1 && (args[0] == "clear" || args[0] == "list"))) {
            sip_proxy_filter probe;
            if (std::string e = probe.set(args); !e.empty()) {
                return e;
            }
        }
    } else if (a.what == command_id::sniffer) {
        a.args = args;
        sniffer_args probe;
        if (std::string e = parse_sniffer(args, probe); !e.empty()) {
            return e;
        }
        if (probe.interface != "any" && cfg.find_interface(probe.interface) == nullptr) {
            return fmt::format("diagnose sniffer packet: no interface {} (an interface of system interface, or any)",
                               probe.interface);
        }
    } else if (a.what == command_id::policy_stats) {
        a.args = args;
        if (!args.empty() && !sip::parse_number(args[0], 10, 0xffffffffu)) {
            return fmt::format("diagnose firewall iprope show 100004: {} is not a policy id", args[0]);
        }
    } else if (a.what == command_id::log_filter) {
        a.args = args;
        log_filter probe;
        if (std::string e = set_log_filter(probe, args); !e.empty()) {
            return e;
        }
    } else if (a.what == command_id::sip_proxy_stats && !args.empty() && args[0] != "list" && args[0] != "clear") {
        return fmt::format("diagnose sys sip-proxy stats: {} not understood (list, clear)", args[0]);
    } else if (a.what == command_id::sip_proxy_stats) {
        a.args = args;
    } else if (a.what == command_id::session_filter) {
        const auto f = nat::parse_session_filter(args[0] + "=" + args[1]);
        if (!f) {
            return fmt::format("diagnose sys session filter: field {} or value {} not understood (src dst sport dport "
                               "proto policy)",
                               args[0], args[1]);
        }
        a.filter = *f;
    }
    return {};
}

} // namespace

// FortiOS CLI text as one transaction (FortiOS `execute config-transaction`): every line is checked first,
// the configuration blocks on a copy and the output lines against what the request leaves in force; a
// refused line refuses the request, which then changes nothing. Otherwise the configuration is
// committed once, and the output lines run in order; their output is the reply's "output".
std::string commands::cli(std::string_view text)
{
    // The plan is made inside apply_cli's check, so that its errors too are put at the CLI lines behind them.
    std::optional<plan_result> planned;
    cli_result r = apply_cli(running_, text, [&](const config& next) {
        std::vector<config_error> found = check_interfaces_kept(running_, next);
        if (found.empty()) {
            planned = build_plan(next);
            found = planned->errors;
        }
        return found;
    });
    std::vector<config_error> errors = std::move(r.errors);
    const config& after = r.changed && errors.empty() ? r.cfg : running_;
    std::vector<cli_action> actions(r.commands.size());
    for (std::size_t i = 0; i < r.commands.size(); ++i) {
        if (std::string err = plan_action(r.commands[i], after, actions[i]); !err.empty()) {
            errors.push_back({{r.commands[i].line, 1}, std::move(err)});
        }
    }
    if (!errors.empty()) {
        std::sort(errors.begin(), errors.end(), [](const config_error& a, const config_error& b) {
            return a.where.line < b.where.line;
        });
        return errors_reply(errors);
    }
    json reply{{"ok", true}, {"applied", r.changed}, {"saved", nullptr}};
    if (r.changed) {
        if (!planned || !planned->ok()) {
            return error_reply("internal error: no plan for an accepted configuration");
        }
        if (const std::string err = commit(r.cfg, planned->plan, reply); !err.empty()) {
            return error_reply(err);
        }
    }
    // From here on the request is accepted: what a line cannot do now is a warning, never a refusal.
    std::string output;
    std::vector<std::string> warnings;
    const auto late = [&](const cli_action& a) {
        warnings.push_back(fmt::format("line {}: a worker did not answer in time; its output is missing", a.line));
    };
    using k = command_id;
    for (auto& a : actions) {
        std::string out;
        switch (a.what) {
        case k::show:
        case k::get:
            out = std::move(a.text);
            break;
        case k::alg_calls:
        case k::helper_calls:
        case k::mappings: {
            nat::session_filter none;
            none.proto = 0; // no session has protocol 0: the SIP tables only
            const dp::session_list list = app_.query_sessions(none, false, 100000, 5000, true);
            if (!list.complete) {
                late(a);
                continue;
            }
            out = a.what == k::mappings    ? format_pinholes(list)
                  : a.what == k::alg_calls ? format_calls(list, nat::sip_engine::alg, running_, &sip_filter_)
                                           : format_calls(list, nat::sip_engine::helper, running_);
            break;
        }
        case k::alg_calls_idle:
        case k::alg_calls_clear:
        case k::sip_proxy_meters: {
            nat::session_filter none;
            none.proto = 0; // the SIP tables only
            dp::sip_query ask;
            ask.meters = a.what == k::sip_proxy_meters;
            dp::session_list list = app_.query_sessions(none, false, 100000, 5000, true, ask);
            if (list.complete && a.what == k::alg_calls_clear) {
                // The calls the filter selects, then a second round that ends those (each worker its own).
                for (const auto& v : list.calls) {
                    if (v.call.engine == nat::sip_engine::alg && v.call.state != nat::call_state::ended &&
                        sip_filter_.matches(v.call, profile_name(running_, v.call.voip_profile))) {
                        ask.end_calls.emplace_back(v.worker, v.call.key);
                    }
                }
                std::sort(ask.end_calls.begin(), ask.end_calls.end());
                if (!ask.end_calls.empty()) {
                    list = app_.query_sessions(none, false, 0, 5000, true, ask);
                }
            }
            if (!list.complete) {
                late(a);
                continue;
            }
            out = a.what == k::alg_calls_idle    ? format_calls(list, nat::sip_engine::alg, running_, &sip_filter_, true)
                  : a.what == k::sip_proxy_meters ? format_meters(list, running_)
                                                  : fmt::format("{} calls cleared\n", list.calls_ended);
            break;
        }
        case k::sip_proxy_filter:
            if (a.args.size() == 1 && a.args[0] == "list") {
                out = sip_filter_.text();
                break;
            }
            if (a.args.size() == 1 && a.args[0] == "clear") {
                sip_filter_ = {};
            } else {
                (void)sip_filter_.set(a.args); // checked when the request was planned
            }
            continue;
        case k::sip_proxy_stats: {
            const auto totals = app_.totals();
            if (!a.args.empty() && a.args[0] == "clear") {
                // The workers' counters are theirs alone: clear keeps what they show now as the zero.
                sip_stats_base_ = sip_counts(app_, {});
                sip_counters_base_ = totals;
                continue;
            }
            std::array<std::uint64_t, dp::counter_count> since{};
            for (std::size_t i = 0; i < since.size(); ++i) {
                since[i] = totals[i] - std::min(totals[i], sip_counters_base_[i]);
            }
            out = format_sip_stats(sip_counts(app_, sip_stats_base_), since);
            break;
        }
        case k::log_filter:
            (void)set_log_filter(log_filter_, a.args); // checked when the request was planned
            continue;
        case k::log_filter_reset:
            log_filter_ = {};
            continue;
        case k::log_display:
            out = format_log_display(log_, log_filter_);
            break;
        case k::sniffer: {
            sniffer_args s;
            (void)parse_sniffer(a.args, s); // checked when the request was planned
            out = run_sniffer(app_, s, background_ ? background_ : std::function<void()>([] {}));
            break;
        }
        case k::performance: {
            const auto [total, available] = host_memory_kb();
            out = perf_.status(total, available);
            break;
        }
        case k::policy_stats:
            out = format_policy_stats(app_, log_, a.args.empty() ? std::nullopt
                                                                 : std::optional<std::uint32_t>(static_cast<std::uint32_t>(
                                                                       *sip::parse_number(a.args[0], 10, 0xffffffffu))));
            break;
        case k::session_filter_clear:
            diag_filter_ = {};
            continue;
        case k::session_filter: {
            // Fields add up, as on FortiOS.
            const auto take = [](auto& to, const auto& from) {
                if (from) {
                    to = from;
                }
            };
            take(diag_filter_.src, a.filter.src);
            take(diag_filter_.dst, a.filter.dst);
            take(diag_filter_.sport, a.filter.sport);
            take(diag_filter_.dport, a.filter.dport);
            take(diag_filter_.proto, a.filter.proto);
            take(diag_filter_.policy, a.filter.policy);
            continue;
        }
        case k::session_list:
        case k::session_clear: {
            const bool clear = a.what == k::session_clear;
            const dp::session_list list = app_.query_sessions(diag_filter_, clear, clear ? 0 : 100000);
            if (!list.complete) {
                late(a);
            }
            if (clear) {
                out = fmt::format("cleared {} session(s)\n", list.cleared);
                break;
            }
            for (const auto& s : list.sessions) {
                out += format_session(s);
            }
            out += fmt::format("total session {}\n", list.matched);
            break;
        }
        default:
            continue; // no other command is a CLI line (plan_action found it in the table's CLI part)
        }
        output += a.pipe.filters.empty() ? out : a.pipe.run(std::move(out));
    }
    reply["output"] = std::move(output);
    if (!warnings.empty()) {
        reply["warnings"] = warnings;
    }
    return json_line(reply);
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
    if (auto err = put_in_force(loaded.cfg, planned.plan); !err.empty()) {
        fmt::print(stderr, "sipalgd: reload refused: {}\n", err);
        return;
    }
    fmt::print(stderr, "sipalgd: configuration reloaded from {}\n", path_);
}

std::string commands::stats() const
{
    const auto totals = app_.totals();
    json reply{{"ok", true}};
    json& counters = reply["counters"] = json::object();
    for (std::size_t i = 0; i < dp::counter_count; ++i) {
        counters[std::string(dp::counter_names[i])] = totals[i];
    }
    reply["control"] = {{"requests", server_.requests},         {"incomplete", server_.incomplete},
                        {"bad_frames", server_.bad_frames},     {"timed_out", server_.timed_out},
                        {"refused_clients", server_.refused_clients}, {"dropped_clients", server_.dropped_clients}};
    reply["sessions_active"] = app_.sessions_active();
    json& workers = reply["workers"] = json::array();
    for (unsigned w = 0; w < app_.workers(); ++w) {
        const auto& c = app_.worker_at(w).counters();
        workers.push_back({{"id", w},
                           {"rx_packets", c.get(dp::counter::rx_packets)},
                           {"forwarded", c.get(dp::counter::forwarded)},
                           {"sessions_active", app_.worker_at(w).sessions_active()}});
    }
    return json_line(reply);
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
    if (clear) {
        // The workers that answered have cleared theirs: that is no refusal, but it is not all.
        json reply{{"ok", true}, {"cleared", list.cleared}};
        if (!list.complete) {
            reply["warnings"] = {"a worker did not answer in time; its sessions may remain"};
        }
        return json_line(reply);
    }
    if (!list.complete) {
        return error_reply("a worker did not answer in time");
    }
    json reply{{"ok", true}, {"matched", list.matched}, {"listed", list.sessions.size()}};
    json& sessions = reply["sessions"] = json::array();
    for (const auto& s : list.sessions) {
        const auto& o = s.rewrite[0];
        sessions.push_back({{"proto", s.key.proto},
                            {"state", nat::state_name(s.state)},
                            {"policy", s.policy_id},
                            {"expire", s.expires_in},
                            {"duration", s.age},
                            {"worker", s.worker},
                            {"src", endpoint(s.key.src, s.key.sport)},
                            {"dst", endpoint(s.key.dst, s.key.dport)},
                            {"nat_src", endpoint(o.src, o.sport)},
                            {"nat_dst", endpoint(o.dst, o.dport)},
                            {"packets", {s.packets[0], s.packets[1]}},
                            {"bytes", {s.bytes[0], s.bytes[1]}},
                            {"snat", (s.flags & nat::session_flag::snat) != 0},
                            {"dnat", (s.flags & nat::session_flag::dnat) != 0},
                            {"engine", nat::sip_engine_name(s.engine)},
                            {"ndr", (s.voip_flags & nat::voip_flag::ips) != 0}});
    }
    return json_line(reply);
}

} // namespace sipalg::control
