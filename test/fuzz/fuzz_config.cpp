// libFuzzer target: the YAML configuration reader, the FortiOS CLI reader and the route plan take any
// bytes and answer with a configuration or errors, never a crash (ARCHITECTURE.md "Errors by plane");
// what they accept shows and reads back unchanged.
#include "control/cli.hpp"
#include "control/config.hpp"
#include "control/route_plan.hpp"

#include <cstddef>
#include <cstdint>
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
    if (c.ok()) {
        (void)build_plan(c.cfg);
    }
    return 0;
}
