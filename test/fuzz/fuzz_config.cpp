// libFuzzer target: the YAML configuration reader and the route plan take any bytes and answer with a
// configuration or errors, never a crash (ARCHITECTURE.md "Errors by plane").
#include "control/config.hpp"
#include "control/route_plan.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const auto r = sipalg::control::load_yaml(std::string_view(reinterpret_cast<const char*>(data), size));
    if (r.ok()) {
        (void)sipalg::control::build_plan(r.cfg);
    }
    return 0;
}
