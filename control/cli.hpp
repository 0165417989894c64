#pragma once
// The FortiOS CLI as configuration input (README "FortiOS CLI"): `config <path>` ... `end` blocks with
// `edit`, `set`, `unset`, `append`, `delete`, `next`, applied to the running configuration. Each line is
// checked against the schema (control/schema.hpp) where it stands: a path, block or field the schema
// does not have is refused at its line. The text edits a tree made from the running configuration by
// the schema; the tree becomes the YAML reader's nodes directly (no text in between), each at the CLI
// line behind it, and is read and checked like any document, so errors point at the CLI line.
#include "control/config.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace sipalg::control {

// A command of the text that is not configuration (show, diagnose): kept, in order, for the caller.
struct cli_command {
    int line = 0;
    std::vector<std::string> words;
};

struct cli_result {
    config cfg;                        // the running configuration with the text's edits (when changed)
    bool changed = false;              // some config block was entered
    std::vector<config_error> errors;  // with the CLI line (column 1 = the line's first word)
    std::vector<cli_command> commands; // show ..., diagnose ..., in order
    bool ok() const
    {
        return errors.empty();
    }
};

// Applies the CLI text to `running`. All or nothing: with errors, `cfg` is not to be used. `check`, when
// given, adds the caller's own checks of the result; its errors are put at CLI lines like the others.
// An error about what the text kept of `running` is put at the last line that changed something.
cli_result apply_cli(const config& running, std::string_view text,
                     const std::function<std::vector<config_error>(const config&)>& check = {});

// `show [path [entry]]` / `show full-configuration`: the configuration as FortiOS CLI text that
// apply_cli takes back unchanged. `path` is the words after show; false when it names nothing.
bool show_cli(const config& cfg, const std::vector<std::string>& path, std::string& out);

// `get PATH [ENTRY]`: every field of an object or entry as `key : value`, defaults too, as FortiOS's
// get prints them; a table without ENTRY lists its entries (== [ name ]). False when it names nothing.
bool get_cli(const config& cfg, const std::vector<std::string>& path, std::string& out);

// Splits a CLI line into words: blanks separate, "double" and 'single' quotes group (backslash escapes
// inside double quotes). False when a quote is not closed.
bool cli_words(std::string_view line, std::vector<std::string>& out);

} // namespace sipalg::control
