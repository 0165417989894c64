// A YAML document as a plain tree of nodes with source positions: what the configuration reader walks.
//
// Configurations are YAML, and one with 10,000 policies is over a megabyte: yaml-cpp takes about 300 ms
// to load that (a node graph of shared pointers), three times the whole apply budget. So parse() first
// tries a purpose-built reader of the subset configurations are written in (block and flow mappings and
// sequences, plain, single- and double-quoted one-line scalars, comments) and hands anything outside
// it (anchors, tags, block scalars, multi-line scalars, directives, unusual escapes, tabs, CR) to
// yaml-cpp, converting its result into the same tree. The subset reader never guesses: where it
// accepts a document it yields exactly what yaml-cpp yields (test/fuzz/fuzz_yaml.cpp checks that), so
// the fallback changes speed, never meaning. libyaml's event API building the same tree takes about twice
// the subset reader's time on the 10,000-policy document (test/bench/bench_config.cpp measures both).
#pragma once

#include "control/config.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sipalg::control::yaml {

enum class kind : std::uint8_t { null, scalar, sequence, map };

struct node {
    kind type = kind::null;
    source_position where;
    std::string text;           // a scalar's value
    std::vector<node> children; // a sequence's items; a map's keys and values, alternating, in order

    bool is_null() const { return type == kind::null; }
    bool is_scalar() const { return type == kind::scalar; }
    bool is_sequence() const { return type == kind::sequence; }
    bool is_map() const { return type == kind::map; }
    std::size_t entries() const { return children.size() / 2; }
    const node& key(std::size_t i) const { return children[2 * i]; }
    const node& value(std::size_t i) const { return children[2 * i + 1]; }
};

struct parse_result {
    node root;
    std::optional<config_error> error; // a syntax error, with its position
};

// The document, by the subset reader when it can and by yaml-cpp otherwise.
parse_result parse(std::string_view text);

// The two ways separately, for the differential fuzz target and the tests: the subset reader says
// nothing (nullopt) about a document outside its subset, including malformed ones.
std::optional<node> parse_subset(std::string_view text);
parse_result parse_with_yaml_cpp(std::string_view text);

} // namespace sipalg::control::yaml

namespace sipalg::control {

// The configuration of a tree made without text (the CLI's edits, control/cli.cpp): load_yaml and
// load_yaml_sections after parsing. Errors are at the nodes' positions.
load_result load_node(const yaml::node& root);
load_result load_node_sections(const yaml::node& root);

} // namespace sipalg::control
