#pragma once
// JSON text for the control plane's machine-readable output (sipalgctl --json, sipalgd --stats-file).
// Strings come from the wire or from files: control characters are escaped, and bytes that are not
// valid UTF-8 become \u00XX escapes, so the output always parses.
#include <string>
#include <string_view>

namespace sipalg::control {

// `s` as a JSON string literal, quotes included.
std::string json_string(std::string_view s);

// Whether `s` is valid UTF-8 (configuration text must be: it is shown back as text).
bool is_utf8(std::string_view s);

} // namespace sipalg::control
