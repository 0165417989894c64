#pragma once
// sipalgctl sip-check: the offline checker for operators. Reads raw SIP messages from files (or "-" for
// standard input), parses each as a datagram would be, runs the FortiOS syntax checks with the given
// profile limits, and reports per message: parsed or not, method or status, Call-ID, and every finding
// with its check name, line and column; one JSON object per message with --json.
#include "sip/checks.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace sipalg::control {

struct sip_check_report {
    std::string text; // what to print
    bool clean = true; // parsed, and no findings
};

sip_check_report sip_check(std::string_view name, std::string_view bytes, const sip::check_options& options,
                           bool as_json);

// The same for a TCP byte stream: framed into messages first (framer.hpp); a stream the framer
// refuses ends with a report saying why and where.
std::vector<sip_check_report> sip_check_stream(std::string_view name, std::string_view bytes,
                                               const sip::check_options& options, bool as_json);

} // namespace sipalg::control
