#pragma once
// A control request as it travels on the socket (README "The control socket"). A request is complete
// only when it says so, never because the connection ended: a client killed half way through a
// document must not get the half applied.
//
// The first line is the command, ended by its line feed. The commands that carry a body (apply,
// validate, cli) take the lines after it up to a line holding a single "." (CR LF or LF), as SMTP ends
// its data (RFC 5321 §4.5.2), with the same dot-stuffing: a body line that starts with "." is sent with
// one more "." in front, and the server takes the first "." of such a line off. YAML and FortiOS CLI
// lines almost never start with "." (YAML's document end "..." does), so a hand-typed request is
// `printf 'cli\n...\nend\n.\n'`.
#include <cstddef>
#include <string>
#include <string_view>

namespace sipalg::control {

// Whether the command carries a body (control/command_table.hpp says which do).
bool takes_body(std::string_view command) noexcept;

// The request for `command` with `body` (ignored for a command without one), framed and stuffed; a body
// without a final line feed gets one.
std::string frame_request(std::string_view command, std::string_view body);

// The longest command line taken; a longer one is refused before its line feed comes.
constexpr std::size_t max_command_line = 4096;

enum class frame_state {
    incomplete, // more bytes are needed
    complete,   // `command` and `body` are set
    bad,        // `error` says why; nothing is to be done
};

// Reads the request at the start of `in`, everything the client sent so far. `resume` (0 at first)
// keeps where the search for the end line stopped, so that a large body arriving in pieces is scanned
// once. Bytes after the request's end make it bad: one request per connection.
frame_state scan_request(std::string_view in, std::size_t& resume, std::string& command, std::string& body,
                         std::string& error);

// What to tell a client whose connection ended while its request was `incomplete`.
std::string incomplete_request_error(std::string_view in);

} // namespace sipalg::control
