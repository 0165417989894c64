// The stages of an apply on the control core, for a configuration with N policies (default 10,000, the
// document scripts/bench/apply sends): read the YAML, merge the sections into the running
// configuration, check references, compile the plan, and write the configuration back as YAML (what
// is saved to the file); the configuration shown as FortiOS CLI and that text applied back. Prints the
// median of several runs of each as `result config_<stage>_ms`.
// scripts/bench/apply measures the whole request through the daemon; this says where the time goes.
#include "control/cli.hpp"
#include "control/config.hpp"
#include "control/route_plan.hpp"
#include "control/yaml.hpp"

#include <fmt/format.h>
#include <yaml.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

using namespace sipalg::control;

namespace {

std::string document(int policies)
{
    std::string s = "system:\n  interface:\n"
                    "    port1: {dpdk-port: net_pcap0, ip: 10.1.255.254/16, macaddr: \"02:00:00:00:00:01\"}\n"
                    "    wan1: {dpdk-port: net_null0, ip: 198.51.100.1/24}\n"
                    "firewall:\n  address:\n";
    for (int i = 0; i < 256; ++i) {
        s += fmt::format("    net{}: {{subnet: 10.{}.0.0/16}}\n", i, i);
    }
    s += "  policy:\n";
    for (int i = 1; i <= policies; ++i) {
        s += fmt::format("    {}: {{name: p{}, srcintf: port1, dstintf: wan1, srcaddr: net{}, dstaddr: all, "
                         "service: {}, action: accept, nat: enable}}\n",
                         i, i, i % 256, i % 3 == 0 ? "SIP" : "ALL");
    }
    return s;
}

// The alternative the YAML reader was weighed against: libyaml's event API (yaml_parser_parse) building
// the same tree. Measured here (config_yaml_libyaml_ms) beside the subset reader (config_yaml_tree_ms).
bool libyaml_node(yaml_parser_t& p, yaml_event_t& ev, yaml::node& out)
{
    out.where = {static_cast<int>(ev.start_mark.line) + 1, static_cast<int>(ev.start_mark.column) + 1};
    if (ev.type == YAML_SCALAR_EVENT) {
        out.type = yaml::kind::scalar;
        out.text.assign(reinterpret_cast<const char*>(ev.data.scalar.value), ev.data.scalar.length);
        yaml_event_delete(&ev);
        return true;
    }
    if (ev.type != YAML_SEQUENCE_START_EVENT && ev.type != YAML_MAPPING_START_EVENT) {
        yaml_event_delete(&ev);
        return false;
    }
    out.type = ev.type == YAML_MAPPING_START_EVENT ? yaml::kind::map : yaml::kind::sequence;
    yaml_event_delete(&ev);
    for (;;) {
        yaml_event_t e;
        if (yaml_parser_parse(&p, &e) == 0) {
            return false;
        }
        if (e.type == YAML_SEQUENCE_END_EVENT || e.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&e);
            return true;
        }
        out.children.emplace_back();
        if (!libyaml_node(p, e, out.children.back())) {
            return false;
        }
    }
}

std::optional<yaml::node> parse_with_libyaml(const std::string& text)
{
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, reinterpret_cast<const unsigned char*>(text.data()), text.size());
    std::optional<yaml::node> root;
    for (bool more = true; more;) {
        yaml_event_t ev;
        if (yaml_parser_parse(&p, &ev) == 0) {
            root.reset();
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            more = false;
            yaml_event_delete(&ev);
            break;
        case YAML_STREAM_START_EVENT:
        case YAML_DOCUMENT_START_EVENT:
        case YAML_DOCUMENT_END_EVENT:
            yaml_event_delete(&ev);
            break;
        default:
            root.emplace();
            if (!libyaml_node(p, ev, *root)) {
                root.reset();
                more = false;
            }
        }
    }
    yaml_parser_delete(&p);
    return root;
}

template <class F>
double median_ms(int runs, F&& f)
{
    std::vector<double> t;
    for (int i = 0; i < runs; ++i) {
        const auto start = std::chrono::steady_clock::now();
        f();
        t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

} // namespace

int main(int argc, char** argv)
{
    const int policies = argc > 1 ? std::atoi(argv[1]) : 10000;
    const int runs = argc > 2 ? std::atoi(argv[2]) : 7;
    const std::string text = document(policies);
    std::printf("# %d policies, %zu bytes, %d runs\n", policies, text.size(), runs);
    const auto loaded = load_yaml_sections(text);
    if (!loaded.errors.empty()) {
        std::fprintf(stderr, "%s\n", format_error(loaded.errors.front()).c_str());
        return 1;
    }
    const config running;
    const config merged = merge_sections(running, loaded.cfg, loaded.sections);
    std::printf("result config_yaml_tree_ms %.2f ms\n", median_ms(runs, [&] { (void)yaml::parse(text); }));
    if (!parse_with_libyaml(text)) {
        std::fprintf(stderr, "libyaml did not read the document\n");
        return 1;
    }
    std::printf("result config_yaml_libyaml_ms %.2f ms\n", median_ms(runs, [&] { (void)parse_with_libyaml(text); }));
    std::printf("result config_read_ms %.2f ms\n", median_ms(runs, [&] { (void)load_yaml_sections(text); }));
    std::printf("result config_merge_ms %.2f ms\n",
                median_ms(runs, [&] { (void)merge_sections(running, loaded.cfg, loaded.sections); }));
    std::printf("result config_check_ms %.2f ms\n", median_ms(runs, [&] { (void)check_config(merged); }));
    std::printf("result config_plan_ms %.2f ms\n", median_ms(runs, [&] { (void)build_plan(merged); }));
    std::printf("result config_emit_ms %.2f ms\n", median_ms(runs, [&] { (void)to_yaml(merged); }));
    // The same configuration as FortiOS CLI (show full-configuration), and that text applied back onto it
    // (scripts/bench/apply's cli_apply_ms_10k_policies, without the daemon).
    std::string cli_text;
    std::printf("result config_cli_show_ms %.2f ms\n", median_ms(runs, [&] {
                    cli_text.clear();
                    show_cli(merged, {"full-configuration"}, cli_text);
                }));
    std::printf("result config_cli_apply_ms %.2f ms\n", median_ms(runs, [&] {
                    if (!apply_cli(merged, cli_text).ok()) {
                        std::fprintf(stderr, "the CLI text was refused\n");
                        std::exit(1);
                    }
                }));
    return 0;
}
