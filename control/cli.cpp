// See cli.hpp.
#include "control/cli.hpp"

#include "control/json.hpp"
#include "control/yaml.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <optional>
#include <sstream>
#include <unordered_map>

namespace sipalg::control {

namespace {

// The configuration as a tree of named nodes in their order: objects and tables (children), values
// (leaves with one or more words). Both the YAML of the model and the CLI paths have this shape.
struct tentry;

struct tnode {
    std::vector<tentry> kids; // a named child each, in order
    std::vector<std::string> values;
    bool leaf = false;
    int cli_line = 0; // the CLI line that set this value or created this entry

    // Defined below, where tnode is complete (its children are tnodes).
    tnode* find(std::string_view name);
    tnode& child(std::string_view name);
    bool erase(std::string_view name);

    // A table of thousands of entries (10,000 policies) is looked up by name once per `edit`: by a
    // hash of the names, made on the first look at a large table, rather than a scan each time.
    std::unordered_map<std::string, std::size_t> index;
};

// Not std::pair: a pair of an incomplete type trips its constructor checks under clang.
struct tentry {
    std::string first;
    tnode second;
};

constexpr std::size_t indexed_from = 32;

tnode* tnode::find(std::string_view name)
{
    if (kids.size() < indexed_from) {
        for (auto& kv : kids) {
            if (kv.first == name) {
                return &kv.second;
            }
        }
        return nullptr;
    }
    if (index.size() != kids.size()) {
        index.clear();
        index.reserve(kids.size());
        for (std::size_t i = 0; i < kids.size(); ++i) {
            index.emplace(kids[i].first, i);
        }
    }
    const auto it = index.find(std::string(name));
    return it == index.end() ? nullptr : &kids[it->second].second;
}

tnode& tnode::child(std::string_view name)
{
    if (tnode* n = find(name)) {
        return *n;
    }
    kids.push_back(tentry{std::string(name), tnode{}});
    if (!index.empty()) {
        index.emplace(kids.back().first, kids.size() - 1);
    }
    return kids.back().second;
}

bool tnode::erase(std::string_view name)
{
    const auto it = std::find_if(kids.begin(), kids.end(), [&](const auto& kv) { return kv.first == name; });
    if (it == kids.end()) {
        return false;
    }
    kids.erase(it);
    index.clear(); // the positions after it moved: made again on the next look
    return true;
}

// The tree of a parsed document, its strings moved out of it (the document is not used again).
tnode from_yaml(yaml::node&& n)
{
    tnode t;
    if (n.is_map()) {
        t.kids.reserve(n.entries());
        for (std::size_t i = 0; i < n.entries(); ++i) {
            t.kids.push_back(tentry{std::move(n.children[2 * i].text), from_yaml(std::move(n.children[2 * i + 1]))});
        }
    } else if (n.is_sequence()) {
        t.leaf = true;
        t.values.reserve(n.children.size());
        for (auto& v : n.children) {
            t.values.push_back(std::move(v.text));
        }
    } else {
        t.leaf = true;
        if (n.is_scalar()) {
            t.values.push_back(std::move(n.text));
        }
    }
    return t;
}

// The running configuration as a tree; to_yaml writes what the reader takes back.
tnode tree_of(const config& cfg)
{
    return from_yaml(std::move(yaml::parse(to_yaml(cfg)).root));
}

// YAML text of the tree; `origin[yaml line]` = the CLI line behind it (0: the running configuration).
// A value as YAML: plain when it is a word that cannot mean anything else (the usual case, and the
// cheaper one for 10,000 policies), quoted otherwise.
void append_scalar(std::string& out, std::string_view s)
{
    const bool plain = !s.empty() && std::isalnum(static_cast<unsigned char>(s[0])) != 0 && s != "null" &&
                       s != "Null" && s != "NULL" && std::all_of(s.begin(), s.end(), [](char c) {
                           return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' ||
                                  c == '.' || c == '/';
                       });
    if (plain) {
        out += s;
    } else {
        out += json_string(s);
    }
}

void emit(const tnode& t, int indent, std::string& out, std::vector<int>& origin)
{
    for (const auto& [key, v] : t.kids) {
        out.append(static_cast<std::size_t>(indent), ' ');
        append_scalar(out, key);
        out += ':';
        if (v.leaf) {
            const bool spaced = std::any_of(v.values.begin(), v.values.end(),
                                            [](const std::string& s) { return s.find(' ') != std::string::npos; });
            if (v.values.size() == 1) {
                out += ' ';
                append_scalar(out, v.values[0]);
            } else if (!v.values.empty() && !spaced) {
                std::string joined;
                for (const auto& s : v.values) {
                    if (!joined.empty()) {
                        joined += ' ';
                    }
                    joined += s;
                }
                out += ' ';
                out += json_string(joined);
            } else {
                out += " [";
                for (std::size_t i = 0; i < v.values.size(); ++i) {
                    if (i != 0) {
                        out += ", ";
                    }
                    out += json_string(v.values[i]);
                }
                out += ']';
            }
        } else if (v.kids.empty()) {
            out += " {}";
        }
        out += '\n';
        origin.push_back(v.cli_line);
        if (!v.leaf && !v.kids.empty()) {
            emit(v, indent + 2, out, origin);
        }
    }
}

bool is_number(std::string_view s)
{
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && ec == std::errc{} && end == s.data() + s.size();
}

// Commands that are not configuration, as a FortiOS prompt shows them ("# show ...").
bool is_command_word(std::string_view w)
{
    return w == "show" || w == "diagnose" || w == "get" || w == "execute";
}

// The CLI paths, in the order `show full-configuration` prints them; tables have edit entries.
struct cli_path {
    std::vector<std::string> words;
    bool table;
};
const std::vector<cli_path>& cli_paths()
{
    static const std::vector<cli_path> paths{
        {{"system", "settings"}, false},
        {{"system", "global"}, false},
        {{"system", "session-ttl"}, false},
        {{"system", "interface"}, true},
        {{"system", "arp-table"}, true},
        {{"system", "session-helper"}, true},
        {{"router", "static"}, true},
        {{"voip", "profile"}, true},
        {{"firewall", "address"}, true},
        {{"firewall", "addrgrp"}, true},
        {{"firewall", "service", "custom"}, true},
        {{"firewall", "schedule", "recurring"}, true},
        {{"firewall", "vip"}, true},
        {{"firewall", "policy"}, true},
    };
    return paths;
}

std::string cli_value(const std::string& v)
{
    const bool plain = !v.empty() && std::all_of(v.begin(), v.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '/' || c == ':' || c == '_';
    });
    if (plain) {
        return v;
    }
    std::string q = "\"";
    for (const char c : v) {
        if (c == '"' || c == '\\') {
            q += '\\';
        }
        q += c;
    }
    return q + '"';
}

void show_fields(const tnode& n, int indent, std::string& out)
{
    const std::string pad(static_cast<std::size_t>(indent), ' ');
    for (const auto& [k, v] : n.kids) {
        if (v.leaf) {
            out += pad + "set " + k;
            for (const auto& s : v.values) {
                out += ' ';
                out += cli_value(s);
            }
            out += '\n';
        } else {
            out += pad + "config " + k + "\n";
            show_fields(v, indent + 4, out);
            out += pad + "end\n";
        }
    }
}

void show_path(const tnode& root, const cli_path& p, const std::string* only, std::string& out)
{
    const tnode* n = &root;
    for (const auto& w : p.words) {
        n = const_cast<tnode*>(n)->find(w);
        if (n == nullptr) {
            return;
        }
    }
    std::string name;
    for (const auto& w : p.words) {
        name += (name.empty() ? "" : " ");
        name += w;
    }
    out += "config " + name + "\n";
    if (!p.table) {
        show_fields(*n, 4, out);
    } else {
        for (const auto& [k, v] : n->kids) {
            if (only != nullptr && k != *only) {
                continue;
            }
            out += "    edit " + cli_value(k) + "\n";
            show_fields(v, 8, out);
            out += "    next\n";
        }
    }
    out += "end\n";
}

} // namespace

