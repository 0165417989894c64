// libFuzzer target: the YAML configuration reader, the FortiOS CLI reader and the route plan take any
// bytes and answer with a configuration or errors, never a crash (ARCHITECTURE.md "Errors by plane");
// what they accept shows (as YAML and as CLI) and reads back unchanged. The control socket's request
// framing reads the same request whole or a byte at a time, and gives back any body it framed; a
// line's output filters parse or refuse, and run on the text.
#include "control/cli.hpp"
#include "control/config.hpp"
#include "control/output_filter.hpp"
#include "control/request.hpp"
#include "control/route_plan.hpp"

#include <string>
#include <vector>

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace sipalg::control;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto r = load_yaml(text);
    if (r.ok()) {
        (void)build_plan(r.cfg);
        const auto again = load_yaml(to_yaml(r.cfg));
        if (!again.ok() || to_yaml(again.cfg) != to_yaml(r.cfg)) {
            std::abort(); // shown configuration that does not read back
        }
    }
    const auto c = apply_cli(config{}, text);
    if (c.ok() && c.changed) {
        (void)build_plan(c.cfg);
        // What the CLI made shows as CLI that makes it again, and as YAML that reads back.
        std::string shown;
        show_cli(c.cfg, {"full-configuration"}, shown);
        const auto again = apply_cli(config{}, shown);
        const auto yaml = load_yaml(to_yaml(c.cfg));
        if (!again.ok() || to_yaml(again.cfg) != to_yaml(c.cfg) || !yaml.ok() || to_yaml(yaml.cfg) != to_yaml(c.cfg)) {
            std::abort();
        }
    }

    // Framing: whole, and byte by byte, the same verdict and the same request.
    std::string command[2];
    std::string body[2];
    std::string error;
    std::size_t resume = 0;
    const frame_state whole = scan_request(text, resume, command[0], body[0], error);
    std::string in;
    resume = 0;
    frame_state piecewise = frame_state::incomplete;
    for (std::size_t i = 0; i < text.size() && piecewise == frame_state::incomplete; ++i) {
        in += text[i];
        piecewise = scan_request(in, resume, command[1], body[1], error);
    }
    if (text.empty()) {
        piecewise = whole;
    }
    // A complete frame is complete at its last byte: byte by byte it ends there too (a bad one may be
    // found earlier, when what follows a complete request is more bytes).
    if ((whole == frame_state::complete) != (piecewise == frame_state::complete && in.size() == text.size()) ||
        (whole == frame_state::complete && (command[0] != command[1] || body[0] != body[1]))) {
        std::abort();
    }
    // A body framed by the client's rule comes back as it was (with its final line feed).
    if (whole == frame_state::complete && takes_body(command[0])) {
        const std::string again = frame_request(command[0], body[0]);
        std::string c2;
        std::string b2;
        resume = 0;
        if (scan_request(again, resume, c2, b2, error) != frame_state::complete || c2 != command[0] || b2 != body[0]) {
            std::abort();
        }
    }

    // Output filters of the first line, run over the whole text.
    std::vector<std::string> words;
    if (cli_words(text.substr(0, std::min(text.find('\n'), text.size())), words)) {
        std::vector<std::string> cmd;
        output_pipe pipe;
        if (split_output_pipe(words, cmd, pipe, error)) {
            (void)pipe.run(std::string(text));
        }
    }
    return 0;
}
