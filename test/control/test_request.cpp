// Control requests framed (control/request.hpp): a request is complete only at its frame's end, a body
// comes back byte for byte after dot-stuffing (RFC 5321 §4.5.2), and it is read the same whether it
// arrives whole or a byte at a time.
#include "control/request.hpp"

#include <catch2/catch.hpp>

using namespace sipalg::control;

namespace {

struct scanned {
    frame_state state;
    std::string command;
    std::string body;
    std::string error;
};

// The request fed `step` bytes at a time, as a server receives it.
scanned scan(std::string_view wire, std::size_t step)
{
    std::string in;
    std::size_t resume = 0;
    scanned s{frame_state::incomplete, {}, {}, {}};
    for (std::size_t at = 0; at < wire.size() && s.state == frame_state::incomplete; at += step) {
        in.append(wire.substr(at, step));
        s.state = scan_request(in, resume, s.command, s.body, s.error);
    }
    return s;
}

} // namespace

TEST_CASE("a body comes through the frame unchanged, whole or a byte at a time")
{
    const std::string bodies[] = {
        "",
        "firewall:\n  policy:\n    1: {name: a}\n",
        "...\n",
        ".\n",
        "..\n.x\n. \n",
        "line\r\n.\r\nmore\r\n",
        "config system settings\nend",
        "\n\n",
    };
    for (const auto& body : bodies) {
        const std::string wire = frame_request("apply", body);
        for (std::size_t step : {wire.size(), std::size_t{1}, std::size_t{3}}) {
            const scanned s = scan(wire, step);
            INFO(body << " step " << step);
            REQUIRE(s.state == frame_state::complete);
            CHECK(s.command == "apply");
            const bool newline_added = !body.empty() && body.back() != '\n';
            CHECK(s.body == (newline_added ? body + "\n" : body));
        }
    }
}

TEST_CASE("stuffing doubles a leading dot and the end line is the only lone dot")
{
    CHECK(frame_request("cli", "a\n.b\n..\n") == "cli\na\n..b\n...\n.\n");
    CHECK(frame_request("stats", "ignored") == "stats\n");
    CHECK(frame_request("cli", "") == "cli\n.\n");
}

TEST_CASE("commands without a body end at their line feed")
{
    scanned s = scan("stats\n", 1);
    REQUIRE(s.state == frame_state::complete);
    CHECK(s.command == "stats");
    s = scan("sessions dport=5060 \r\n", 2);
    REQUIRE(s.state == frame_state::complete);
    CHECK(s.command == "sessions dport=5060");
    CHECK(scan("clear proto=17", 100).state == frame_state::incomplete);
}

TEST_CASE("a request without its end is incomplete, and says so")
{
    for (const std::string_view cut : {"apply", "apply\n", "apply\nfirewall:\n", "apply\nfirewall:\n.", "cli\r\n.\r"}) {
        INFO(cut);
        CHECK(scan(cut, 1).state == frame_state::incomplete);
        CHECK(scan(cut, cut.size()).state == frame_state::incomplete);
    }
    CHECK(incomplete_request_error("clea").find("line feed") != std::string::npos);
    CHECK(incomplete_request_error("apply\nx: 1\n").find("end line") != std::string::npos);
}

TEST_CASE("bytes after the end, and an endless command line, are refused")
{
    scanned s = scan("stats\nclear\n", 100);
    CHECK(s.state == frame_state::bad);
    CHECK(s.error.find("one request per connection") != std::string::npos);
    CHECK(scan("cli\nshow\n.\nclear\n", 100).state == frame_state::bad);
    CHECK(scan(std::string(max_command_line + 1, 'x'), 1000).state == frame_state::bad);
    CHECK(scan(std::string(max_command_line - 1, 'x') + "\n", 1000).state == frame_state::complete);
}
