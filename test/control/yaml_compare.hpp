// Compares two YAML trees (control/yaml.hpp) the way the configuration reader sees them: types, scalar
// text, order, and positions of every node that is not null (yaml-cpp places an empty value at the next
// token, the subset reader after its key: neither is used in messages). Shared by test_yaml and fuzz_yaml.
#pragma once

#include "control/yaml.hpp"

#include <fmt/format.h>

#include <string>

namespace sipalg::test {

// Empty when equal, else where and how they differ.
inline std::string yaml_difference(const control::yaml::node& a, const control::yaml::node& b)
{
    if (a.type != b.type) {
        return fmt::format("{}:{}: type {} vs {}:{}: type {}", a.where.line, a.where.column, static_cast<int>(a.type),
                           b.where.line, b.where.column, static_cast<int>(b.type));
    }
    if (a.is_null()) {
        return {};
    }
    if (a.where.line != b.where.line || a.where.column != b.where.column) {
        return fmt::format("position {}:{} vs {}:{}", a.where.line, a.where.column, b.where.line, b.where.column);
    }
    if (a.text != b.text) {
        return fmt::format("{}:{}: '{}' vs '{}'", a.where.line, a.where.column, a.text, b.text);
    }
    if (a.children.size() != b.children.size()) {
        return fmt::format("{}:{}: {} vs {} children", a.where.line, a.where.column, a.children.size(),
                           b.children.size());
    }
    for (std::size_t i = 0; i < a.children.size(); ++i) {
        if (auto d = yaml_difference(a.children[i], b.children[i]); !d.empty()) {
            return d;
        }
    }
    return {};
}

} // namespace sipalg::test
