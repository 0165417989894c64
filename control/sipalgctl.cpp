// sipalgctl: the operator's client. One command table (STYLE.md item 17): sip-check works offline; the
// others send one request to sipalgd's control socket (README "The control socket") and print the
// reply for people, or as it came with --json. Exit status: 0 all good, 1 something to report (a
// finding, a refused request, no daemon), 2 usage errors.
#include "control/command_table.hpp"
#include "control/json.hpp"
#include "control/request.hpp"
#include "control/schema.hpp"
#include "control/sip_check.hpp"

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace po = boost::program_options;
using namespace sipalg;

namespace {

int cmd_sip_check(const std::vector<std::string>& args)
{
    sip::check_options options;
    bool json = false;
    bool stream = false;
    std::vector<std::string> files;
    po::options_description d("sipalgctl sip-check [options] FILE... (\"-\" reads standard input)");
    // clang-format off
    d.add_options()
        ("help,h", "show this help")
        ("json", po::bool_switch(&json), "one JSON object per message")
        ("stream", po::bool_switch(&stream),
            "each FILE is a TCP byte stream: frame it into messages by Content-Length (RFC 3261 18.3)")
        ("max-line-length", po::value(&options.max_line_length)->default_value(options.max_line_length),
            "report header lines longer than this (0: no limit)")
        ("max-body-length", po::value(&options.max_body_length)->default_value(options.max_body_length),
            "report bodies longer than this (0: no limit)")
        ("require-require", po::bool_switch(&options.require_require), "report requests without Require")
        ("require-proxy-require", po::bool_switch(&options.require_proxy_require),
            "report requests without Proxy-Require");
    // clang-format on
    po::options_description hidden;
    hidden.add_options()("file", po::value(&files));
    po::options_description all;
    all.add(d).add(hidden);
    po::positional_options_description pos;
    pos.add("file", -1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        fmt::print(stderr, "sipalgctl sip-check: {}\n", e.what());
        return 2;
    }
    if (vm.count("help") != 0) {
        std::cout << d << "\n";
        return 0;
    }
    if (files.empty()) {
        fmt::print(stderr, "sipalgctl sip-check: no FILE given (use - for standard input)\n");
        return 2;
    }
    int status = 0;
    for (const auto& file : files) {
        std::string bytes;
        if (file == "-") {
            bytes.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
        } else {
            std::ifstream in(file, std::ios::binary);
            if (!in) {
                fmt::print(stderr, "sipalgctl sip-check: cannot read {}\n", file);
                status = 2;
                continue;
            }
            std::ostringstream s;
            s << in.rdbuf();
            bytes = s.str();
        }
        const auto reports = stream ? control::sip_check_stream(file, bytes, options, json)
                                    : std::vector{control::sip_check(file, bytes, options, json)};
        for (const auto& report : reports) {
            std::cout << report.text << "\n";
            if (!report.clean && status == 0) {
                status = 1;
            }
        }
    }
    return status;
}

constexpr const char* default_socket = "/run/sipalg/sipalgd.sock";

// One request over the socket; the reply text, or an error text starting with "sipalgctl:".
bool exchange(const std::string& path, const std::string& request, std::string& reply)
{
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    if (fd < 0 || connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        reply = fmt::format("sipalgctl: cannot reach sipalgd at {}: {} (is it running? --socket PATH)", path,
                            std::strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return false;
    }
    std::size_t done = 0;
    while (done < request.size()) {
        const ssize_t n = send(fd, request.data() + done, request.size() - done, MSG_NOSIGNAL);
        if (n <= 0) {
            break; // the server may have refused it early: read what it said
        }
        done += static_cast<std::size_t>(n);
    }
    shutdown(fd, SHUT_WR);
    char buf[65536];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
        reply.append(buf, static_cast<std::size_t>(n));
    }
    close(fd);
    if (reply.empty()) {
        reply = "sipalgctl: sipalgd closed the connection without a reply";
        return false;
    }
    return true;
}

std::string read_input(const std::string& file)
{
    if (file == "-") {
        return std::string(std::istreambuf_iterator<char>(std::cin), {});
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw std::runtime_error(fmt::format("cannot read {}", file));
    }
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// Prints a reply for people. Returns the exit status.
// A member's value, or `fallback` when the reply lacks it or it has another type.
template <class T>
T member(const control::json& j, const char* key, T fallback)
{
    const auto it = j.find(key);
    if (it == j.end()) {
        return fallback;
    }
    try {
        return it->get<T>();
    } catch (const control::json::exception&) {
        return fallback;
    }
}

// "; saved to FILE" when the reply says where it was saved.
std::string saved_to(const control::json& r)
{
    const auto it = r.find("saved");
    return it != r.end() && it->is_string() ? fmt::format("; saved to {}", it->get<std::string>()) : std::string{};
}

int render(const std::string& verb, const control::json& r, const std::string& source)
{
    if (!member(r, "ok", false)) {
        if (const auto errors = r.find("errors"); errors != r.end() && errors->is_array() && !errors->empty()) {
            for (const auto& e : *errors) {
                fmt::print(stderr, "{}:{}:{}: {}\n", source, member(e, "line", 0), member(e, "column", 0),
                           member(e, "message", std::string{}));
            }
        } else {
            fmt::print(stderr, "sipalgctl: {}\n", member(r, "error", std::string("refused")));
        }
        return 1;
    }
    // Accepted, with something that could not be done in full (a worker that did not answer).
    if (const auto warnings = r.find("warnings"); warnings != r.end() && warnings->is_array()) {
        for (const auto& w : *warnings) {
            fmt::print(stderr, "sipalgctl: warning: {}\n", w.is_string() ? w.get<std::string>() : w.dump());
        }
    }
    if (verb == "apply") {
        fmt::print("applied{}\n", saved_to(r));
        if (r.contains("warning")) {
            fmt::print(stderr, "sipalgctl: warning: {}\n", member(r, "warning", std::string{}));
        }
    } else if (verb == "validate") {
        fmt::print("valid\n");
    } else if (verb == "log") {
        fmt::print("{}", member(r, "output", std::string{}));
    } else if (verb == "cli") {
        fmt::print("{}", member(r, "output", std::string{}));
        if (member(r, "applied", false)) {
            fmt::print(stderr, "applied{}\n", saved_to(r));
        }
    } else if (verb == "show") {
        fmt::print("{}", member(r, "yaml", std::string{}));
    } else if (verb == "stats") {
        if (const auto counters = r.find("counters"); counters != r.end() && counters->is_object()) {
            for (const auto& [name, value] : counters->items()) {
                if (value.is_number_unsigned() && value.get<std::uint64_t>() != 0) {
                    fmt::print("{:<32} {}\n", name, value.get<std::uint64_t>());
                }
            }
        }
        fmt::print("{:<32} {}\n", "sessions_active", member(r, "sessions_active", std::uint64_t{0}));
    } else if (verb == "sessions") {
        // In the shape of FortiOS "diagnose sys session list".
        const auto sessions = r.find("sessions");
        for (const auto& s : sessions != r.end() && sessions->is_array() ? *sessions : control::json::array()) {
            fmt::print("session info: proto={} proto_state={} duration={} expire={} policy_id={} worker={}\n",
                       member(s, "proto", 0), member(s, "state", std::string{}), member(s, "duration", std::uint64_t{0}),
                       member(s, "expire", std::uint64_t{0}), member(s, "policy", std::uint64_t{0}), member(s, "worker", 0));
            // Who handles it, as FortiOS flags it (seed): helper=sip, or redir local (the SIP ALG), ndr (IPS SIP).
            const auto engine = member(s, "engine", std::string("none"));
            fmt::print("helper={} state={}{}\n", engine == "helper" ? "sip" : "", engine == "alg" ? "redir local" : "",
                       member(s, "ndr", false) ? (engine == "alg" ? " ndr" : "ndr") : "");
            const auto pair = [&](const char* key, std::size_t i) {
                const auto it = s.find(key);
                return it != s.end() && it->is_array() && it->size() > i && (*it)[i].is_number_unsigned()
                           ? (*it)[i].get<std::uint64_t>()
                           : std::uint64_t{0};
            };
            fmt::print("stats: org pkts={} bytes={}, reply pkts={} bytes={}\n", pair("packets", 0), pair("bytes", 0),
                       pair("packets", 1), pair("bytes", 1));
            const bool snat = member(s, "snat", false);
            const bool dnat = member(s, "dnat", false);
            fmt::print("orig: {}->{}{}\n", member(s, "src", std::string{}), member(s, "dst", std::string{}),
                       snat || dnat ? fmt::format(" ({}->{}) {}", member(s, "nat_src", std::string{}),
                                                  member(s, "nat_dst", std::string{}), snat && dnat ? "snat+dnat"
                                                                                       : snat       ? "snat"
                                                                                                    : "dnat")
                                    : std::string{});
            fmt::print("\n");
        }
        fmt::print("total session {}\n", member(r, "matched", std::uint64_t{0}));
    } else if (verb == "clear") {
        fmt::print("cleared {} session(s)\n", member(r, "cleared", std::uint64_t{0}));
    }
    return 0;
}

// An error, for people on standard error or, with --json, as a reply would carry it on standard output
// (a script reads one JSON object either way). Returns `status`.
int fail(bool json, int status, const std::string& message)
{
    if (json) {
        fmt::print("{}", control::json_line({{"ok", false}, {"error", message}}));
    } else {
        fmt::print(stderr, "{}\n", message);
    }
    return status;
}

// The request of a control command, sent; the reply printed. Returns the exit status.
int run_control(std::string verb, const std::vector<std::string>& rest, const std::string& socket_path, bool json,
                bool cli_form)
{
    std::string request;
    std::string source = "request";
    if (verb == "cli" && rest.empty() && isatty(0) != 0) {
        // Interactive: each complete block (config ... end at the top level) or command goes at once.
        int status = 0;
        std::string block;
        int depth = 0;
        std::string line;
        fmt::print("sipalg # ");
        std::fflush(stdout);
        while (std::getline(std::cin, line)) {
            block += line + "\n";
            std::istringstream words(line);
            std::string first;
            words >> first;
            depth += first == "config" ? 1 : first == "end" ? -1 : 0;
            if (depth <= 0 && !first.empty()) {
                depth = 0;
                std::string reply;
                if (!exchange(socket_path, control::frame_request("cli", block), reply)) {
                    return fail(json, 1, reply);
                }
                try {
                    const auto r = control::json::parse(reply);
                    status = json ? (fmt::print("{}", reply), member(r, "ok", false) ? status : 1)
                                  : std::max(status, render("cli", r, "<prompt>"));
                } catch (const control::json::exception& e) {
                    fmt::print(stderr, "sipalgctl: the reply is not JSON: {}\n", e.what());
                    status = 1;
                }
                block.clear();
            }
            fmt::print("{}", depth > 0 ? fmt::format("sipalg ({}) # ", depth) : std::string("sipalg # "));
            std::fflush(stdout);
        }
        fmt::print("\n");
        return status;
    }
    if (verb == "cli") {
        if (rest.size() > 1) {
            return fail(json, 2, "sipalgctl cli: give at most one FILE (- or none reads standard input)");
        }
        const std::string file = rest.empty() ? "-" : rest[0];
        source = file == "-" ? "<stdin>" : file;
        request = control::frame_request("cli", read_input(file));
    } else if (verb == "apply" || verb == "validate") {
        if (rest.size() != 1) {
            return fail(json, 2, fmt::format("sipalgctl {}: give one FILE (- reads standard input)", verb));
        }
        source = rest[0] == "-" ? "<stdin>" : rest[0];
        request = control::frame_request(verb, read_input(rest[0]));
    } else if (verb == "show") {
        if (rest == std::vector<std::string>{"config"} && cli_form) {
            verb = "cli"; // the same configuration as FortiOS CLI
            request = control::frame_request("cli", "show full-configuration\n");
        } else if (rest == std::vector<std::string>{"config"}) {
            request = control::frame_request("show config", {});
        } else {
            return fail(json, 2, "sipalgctl show: 'show config' or 'show config --cli'");
        }
    } else {
        std::string command = verb;
        for (const auto& a : rest) {
            if (a.find_first_of("\r\n") != std::string::npos) {
                return fail(json, 2, fmt::format("sipalgctl {}: an argument holds a line break", verb));
            }
            command += " " + a;
        }
        request = control::frame_request(command, {});
    }
    std::string reply;
    if (!exchange(socket_path, request, reply)) {
        return fail(json, 1, reply);
    }
    control::json r;
    try {
        r = control::json::parse(reply);
    } catch (const control::json::exception& e) {
        return fail(json, 1, fmt::format("sipalgctl: the reply is not JSON: {}", e.what()));
    }
    if (json) {
        fmt::print("{}", reply);
        return member(r, "ok", false) ? 0 : 1;
    }
    return render(verb, r, source);
}

// A sipalgctl command of the command table (control/command_table.hpp), by name.
const control::command_spec* ctl_command(std::string_view name)
{
    for (const auto& c : control::command_table()) {
        if ((c.surfaces & control::surface::sipalgctl) != 0 && c.words == name) {
            return &c;
        }
    }
    return nullptr;
}

// apply FILE, validate FILE, cli [FILE], show config, stats, sessions [filters], clear [filters].
int cmd_control(std::string verb, const std::vector<std::string>& args)
{
    std::string socket_path = default_socket;
    bool json = std::find(args.begin(), args.end(), "--json") != args.end(); // for errors before parsing
    bool cli_form = false;
    std::vector<std::string> rest;
    const control::command_spec* self = ctl_command(verb);
    po::options_description d(fmt::format("usage: sipalgctl {} {}\n\n{}\n\noptions", verb, self->synopsis,
                                          self->details));
    // clang-format off
    d.add_options()
        ("help,h", "show this help")
        ("socket,s", po::value(&socket_path)->default_value(socket_path), "sipalgd's control socket")
        ("json", po::bool_switch(&json), "print the reply as sipalgd sent it (one JSON object)")
        ("cli", po::bool_switch(&cli_form), "show config: as FortiOS CLI instead of YAML");
    // clang-format on
    po::options_description hidden;
    hidden.add_options()("args", po::value(&rest));
    po::options_description all;
    all.add(d).add(hidden);
    po::positional_options_description pos;
    pos.add("args", -1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        return fail(json, 2, fmt::format("sipalgctl {}: {}", verb, e.what()));
    }
    if (vm.count("help") != 0) {
        std::cout << d << "\n";
        return 0;
    }
    try {
        return run_control(verb, rest, socket_path, json, cli_form);
    } catch (const std::exception& e) {
        return fail(json, 2, fmt::format("sipalgctl {}: {}", verb, e.what()));
    }
}

// The schema (control/schema.hpp) as help: the sections, or one section's fields.
void print_block(const control::block_spec& b, int indent, bool json, control::json& out)
{
    const std::string pad(static_cast<std::size_t>(indent), ' ');
    for (const auto& f : b.fields) {
        const std::string def = control::default_text(f);
        if (json) {
            out.push_back({{"key", f.key}, {"type", control::type_text(f)}, {"default", def}, {"live", f.live},
                           {"help", f.help}, {"example", f.example}, {"with", f.with}, {"required", f.required}});
            continue;
        }
        std::cout << fmt::format("{}{}  ({}; {}{})\n{}    {}\n", pad, f.key, control::type_text(f),
                                 f.required ? "required" : def.empty() ? "unset by default" : "default " + def,
                                 f.live ? "" : "; fixed while sipalgd runs", pad, f.help);
        if (!f.example.empty()) {
            // The example with what it needs alongside: "set type iprange; set start-ip ...".
            std::string with;
            for (const auto setting : control::with_settings(f)) {
                with += fmt::format("set {}; ", setting);
            }
            std::cout << fmt::format("{}    e.g. {}set {} {}\n", pad, with, f.key, f.example);
        }
    }
    for (const auto& inner : b.blocks) {
        if (json) {
            control::json fields = control::json::array();
            print_block(*inner.block, 0, true, fields);
            out.push_back({{"block", inner.key}, {"fields", std::move(fields)}});
            continue;
        }
        std::cout << fmt::format("{}config {}\n", pad, inner.key);
        print_block(*inner.block, indent + 4, false, out);
        std::cout << fmt::format("{}end\n", pad);
    }
}

int cmd_schema(const std::vector<std::string>& args)
{
    bool json = false;
    std::string path;
    for (const auto& a : args) {
        if (a == "--json") {
            json = true;
        } else if (a == "--help" || a == "-h") {
            const auto& spec = control::spec_of(control::command_id::schema);
            std::cout << fmt::format("sipalgctl schema {}: {}\n{}\n", spec.synopsis, spec.help, spec.details);
            return 0;
        } else if (a.starts_with("-")) {
            return fail(json, 2, fmt::format("sipalgctl schema: unknown option '{}'", a));
        } else {
            path += path.empty() ? "" : " ";
            path += a;
        }
    }
    if (path.empty()) {
        control::json out = control::json::array();
        for (const auto& s : control::schema()) {
            if (json) {
                out.push_back({{"path", s.path}, {"help", s.help}});
            } else {
                std::cout << fmt::format("  {:<28} {}\n", s.path, s.help);
            }
        }
        if (json) {
            std::cout << control::json_line(control::json{{"ok", true}, {"sections", std::move(out)}});
        }
        return 0;
    }
    const control::section_spec* s = control::find_section(path);
    if (s == nullptr) {
        return fail(json, 2, fmt::format("sipalgctl schema: no section '{}' (sipalgctl schema lists them)", path));
    }
    control::json fields = control::json::array();
    if (!json) {
        const std::string entries = s->key == control::entry_key::none ? "one object"
                                    : s->key == control::entry_key::id ? "entries by number (edit 0: the next free)"
                                    : s->name_max != 0 ? fmt::format("entries by name, at most {} characters", s->name_max)
                                                       : "entries by name";
        std::cout << fmt::format("config {}: {} ({})\n", s->path, s->help, entries);
    }
    print_block(*s->block, 4, json, fields);
    if (json) {
        std::cout << control::json_line(control::json{{"ok", true}, {"path", s->path}, {"fields", std::move(fields)}});
    }
    return 0;
}

void usage()
{
    std::cout << "usage: sipalgctl [--socket PATH] [--json] COMMAND [ARGS] [options]\n       sipalgctl --version\n\n"
                 "commands:\n";
    for (const auto& c : control::command_table()) {
        if ((c.surfaces & control::surface::sipalgctl) != 0) {
            std::cout << fmt::format("  {:<12} {}\n", c.words, c.help);
        }
    }
    std::cout << "\nsipalgctl COMMAND --help says what a command takes. --socket and --json go before or after it.\n";
}

} // namespace

// `sipalgctl __complete WORD...`: the candidates for the last word (which may be empty) of a command
// line being typed, one per line; "__files__" when it is a file name. For control/completion/sipalgctl.bash.
int complete(const std::vector<std::string>& words)
{
    const auto print_options = [](const control::command_spec* c) {
        for (const char* o : {"--socket", "--json", "--help"}) {
            fmt::print("{}\n", o);
        }
        if (c != nullptr && c->id == control::command_id::show_config) {
            fmt::print("--cli\n");
        }
    };
    // The command: the first word that is not an option (or an option's value).
    const control::command_spec* c = nullptr;
    std::size_t at = 0;
    for (; at + 1 < words.size(); ++at) {
        if (words[at] == "--socket" || words[at] == "-s") {
            ++at;
            continue;
        }
        if (!words[at].starts_with("-")) {
            c = ctl_command(words[at]);
            break;
        }
    }
    const std::string& current = words.empty() ? std::string() : words.back();
    const bool after_socket = words.size() >= 2 && (words[words.size() - 2] == "--socket" || words[words.size() - 2] == "-s");
    if (after_socket || (c != nullptr && current.empty() == false && current[0] != '-' &&
                         (c->id == control::command_id::apply || c->id == control::command_id::validate ||
                          c->id == control::command_id::cli || c->id == control::command_id::sip_check))) {
        fmt::print("__files__\n");
        return 0;
    }
    if (c == nullptr) {
        for (const auto& k : control::command_table()) {
            if ((k.surfaces & control::surface::sipalgctl) != 0) {
                fmt::print("{}\n", k.words);
            }
        }
        print_options(nullptr);
        return 0;
    }
    switch (c->id) {
    case control::command_id::schema: {
        // The next word of a section's path, after the words already typed.
        std::string typed;
        for (std::size_t i = at + 1; i + 1 < words.size(); ++i) {
            typed += words[i] + " ";
        }
        std::vector<std::string_view> next;
        for (const auto& s : control::schema()) {
            if (s.path.size() > typed.size() && s.path.starts_with(typed)) {
                const auto rest = s.path.substr(typed.size());
                const auto word = rest.substr(0, rest.find(' '));
                if (std::find(next.begin(), next.end(), word) == next.end()) {
                    next.push_back(word);
                }
            }
        }
        if (current.starts_with("-")) {
            fmt::print("--json\n--help\n");
            return 0;
        }
        for (const auto w : next) {
            fmt::print("{}\n", w);
        }
        return 0;
    }
    case control::command_id::sessions:
    case control::command_id::clear:
        for (const char* f : {"src=", "dst=", "sport=", "dport=", "proto=", "policy="}) {
            fmt::print("{}\n", f);
        }
        break;
    case control::command_id::show_config:
        fmt::print("config\n");
        break;
    case control::command_id::log:
        for (const char* f : {"category=", "logid=", "policy_id=", "call_id=", "srcip=", "lines="}) {
            fmt::print("{}\n", f);
        }
        break;
    case control::command_id::apply:
    case control::command_id::validate:
    case control::command_id::cli:
    case control::command_id::sip_check:
        if (current.empty()) {
            fmt::print("__files__\n");
            return 0;
        }
        break;
    default:
        break;
    }
    print_options(c);
    return 0;
}

int main(int argc, char** argv)
{
    if (argc >= 2 && std::string_view(argv[1]) == "__complete") {
        return complete(std::vector<std::string>(argv + 2, argv + argc));
    }
    // Options before the command are the command's too: they go after it.
    std::vector<std::string> leading;
    int at = 1;
    for (; at < argc; ++at) {
        const std::string_view a = argv[at];
        if (a == "--version" || a == "-V") {
            std::cout << "sipalgctl " << SIPALG_VERSION << "\n";
            return 0;
        }
        if (a == "--help" || a == "-h") {
            usage();
            return 0;
        }
        if ((a == "--socket" || a == "-s") && at + 1 < argc) {
            leading.emplace_back(a);
            leading.emplace_back(argv[++at]);
        } else if (a.starts_with("--socket=") || a == "--json") {
            leading.emplace_back(a);
        } else {
            break;
        }
    }
    if (at >= argc) {
        usage();
        return 2;
    }
    const control::command_spec* c = ctl_command(argv[at]);
    if (c == nullptr) {
        const bool json = std::find(leading.begin(), leading.end(), "--json") != leading.end();
        if (!json) {
            usage();
        }
        return fail(json, 2, fmt::format("sipalgctl: unknown command '{}'", argv[at]));
    }
    std::vector<std::string> args(argv + at + 1, argv + argc);
    args.insert(args.end(), leading.begin(), leading.end());
    try {
        if (c->id == control::command_id::schema) {
            return cmd_schema(args);
        }
        return c->id == control::command_id::sip_check ? cmd_sip_check(args) : cmd_control(std::string(c->words), args);
    } catch (const std::exception& e) {
        fmt::print(stderr, "sipalgctl: {}\n", e.what());
        return 2;
    }
}
