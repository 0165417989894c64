// See request.hpp.
#include "control/request.hpp"

#include "control/command_table.hpp"

#include <fmt/format.h>

namespace sipalg::control {

namespace {

std::string_view verb_of(std::string_view command) noexcept
{
    return command.substr(0, command.find(' '));
}

// The end line: "." alone, before LF or CR LF.
bool is_end_line(std::string_view line) noexcept
{
    return line == "." || line == ".\r";
}

} // namespace

bool takes_body(std::string_view command) noexcept
{
    const command_spec* c = find_command(surface::socket, command);
    return c != nullptr && c->body;
}

std::string frame_request(std::string_view command, std::string_view body)
{
    std::string out;
    out.reserve(command.size() + body.size() + body.size() / 64 + 8);
    out.append(command);
    out += '\n';
    if (!takes_body(command)) {
        return out;
    }
    std::size_t pos = 0;
    while (pos < body.size()) {
        const std::size_t nl = body.find('\n', pos);
        const std::size_t end = nl == std::string_view::npos ? body.size() : nl + 1;
        if (body[pos] == '.') {
            out += '.'; // RFC 5321 §4.5.2: the server takes it off again
        }
        out.append(body.substr(pos, end - pos));
        pos = end;
    }
    if (!body.empty() && body.back() != '\n') {
        out += '\n';
    }
    out += ".\n";
    return out;
}

frame_state scan_request(std::string_view in, std::size_t& resume, std::string& command, std::string& body,
                         std::string& error)
{
    const std::size_t lf = in.find('\n');
    if (lf == std::string_view::npos || lf > max_command_line) {
        if (in.size() > max_command_line) {
            error = fmt::format("the command line is longer than {} bytes", max_command_line);
            return frame_state::bad;
        }
        return frame_state::incomplete;
    }
    std::string_view line = in.substr(0, lf);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
        line.remove_suffix(1);
    }
    const std::size_t body_start = lf + 1;
    if (!takes_body(line)) {
        if (in.size() > body_start) {
            error = fmt::format("{} bytes after the request's end ('{}' has no body; one request per connection)",
                                in.size() - body_start, verb_of(line).substr(0, 40));
            return frame_state::bad;
        }
        command.assign(line);
        body.clear();
        return frame_state::complete;
    }
    // The end line, from where the last look stopped (always the start of a line).
    std::size_t pos = resume < body_start ? body_start : resume;
    for (;;) {
        const std::size_t nl = in.find('\n', pos);
        if (nl == std::string_view::npos) {
            resume = pos;
            return frame_state::incomplete;
        }
        if (is_end_line(in.substr(pos, nl - pos))) {
            if (in.size() > nl + 1) {
                error = fmt::format("{} bytes after the request's end line (one request per connection)",
                                    in.size() - nl - 1);
                return frame_state::bad;
            }
            break;
        }
        pos = nl + 1;
    }
    command.assign(line);
    body.clear();
    body.reserve(pos - body_start);
    for (std::size_t at = body_start; at < pos;) {
        const std::size_t end = in.find('\n', at) + 1; // every body line ends in a line feed before `pos`
        body.append(in.substr(in[at] == '.' ? at + 1 : at, end - (in[at] == '.' ? at + 1 : at)));
        at = end;
    }
    return frame_state::complete;
}

std::string incomplete_request_error(std::string_view in)
{
    if (in.find('\n') == std::string_view::npos) {
        return "the request ended before its command line's line feed; nothing was done";
    }
    return "the request ended before its end line (a line with a single '.'); nothing was done";
}

} // namespace sipalg::control
