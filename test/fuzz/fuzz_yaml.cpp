// libFuzzer target: the YAML subset reader (control/yaml.cpp) against yaml-cpp. Wherever the subset
// reader accepts a document, yaml-cpp must accept it too and yield the same tree (types, text, order,
// positions); anything else is a bug in the subset reader, which must hand such documents to yaml-cpp.
#include "control/yaml.hpp"
#include "test/control/yaml_compare.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace sipalg::control;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto subset = yaml::parse_subset(text);
    if (!subset) {
        return 0;
    }
    const auto full = yaml::parse_with_yaml_cpp(text);
    if (full.error) {
        std::fprintf(stderr, "subset accepted what yaml-cpp rejects: %s\n", full.error->message.c_str());
        std::abort();
    }
    if (const auto d = sipalg::test::yaml_difference(*subset, full.root); !d.empty()) {
        std::fprintf(stderr, "subset and yaml-cpp differ: %s\n", d.c_str());
        std::abort();
    }
    return 0;
}
