#pragma once
// JSON for the control plane's machine-readable output (replies, sipalgctl --json, sipalgd --stats-file)
// through nlohmann::json; json_string is kept for the double-quoted scalars of the YAML it writes,
// whose escapes are JSON's.
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace sipalg::control {

// Replies and machine-readable output are built as JSON values (members in the order written) and
// printed by the library; bytes that are not UTF-8 become U+FFFD, so the output always parses.
using json = nlohmann::ordered_json;

// `j` as one line of text, with its final line feed.
std::string json_line(const json& j);

// `s` as a JSON string literal, quotes included.
std::string json_string(std::string_view s);

// Whether `s` is valid UTF-8 (configuration text must be: it is shown back as text).
bool is_utf8(std::string_view s);

} // namespace sipalg::control