bool show_cli(const config& cfg, const std::vector<std::string>& path, std::string& out)
{
    const tnode root = tree_of(cfg);
    if (path.empty() || (path.size() == 1 && path[0] == "full-configuration")) {
        for (const auto& p : cli_paths()) {
            show_path(root, p, nullptr, out);
        }
        return true;
    }
    for (const auto& p : cli_paths()) {
        if (path.size() < p.words.size() || !std::equal(p.words.begin(), p.words.end(), path.begin())) {
            continue;
        }
        if (path.size() == p.words.size()) {
            show_path(root, p, nullptr, out);
            return true;
        }
        if (path.size() == p.words.size() + 1 && p.table) {
            show_path(root, p, &path.back(), out);
            return true;
        }
    }
    return false;
}

bool cli_words(std::string_view line, std::vector<std::string>& out)
{
    // The strings already in `out` are written over (their buffers kept): a caller that splits line
    // after line into the same vector allocates only for words longer than any before.
    std::size_t n = 0;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) {
            ++i;
        }
        if (i >= line.size()) {
            break;
        }
        if (n == out.size()) {
            out.emplace_back();
        }
        std::string& w = out[n];
        w.clear();
        bool quoted = false;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') {
            const char c = line[i];
            if (c == '"' || c == '\'') {
                quoted = true;
                ++i;
                bool closed = false;
                while (i < line.size()) {
                    if (line[i] == c) {
                        closed = true;
                        ++i;
                        break;
                    }
                    if (c == '"' && line[i] == '\\' && i + 1 < line.size()) {
                        ++i;
                    }
                    w += line[i++];
                }
                if (!closed) {
                    out.resize(n);
                    return false;
                }
                continue;
            }
            w += c;
            ++i;
        }
        if (!w.empty() || quoted) {
            ++n;
        }
    }
    out.resize(n);
    return true;
}

