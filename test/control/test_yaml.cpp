// The YAML subset reader (control/yaml.cpp): what it accepts it reads exactly as yaml-cpp does; what it
// does not know it leaves to yaml-cpp; and what configurations are written in (the shipped examples, the
// shown running configuration) stays on the fast path.
#include "control/config.hpp"
#include "control/yaml.hpp"
#include "test/control/yaml_compare.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

using namespace sipalg;
using namespace sipalg::control;

namespace {

std::string source_root()
{
    const char* root = std::getenv("SIPALG_SOURCE_ROOT");
    return root != nullptr ? root : SIPALG_SOURCE_ROOT_DEFAULT;
}

// The subset reader takes the document, and yaml-cpp reads the same tree from it.
void same_as_yaml_cpp(const std::string& text)
{
    INFO(text);
    const auto subset = yaml::parse_subset(text);
    REQUIRE(subset.has_value());
    const auto full = yaml::parse_with_yaml_cpp(text);
    REQUIRE_FALSE(full.error.has_value());
    CHECK(test::yaml_difference(*subset, full.root) == "");
}

} // namespace

TEST_CASE("the subset reader reads what configurations are written in, as yaml-cpp does")
{
    for (const char* text : {
             "",
             "# only a comment\n",
             "---\na: 1\n",
             "a: 1\nb: two words\nc: 'it''s'\nd: \"q\\\"\\\\\\/\\u00e9\\t\"\n",
             "system:\n  interface:\n    port1: {dpdk-port: net_pcap0, ip: 10.0.0.1/24, macaddr: 02:00:00:00:00:01}\n",
             "a:\n  b:\n  c: 1\nd:\n- x\n- y: 1\n  z: 2\n-\ne: [a, b, {x: 1}]\n",
             "a: {x: 1,\n  y: 2}\nb: a#b # c\n",
             "list: [a, b,]\nmap: {a: 1,}\nempty: {}\nnone: []\n",
             "a: ~\nb: null\nc: \"null\"\nd: Null\ne: NULL\nf:\n",
             "- - a\n  - b\n- c\n",
             "a:\n  - x\n  - y\nb: 1\n",
             "  indented: root\n  second: key\n",
             "a:    \n\n  b: 1   # trailing\n\n\n",
             "-1: minus\n\"quoted key\": v\n'single': w\n",
             "srcaddr: all\nservice: \"SIP HTTP\"\nnat: enable\n",
             "a: {b: [1, 2, {c: d}], e: {f: {g: h}}}\n",
             "caf\xc3\xa9: th\xc3\xa9\n",
             "x: a,b\n",
             "plain: scalar\n# end\n",
         }) {
        same_as_yaml_cpp(text);
    }
}

TEST_CASE("the subset reader leaves to yaml-cpp what it does not know, and parse() still reads it")
{
    for (const char* text : {
             "a: &anchor 1\nb: *anchor\n",
             "a: !!str 1\n",
             "a: |\n  block\n  text\n",
             "a: >\n  folded\n",
             "a: multi\n  line\n",
             "a: \"multi\n  line\"\n",
             "a:\tb\n",
             "a: 1\r\nb: 2\r\n",
             "? complex\n: key\n",
             "%YAML 1.2\n---\na: 1\n",
             "a: 1\n---\nb: 2\n",
             "a: 1\n...\n",
             "a: \"\\x41\"\n",
             "a: {b}\n",
             "a: [b: c]\n",
             "{\"a\":1}\n",
         }) {
        INFO(text);
        CHECK_FALSE(yaml::parse_subset(text).has_value());
        const auto full = yaml::parse_with_yaml_cpp(text);
        const auto r = yaml::parse(text);
        CHECK(r.error.has_value() == full.error.has_value());
        if (!full.error) {
            CHECK(test::yaml_difference(r.root, full.root) == "");
        }
    }
    // An implicit key is at most 1024 characters (spec 7.4.2), in a flow mapping as in a block one
    // (found by fuzz_yaml: the subset reader took a longer flow key, which yaml-cpp refuses).
    for (const std::string& key : {std::string(1025, 'k'), "\"" + std::string(1023, 'k') + "\""}) {
        for (const std::string& text : {"{" + key + ": v}\n", key + ": v\n"}) {
            CHECK_FALSE(yaml::parse_subset(text).has_value());
            CHECK(yaml::parse(text).error.has_value() == yaml::parse_with_yaml_cpp(text).error.has_value());
        }
    }
    same_as_yaml_cpp("{" + std::string(1024, 'k') + ": v}\n");
    // What is anchored reads as the value it names.
    const auto r = yaml::parse("a: &x v\nb: *x\n");
    REQUIRE(r.root.is_map());
    CHECK(r.root.value(1).text == "v");
}

TEST_CASE("malformed documents are errors with their position")
{
    for (const char* text : {"a: b: c\n", "a: [b\n", "a: 1\n b: 2\n", "a:\n  - x\n  y: 1\n"}) {
        INFO(text);
        CHECK_FALSE(yaml::parse_subset(text).has_value());
        const auto r = yaml::parse(text);
        REQUIRE(r.error.has_value());
        CHECK(r.error->where.line >= 1);
    }
}

TEST_CASE("the shipped configurations and the shown running configuration stay on the fast path")
{
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(source_root() + "/conf")) {
        if (entry.path().extension() != ".yaml") {
            continue;
        }
        std::ifstream in(entry.path());
        std::ostringstream text;
        text << in.rdbuf();
        INFO(entry.path().string());
        same_as_yaml_cpp(text.str());
        const auto loaded = load_yaml(text.str());
        REQUIRE(loaded.ok());
        same_as_yaml_cpp(to_yaml(loaded.cfg));
        ++files;
    }
    CHECK(files >= 3);
}

TEST_CASE("deep nesting is handed to yaml-cpp instead of recursing without bound")
{
    const std::string deep = std::string(200, '[') + std::string(200, ']');
    CHECK_FALSE(yaml::parse_subset(deep).has_value());
    std::string block;
    for (int i = 0; i < 100; ++i) {
        block += std::string(static_cast<std::size_t>(i), ' ') + "k:\n";
    }
    CHECK_FALSE(yaml::parse_subset(block).has_value());
}

TEST_CASE("deep nesting is refused with a message that says so, on either reader")
{
    const auto deep = load_yaml("firewall: " + std::string(100, '[') + std::string(100, ']') + "\n");
    REQUIRE(deep.errors.size() == 1);
    CHECK(deep.errors[0].message.find("nests deeper than 64 levels") != std::string::npos);
    CHECK(deep.errors[0].where.line == 1);
    // An anchor first sends the document to yaml-cpp, which has its own limit.
    const auto anchored = load_yaml("firewall: &a " + std::string(5000, '[') + std::string(5000, ']') + "\n");
    REQUIRE(anchored.errors.size() == 1);
    CHECK(anchored.errors[0].message.find("nests deeper than") != std::string::npos);
    // A configuration's own depth is far from it.
    CHECK(load_yaml("firewall:\n  policy:\n    1: {srcaddr: [all], dstaddr: [all]}\n").ok());
}
