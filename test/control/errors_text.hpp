// The errors of a reader's result (load_result, cli_result), one "line:column: message" a line: what
// the control tests print when an assertion about them fails.
#pragma once

#include "control/config.hpp"

#include <string>

namespace sipalg::test {

template <class Result>
std::string dump(const Result& r)
{
    std::string s;
    for (const auto& e : r.errors) {
        s += control::format_error(e) + "\n";
    }
    return s;
}

} // namespace sipalg::test
