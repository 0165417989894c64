// See config.hpp (to_yaml). The running configuration as a YAML document the reader takes back
// unchanged, written from the schema's tables (schema.hpp): every section, FortiOS key names, strings
// double-quoted (YAML's double-quoted form is JSON's), values in the forms the reader accepts.
#include "control/command_table.hpp"
#include "control/config.hpp"
#include "control/json.hpp"
#include "control/schema.hpp"

#include <fmt/format.h>

#include <string>
#include <vector>

namespace sipalg::control {

namespace {

constexpr block_format yaml_fields{.style = value_style::yaml, .lead = "", .separator = ": ", .open = "",
                                   .open_end = ":\n", .close = "", .step = 2, .notes = true};

} // namespace

std::string to_yaml(const config& cfg)
{
    std::string out;
    std::vector<std::string_view> open; // the path words whose mappings are open
    std::string name;
    for (const auto& s : schema()) {
        const auto words = split_words(s.path);
        std::size_t same = 0;
        while (same < open.size() && same + 1 < words.size() && open[same] == words[same]) {
            ++same;
        }
        for (std::size_t i = same; i < words.size(); ++i) {
            out.append(2 * i, ' ');
            out += words[i];
            out += ':';
            if (i + 1 < words.size()) {
                out += '\n';
            }
        }
        open.assign(words.begin(), words.end() - 1);
        const int indent = static_cast<int>(2 * words.size());
        if (s.key == entry_key::none) {
            out += '\n';
            write_block(*s.block, s.object(cfg), indent, yaml_fields, out);
            continue;
        }
        const std::size_t n = s.count(cfg);
        if (n == 0) {
            out += " {}\n";
            continue;
        }
        out += '\n';
        for (std::size_t i = 0; i < n; ++i) {
            const void* e = s.entry(cfg, i);
            name.clear();
            s.entry_name(e, name);
            out.append(static_cast<std::size_t>(indent), ' ');
            out += s.key == entry_key::name ? json_string(name) : name;
            out += ":\n";
            write_block(*s.block, e, indent + 2, yaml_fields, out);
        }
    }
    return out;
}

} // namespace sipalg::control
