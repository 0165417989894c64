#pragma once
// The configuration schema (ARCHITECTURE.md, "The control path"): one declarative table of fields
// per section, the only place a configuration key is written. A field names its FortiOS key, the model member it
// is stored in, its type and limits, its help text, whether it takes effect on a running appliance,
// whether an entry needs it, and a good value for help and tests; its default is the model's
// (config.hpp), read from a default-made object. The tables drive:
//   - reading YAML, with each error at its value's position (config_yaml.cpp);
//   - writing YAML, `show config` (config_emit.cpp);
//   - the CLI: a `set`, `unset` or `config` of something the table does not have is refused at its
//     line; `show` and `get` print from the tables (cli.cpp);
//   - sipalgctl's `schema` help and its shell completion;
//   - the table-driven test (test/control/test_schema.cpp), which walks every field.
// What ties fields together (an iprange's end is not before its start, a VIP's ranges are as large
// as each other) stays in each section's `finish` step, in code.
#include "control/config.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sipalg::control {

struct label;
namespace yaml {
struct node;
}
namespace detail {
class reader;
}

// What a field's value is (the codec it has): for help texts and tests.
enum class field_kind : std::uint8_t {
    flag, choice, integer, text, words, ports, address, prefix, mac, port_range, service_ports, address_range, days,
    clock,
};

// How a value is written: as the YAML reader takes it back, or as FortiOS's CLI shows it (names and
// texts in "double quotes", lists as words, an address with its netmask).
// cli_option is cli for a field of fixed words (logtraffic all, allowaccess ping): never quoted.
enum class value_style : std::uint8_t { yaml, cli, cli_option };

struct field_spec {
    std::string_view key = {};     // the FortiOS name
    std::string_view help = {};
    std::string_view example = {}; // a good value other than the default (help, the table test)
    // What the example needs alongside, as `set` lines without the verb, ";" between them: for a field
    // shown only in some cases, the one that makes it so ("protocol ICMP").
    std::string_view with = {};
    // Where this project differs from FortiOS on purpose: said in a comment before the field where the
    // configuration is written (show, YAML).
    std::string_view note = {};
    bool live = true;         // false: fixed while sipalgd runs (interfaces are bound to ports at start)
    bool required = false;    // an entry without it is refused (while it is shown, when `shown` says)
    // Limits the codec checks: integers' range, a list's number of words, a text's length (0: none).
    std::uint64_t min = 0;
    std::uint64_t max = 0;
    std::span<const std::string_view> choices = {}; // the words a value may be (empty: any)
    field_kind kind = field_kind::text;
    // The codec, made from the member by the templates in schema.cpp.
    void (*read)(detail::reader&, const yaml::node&, const field_spec&, const label&, void* object) = nullptr;
    // Appends the value; false when the field holds nothing to show (an empty text).
    bool (*write)(const void* object, std::string& out, value_style) = nullptr;
    // Whether the field is shown for this object (service ports only with TCP/UDP/SCTP); null: always.
    bool (*shown)(const void* object) = nullptr;
    // The default: the value of a default-made object, written as `write` writes it.
    bool (*write_default)(std::string& out, value_style) = nullptr;
};

struct block_spec;

// A block inside an entry: config sip inside a voip profile entry.
struct sub_block {
    std::string_view key = {};
    const block_spec* block = {};
};

struct block_spec {
    std::span<const field_spec> fields = {};
    std::span<const sub_block> blocks = {};
    const field_spec* find(std::string_view key) const;
    const block_spec* find_block(std::string_view key) const;
};

enum class entry_key : std::uint8_t { none, name, id };

// A configuration section: `config firewall policy`, YAML firewall: policy:.
struct section_spec {
    std::string_view path = {};    // "firewall policy"
    std::uint32_t bit = {};        // section::policy
    entry_key key = {};            // none: one object (system settings); name or id: a table of entries
    unsigned name_max = 0;    // the longest name FortiOS takes (FortiOS CLI reference, "size")
    std::string_view help = {};
    const block_spec* block = {};
    // The entries, as the model holds them (type-erased; made by a template in schema.cpp).
    std::size_t (*count)(const config&) = nullptr;
    const void* (*entry)(const config&, std::size_t) = nullptr;
    void (*entry_name)(const void* entry, std::string& out) = nullptr;
    const void* (*object)(const config&) = nullptr; // key none
    // Reading (config_yaml.cpp): the table emptied, a new default entry (or the one object), its
    // name or id set, where it was written, and where its fields' positions go (null: not kept).
    void (*clear)(config&) = nullptr;
    void* (*append)(config&) = nullptr;
    void (*set_name)(void* entry, std::string_view name, std::uint32_t id) = nullptr;
    std::uint32_t (*id_of)(const void* entry) = nullptr;
    source_position& (*where)(void* entry) = nullptr;
    field_positions* (*positions)(void* entry) = nullptr;
    // What ties the entry's fields together, after they were read; `present` holds the keys written.
    void (*finish)(detail::reader&, const yaml::node& key, const label& what, void* entry,
                   const field_positions& present) = nullptr;
};

// Every section, in the order `show full-configuration` prints them.
std::span<const section_spec> schema();
// The section a CLI path names ("firewall policy"), or null.
const section_spec* find_section(std::string_view path);

// The value of a field of an object as it is shown; false when it is not (unset, or not for this
// object: a service's icmptype unless its protocol is ICMP).
bool field_value(const field_spec& f, const void* object, std::string& out, value_style st = value_style::yaml);
// The default as it is shown ("" for an empty one).
std::string default_text(const field_spec& f, value_style st = value_style::cli);
// What a value looks like, for help: "enable|disable", "integer 1-255", ...
std::string type_text(const field_spec& f);
// The settings a field's example needs alongside (`with`), one "key value" each.
std::vector<std::string_view> with_settings(const field_spec& f);

// A name or text as FortiOS's CLI writes one: in double quotes, a backslash before " and \.
void append_cli_quoted(std::string& out, std::string_view s);

// How a block's fields are written, one per line: `lead` KEY [padding] `separator` VALUE. A block
// inside (config sip) opens with `open` KEY `open_end`, is indented `step` more, and ends with `close`.
struct block_format {
    value_style style;
    std::string_view lead;      // "set " (CLI show) or nothing
    std::string_view separator; // ": " or " "
    std::string_view open;      // "config " (CLI) or nothing
    std::string_view open_end;  // "\n" (CLI) or ":\n" (YAML, get)
    std::string_view close;     // "end\n" (CLI) or nothing
    int step;
    bool aligned = false;       // keys padded to the longest (get)
    bool empty_values = false;  // a shown field without a value still has its line (get)
    bool notes = false;         // a field's note as a comment line before it (show, YAML)
};
// Appends the fields of `object` in block `b` at `indent`, and its blocks.
void write_block(const block_spec& b, const void* object, int indent, const block_format& format, std::string& out);

} // namespace sipalg::control
