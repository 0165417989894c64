// See cli.hpp.
#include "control/cli.hpp"

#include "control/command_table.hpp"
#include "control/json.hpp"
#include "control/schema.hpp"
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
    const field_spec* spec = nullptr; // a value's field: a list of names is read back as a list

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

// The running configuration as a tree, from the schema: each field's words as the CLI shows them.
void fill_block(const block_spec& b, const void* object, tnode& t, std::string& text)
{
    t.kids.reserve(b.fields.size() + b.blocks.size());
    for (const auto& f : b.fields) {
        text.clear();
        if (!field_value(f, object, text, value_style::cli)) {
            continue;
        }
        tnode leaf;
        leaf.leaf = true;
        leaf.spec = &f;
        cli_words(text, leaf.values);
        t.kids.push_back(tentry{std::string(f.key), std::move(leaf)});
    }
    for (const auto& inner : b.blocks) {
        tnode block;
        fill_block(*inner.block, object, block, text);
        t.kids.push_back(tentry{std::string(inner.key), std::move(block)});
    }
}

tnode tree_of(const config& cfg)
{
    tnode root;
    std::string text;
    std::string name;
    for (const auto& s : schema()) {
        tnode* at = &root;
        for (const auto word : split_words(s.path)) {
            at = &at->child(word);
        }
        if (s.key == entry_key::none) {
            fill_block(*s.block, s.object(cfg), *at, text);
            continue;
        }
        const std::size_t n = s.count(cfg);
        at->kids.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            const void* e = s.entry(cfg, i);
            name.clear();
            s.entry_name(e, name);
            tnode entry;
            fill_block(*s.block, e, entry, text);
            at->kids.push_back(tentry{name, std::move(entry)});
        }
    }
    return root;
}

// The tree as the YAML reader's nodes, moved out of it (it is not used again): each at the CLI line
// behind it, column 1, or at no position when it comes from the running configuration. A value of
// several words is one scalar ("port1 port2", as FortiOS lists are written) unless a word holds a
// blank, which only a sequence keeps apart.
yaml::node to_node(tnode&& t)
{
    yaml::node n;
    n.where = {t.cli_line, t.cli_line != 0 ? 1 : 0};
    if (!t.leaf) {
        n.type = yaml::kind::map;
        n.children.reserve(2 * t.kids.size());
        for (auto& [key, v] : t.kids) {
            yaml::node k;
            k.type = yaml::kind::scalar;
            k.where = {v.cli_line, v.cli_line != 0 ? 1 : 0};
            k.text = std::move(key);
            n.children.push_back(std::move(k));
            n.children.push_back(to_node(std::move(v)));
        }
        return n;
    }
    // A list of names stays a list: a name may hold a blank ("LAN subnet"), which a scalar would split.
    const bool names = t.spec != nullptr && t.spec->kind == field_kind::words;
    const bool spaced = std::any_of(t.values.begin(), t.values.end(),
                                    [](const std::string& s) { return s.find(' ') != std::string::npos; });
    if (!names && (t.values.size() == 1 || (!t.values.empty() && !spaced))) {
        n.type = yaml::kind::scalar;
        n.text = std::move(t.values[0]);
        for (std::size_t i = 1; i < t.values.size(); ++i) {
            n.text += ' ';
            n.text += t.values[i];
        }
    } else if (!t.values.empty()) {
        n.type = yaml::kind::sequence;
        for (auto& v : t.values) {
            yaml::node item;
            item.type = yaml::kind::scalar;
            item.where = n.where;
            item.text = std::move(v);
            n.children.push_back(std::move(item));
        }
    }
    return n;
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

constexpr block_format cli_fields{.style = value_style::cli, .lead = "set ", .separator = " ", .open = "config ",
                                  .open_end = "\n", .close = "end\n", .step = 4, .notes = true};
// get: every field FortiOS has for the object, aligned, an empty one too.
constexpr block_format get_fields{.style = value_style::cli_option, .lead = "", .separator = ": ", .open = "",
                                  .open_end = ":\n", .close = "", .step = 4, .aligned = true, .empty_values = true};

// An entry's name as `edit` takes it: a name in quotes, as FortiOS shows it; an id as it is.
void append_entry_name(const section_spec& s, const void* e, std::string& out)
{
    std::string name;
    s.entry_name(e, name);
    if (s.key == entry_key::name) {
        append_cli_quoted(out, name);
    } else {
        out += name;
    }
}

void show_section(const config& cfg, const section_spec& s, const std::string* only, std::string& out)
{
    out += "config ";
    out += s.path;
    out += '\n';
    if (s.key == entry_key::none) {
        write_block(*s.block, s.object(cfg), 4, cli_fields, out);
    } else {
        std::string name;
        for (std::size_t i = 0; i < s.count(cfg); ++i) {
            const void* e = s.entry(cfg, i);
            if (only != nullptr) {
                name.clear();
                s.entry_name(e, name);
                if (name != *only) {
                    continue;
                }
            }
            out += "    edit ";
            append_entry_name(s, e, out);
            out += '\n';
            write_block(*s.block, e, 8, cli_fields, out);
            out += "    next\n";
        }
    }
    out += "end\n";
}

// The section the words name, and the entry after it when `entry` is given: {section, entry index}.
struct named {
    const section_spec* section = nullptr;
    const std::string* entry = nullptr;
};
named find_path(const std::vector<std::string>& path)
{
    std::string joined;
    for (std::size_t i = 0; i < path.size(); ++i) {
        joined += i == 0 ? "" : " ";
        joined += path[i];
        if (const section_spec* s = find_section(joined)) {
            if (i + 1 == path.size()) {
                return {s, nullptr};
            }
            if (i + 2 == path.size() && s->key != entry_key::none) {
                return {s, &path.back()};
            }
            return {};
        }
    }
    return {};
}

} // namespace

