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

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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