cli_result apply_cli(const config& running, std::string_view text,
                     const std::function<std::vector<config_error>(const config&)>& check)
{
    cli_result result;
    // The same text rules as YAML: UTF-8, and no NUL byte. Said at the first line that breaks them.
    if (!is_utf8(text) || text.find('\0') != std::string_view::npos) {
        int line = 1;
        for (std::size_t pos = 0; pos < text.size();) {
            const std::size_t nl = std::min(text.find('\n', pos), text.size());
            const std::string_view l = text.substr(pos, nl - pos);
            if (!is_utf8(l) || l.find('\0') != std::string_view::npos) {
                break;
            }
            pos = nl + 1;
            ++line;
        }
        result.errors.push_back({{line, 1}, "the text must be UTF-8, without NUL bytes"});
        return result;
    }
    // The running configuration's tree, made when the text first enters a config block: a text of show
    // and diagnose lines only changes nothing and needs none.
    std::optional<tnode> root;
    // The open blocks: each `config` pushes the node it entered; `edit` pushes the entry.
    struct frame {
        tnode* node;
        bool entry; // an edit (closed by next) rather than a config (closed by end)
    };
    std::vector<frame> stack;
    const auto fail = [&](int line, std::string message) { result.errors.push_back({{line, 1}, std::move(message)}); };
    int line_no = 0;
    // The last line that changed the tree, and the last that took something away (unset, delete): an
    // error in what the text kept of the running configuration is most likely theirs.
    int last_set = 0;
    int last_removal = 0;
    std::vector<std::string> w;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const auto nl = text.find('\n', pos);
        const std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
        ++line_no;
        if (!cli_words(line, w)) {
            fail(line_no, "a quote is not closed");
            continue;
        }
        if (w.empty()) {
            continue;
        }
        // "# show ..." as FortiOS prints its prompt: the command; any other "#" line is a comment.
        if (w[0] == "#" || w[0].starts_with("#")) {
            if (w[0] == "#" && w.size() > 1 && is_command_word(w[1])) {
                result.commands.push_back({line_no, std::vector<std::string>(w.begin() + 1, w.end())});
            }
            continue;
        }
        const std::string& verb = w[0];
        if (is_command_word(verb)) {
            if (!stack.empty()) {
                fail(line_no, fmt::format("'{}' inside a config block (finish it with end first)", verb));
                continue;
            }
            result.commands.push_back({line_no, w});
            continue;
        }
        if (verb == "config") {
            if (w.size() < 2) {
                fail(line_no, "config needs a path, such as config firewall policy");
                continue;
            }
            if (!root) {
                root = tree_of(running);
            }
            tnode* at = stack.empty() ? &*root : stack.back().node;
            for (std::size_t i = 1; i < w.size(); ++i) {
                at = &at->child(w[i]);
                at->leaf = false;
            }
            if (at->cli_line == 0) {
                at->cli_line = line_no;
            }
            stack.push_back({at, false});
            result.changed = true;
            continue;
        }
        if (stack.empty()) {
            fail(line_no, fmt::format("'{}' outside a config block", verb));
            continue;
        }
        frame& top = stack.back();
        if (verb == "edit") {
            if (w.size() != 2 || top.entry) {
                fail(line_no, top.entry ? "edit inside an edit (close it with next)" : "edit needs one name or id");
                continue;
            }
            std::string key = w[1];
            if (key == "0") {
                // FortiOS: the next free id.
                std::uint64_t next = 1;
                for (const auto& [k, v] : top.node->kids) {
                    if (is_number(k)) {
                        next = std::max<std::uint64_t>(next, std::stoull(k) + 1);
                    }
                }
                key = std::to_string(next);
            }
            tnode& entry = top.node->child(key);
            entry.leaf = false;
            if (entry.kids.empty()) {
                entry.cli_line = line_no;
            }
            stack.push_back({&entry, true});
            continue;
        }
        if (verb == "next") {
            if (!top.entry) {
                fail(line_no, "next without edit");
                continue;
            }
            stack.pop_back();
            continue;
        }
        if (verb == "end") {
            if (top.entry) {
                stack.pop_back(); // FortiOS accepts end for the last entry's next too
            }
            if (stack.empty() || stack.back().entry) {
                fail(line_no, "end without config");
                continue;
            }
            stack.pop_back();
            continue;
        }
        if (verb == "set" || verb == "append") {
            if (w.size() < 2) {
                fail(line_no, fmt::format("{} needs a field", verb));
                continue;
            }
            if (w.size() < 3) {
                // FortiOS refuses a bare `set name` too; an empty value is written "" ('' in FortiOS).
                fail(line_no, fmt::format("{} {} needs a value (unset {} goes back to the default)", verb, w[1], w[1]));
                continue;
            }
            tnode& field = top.node->child(w[1]);
            if (!field.leaf && !field.kids.empty()) {
                fail(line_no, fmt::format("'{}' is a block: use config {}", w[1], w[1]));
                continue;
            }
            field.leaf = true;
            field.cli_line = line_no;
            last_set = line_no;
            // "{proxy-based | kernel-helper-based}": FortiOS documentation's notation for "either", as the
            // seed writes it (session helper example 2). The value in force stays when it is one of them;
            // otherwise the first is taken.
            if (verb == "set" && w.size() >= 3 && w[2].starts_with("{") && w.back().ends_with("}")) {
                std::string joined;
                for (std::size_t i = 2; i < w.size(); ++i) {
                    joined += ' ';
                    joined += w[i];
                }
                std::vector<std::string> choices;
                std::istringstream alternatives(joined.substr(2, joined.size() - 3)); // without " {" and "}"
                for (std::string c; std::getline(alternatives, c, '|');) {
                    const auto first = c.find_first_not_of(' ');
                    const auto last = c.find_last_not_of(' ');
                    if (first != std::string::npos) {
                        choices.push_back(c.substr(first, last - first + 1));
                    }
                }
                const bool current_ok = field.values.size() == 1 &&
                                        std::find(choices.begin(), choices.end(), field.values[0]) != choices.end();
                if (!current_ok && !choices.empty()) {
                    field.values.assign(1, choices.front());
                }
                continue;
            }
            if (verb == "set") {
                field.values.assign(w.begin() + 2, w.end());
            } else {
                field.values.insert(field.values.end(), w.begin() + 2, w.end());
            }
            continue;
        }
        if (verb == "unset") {
            if (w.size() != 2) {
                fail(line_no, "unset needs one field");
                continue;
            }
            top.node->erase(w[1]); // back to its default
            last_removal = line_no;
            continue;
        }
        if (verb == "delete") {
            if (w.size() != 2 || top.entry) {
                fail(line_no, "delete needs one entry, outside an edit");
                continue;
            }
            if (!top.node->erase(w[1])) {
                fail(line_no, fmt::format("delete: entry '{}' does not exist", w[1]));
            }
            last_removal = line_no;
            continue;
        }
        fail(line_no, fmt::format("unknown command '{}' (config, edit, set, unset, append, delete, next, end, show, "
                                  "diagnose)",
                                  verb));
    }
    if (!stack.empty()) {
        fail(line_no, "the text ends inside a config block (end missing)");
    }
    if (!result.errors.empty()) {
        return result;
    }
    if (!result.changed) {
        return result; // no config block: `cfg` is not to be used, the running configuration stays
    }
    // The edited tree is read like any document; each error goes back to the CLI line behind it.
    std::string yaml;
    std::vector<int> origin;
    emit(*root, 0, yaml, origin);
    load_result loaded = load_yaml(yaml);
    if (check && loaded.ok()) {
        for (auto& e : check(loaded.cfg)) {
            loaded.errors.push_back(std::move(e));
        }
    }
    const int last_change = last_removal != 0 ? last_removal : last_set;
    for (const auto& e : loaded.errors) {
        const int yaml_line = e.where.line;
        const int cli_line = yaml_line >= 1 && static_cast<std::size_t>(yaml_line) <= origin.size() ? origin[yaml_line - 1] : 0;
        if (cli_line == 0 && last_change != 0) {
            result.errors.push_back({{last_change, 1}, e.message + " (found in what this request keeps of the running "
                                                                    "configuration)"});
            continue;
        }
        result.errors.push_back({{cli_line, cli_line != 0 ? 1 : 0}, e.message});
    }
    result.cfg = std::move(loaded.cfg);
    return result;
}

} // namespace sipalg::control