bool show_cli(const config& cfg, const std::vector<std::string>& path, std::string& out)
{
    if (path.empty() || (path.size() == 1 && path[0] == "full-configuration")) {
        for (const auto& s : schema()) {
            show_section(cfg, s, nullptr, out);
        }
        return true;
    }
    const named n = find_path(path);
    if (n.section == nullptr) {
        return false;
    }
    show_section(cfg, *n.section, n.entry, out);
    return true;
}

bool get_cli(const config& cfg, const std::vector<std::string>& path, std::string& out)
{
    const named n = find_path(path);
    if (n.section == nullptr) {
        return false;
    }
    const section_spec& s = *n.section;
    if (s.key == entry_key::none) {
        write_block(*s.block, s.object(cfg), 0, get_fields, out);
        return true;
    }
    std::string name;
    for (std::size_t i = 0; i < s.count(cfg); ++i) {
        const void* e = s.entry(cfg, i);
        name.clear();
        s.entry_name(e, name);
        if (n.entry == nullptr) {
            out += "== [ " + name + " ]\n"; // FortiOS lists a table's entries so
        } else if (name == *n.entry) {
            write_block(*s.block, e, 0, get_fields, out);
            return true;
        }
    }
    return n.entry == nullptr;
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
        const section_spec* section; // the section whose table this is or whose entry (null: a block)
        const block_spec* block;     // the fields that may be set here (null: a table, edit first)
    };
    std::vector<frame> stack;
    const auto fail = [&](int line, std::string message) { result.errors.push_back({{line, 1}, std::move(message)}); };
    int line_no = 0;
    // A field the schema has where the line is (set, unset, append); said at the line otherwise.
    const auto known_field = [&](const block_spec* block, const std::string& key, int line,
                                 const std::string& verb) -> const field_spec* {
        if (block == nullptr) {
            fail(line, fmt::format("{} {}: edit an entry first", verb, key));
            return nullptr;
        }
        const field_spec* f = block->find(key);
        if (f == nullptr) {
            fail(line, block->find_block(key) != nullptr ? fmt::format("'{}' is a block: use config {}", key, key)
                                                         : fmt::format("{}: no field '{}' here", verb, key));
            return nullptr;
        }
        if (verb == "append" && f->kind != field_kind::words && f->kind != field_kind::service_ports &&
            f->kind != field_kind::days) {
            fail(line, fmt::format("append {}: the field is not a list", key));
            return nullptr;
        }
        return f;
    };
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
            // What the schema has at this path: a section at the top, a block (config sip) in an entry.
            const section_spec* section = nullptr;
            const block_spec* block = nullptr;
            std::string path;
            for (std::size_t i = 1; i < w.size(); ++i) {
                path += i == 1 ? "" : " ";
                path += w[i];
            }
            if (stack.empty()) {
                section = find_section(path);
                if (section == nullptr) {
                    fail(line_no, fmt::format("config {}: no such path", path));
                    stack.push_back({nullptr, false, nullptr, nullptr}); // its lines are not looked at
                    continue;
                }
                block = section->key == entry_key::none ? section->block : nullptr;
            } else if (stack.back().node == nullptr || stack.back().block == nullptr ||
                       (block = stack.back().block->find_block(path)) == nullptr) {
                if (stack.back().node != nullptr) {
                    fail(line_no, fmt::format("config {}: no such block here", path));
                }
                stack.push_back({nullptr, false, nullptr, nullptr});
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
            stack.push_back({at, false, section, block});
            result.changed = true;
            continue;
        }
        if (stack.empty()) {
            fail(line_no, fmt::format("'{}' outside a config block", verb));
            continue;
        }
        frame& top = stack.back();
        if (top.node == nullptr) {
            // Inside a block that was refused: only its structure is followed, to find its end.
            if (verb == "edit" && !top.entry) {
                stack.push_back({nullptr, true, nullptr, nullptr});
            } else if ((verb == "next" && top.entry) || (verb == "end" && !top.entry)) {
                stack.pop_back();
            } else if (verb == "end") {
                stack.pop_back();
                if (!stack.empty()) {
                    stack.pop_back();
                }
            }
            continue;
        }
        if (verb == "edit") {
            if (top.entry) {
                fail(line_no, "edit inside an edit (close it with next)");
                continue;
            }
            // A refused edit still opens its entry, unused, so that its lines up to next are not
            // refused again one by one.
            const auto refuse = [&](std::string message) {
                fail(line_no, std::move(message));
                stack.push_back({nullptr, true, nullptr, nullptr});
            };
            if (w.size() != 2 || top.section == nullptr || top.block != nullptr) {
                refuse(w.size() != 2 ? "edit needs one name or id" : "edit: this block has no entries (set its fields)");
                continue;
            }
            std::string key = w[1];
            if (top.section->key == entry_key::id && !is_number(key)) {
                refuse(fmt::format("edit: {} entries are numbered, not '{}'", top.section->path, key));
                continue;
            }
            if (top.section->name_max != 0 && key.size() > top.section->name_max) {
                refuse(fmt::format("edit: the name is longer than {} characters (FortiOS's limit)", top.section->name_max));
                continue;
            }
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
            stack.push_back({&entry, true, top.section, top.section->block});
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
            const field_spec* spec = known_field(top.block, w[1], line_no, verb);
            if (spec == nullptr) {
                continue;
            }
            tnode& field = top.node->child(w[1]);
            field.spec = spec;
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
            if (known_field(top.block, w[1], line_no, verb) == nullptr) {
                continue;
            }
            top.node->erase(w[1]); // back to its default
            if (top.entry) {
                top.node->cli_line = line_no; // what the entry now lacks is this line's doing
            }
            last_removal = line_no;
            continue;
        }
        if (verb == "delete") {
            if (w.size() != 2 || top.entry || top.block != nullptr) {
                fail(line_no, "delete needs one entry of a table, outside an edit");
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
        return result;
    }
    if (!result.changed) {
        return result; // no config block: `cfg` is not to be used, the running configuration stays
    }
    // With lines already refused, the values of the others are still checked, so that one reply names
    // every refused line; the caller's checks of the whole result are for a text without such errors.
    const bool lines_ok = result.errors.empty();
    // The edited tree is read like any document, its nodes at the CLI lines behind them.
    load_result loaded = load_node(to_node(std::move(*root)));
    if (check && loaded.ok() && lines_ok) {
        for (auto& e : check(loaded.cfg)) {
            loaded.errors.push_back(std::move(e));
        }
    }
    const int last_change = last_removal != 0 ? last_removal : last_set;
    for (const auto& e : loaded.errors) {
        const int cli_line = e.where.line;
        if (cli_line == 0 && last_change != 0) {
            result.errors.push_back({{last_change, 1}, e.message + " (found in what this request keeps of the running "
                                                                    "configuration)"});
            continue;
        }
        result.errors.push_back({{cli_line, cli_line != 0 ? 1 : 0}, e.message});
    }
    std::stable_sort(result.errors.begin(), result.errors.end(),
                     [](const config_error& a, const config_error& b) { return a.where.line < b.where.line; });
    result.cfg = std::move(loaded.cfg);
    return result;
}

} // namespace sipalg::control
