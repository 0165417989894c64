// sipalgctl: the operator's client. One command table (STYLE.md item 17); the control-socket commands
// arrive with the control-socket issue. Exit status: 0 all good, 1 something to report (a finding, a
// refused request), 2 usage errors.
#include "control/sip_check.hpp"

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace po = boost::program_options;
using namespace sipalg;

namespace {

int cmd_sip_check(const std::vector<std::string>& args)
{
    sip::check_options options;
    bool json = false;
    bool stream = false;
    std::vector<std::string> files;
    po::options_description d("sipalgctl sip-check [options] FILE... (\"-\" reads standard input)");
    // clang-format off
    d.add_options()
        ("help,h", "show this help")
        ("json", po::bool_switch(&json), "one JSON object per message")
        ("stream", po::bool_switch(&stream),
            "each FILE is a TCP byte stream: frame it into messages by Content-Length (RFC 3261 18.3)")
        ("max-line-length", po::value(&options.max_line_length)->default_value(options.max_line_length),
            "report header lines longer than this (0: no limit)")
        ("max-body-length", po::value(&options.max_body_length)->default_value(options.max_body_length),
            "report bodies longer than this (0: no limit)")
        ("require-require", po::bool_switch(&options.require_require), "report requests without Require")
        ("require-proxy-require", po::bool_switch(&options.require_proxy_require),
            "report requests without Proxy-Require");
    // clang-format on
    po::options_description hidden;
    hidden.add_options()("file", po::value(&files));
    po::options_description all;
    all.add(d).add(hidden);
    po::positional_options_description pos;
    pos.add("file", -1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        fmt::print(stderr, "sipalgctl sip-check: {}\n", e.what());
        return 2;
    }
    if (vm.count("help") != 0) {
        std::cout << d << "\n";
        return 0;
    }
    if (files.empty()) {
        fmt::print(stderr, "sipalgctl sip-check: no FILE given (use - for standard input)\n");
        return 2;
    }
    int status = 0;
    for (const auto& file : files) {
        std::string bytes;
        if (file == "-") {
            bytes.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
        } else {
            std::ifstream in(file, std::ios::binary);
            if (!in) {
                fmt::print(stderr, "sipalgctl sip-check: cannot read {}\n", file);
                status = 2;
                continue;
            }
            std::ostringstream s;
            s << in.rdbuf();
            bytes = s.str();
        }
        const auto reports = stream ? control::sip_check_stream(file, bytes, options, json)
                                    : std::vector{control::sip_check(file, bytes, options, json)};
        for (const auto& report : reports) {
            std::cout << report.text << "\n";
            if (!report.clean && status == 0) {
                status = 1;
            }
        }
    }
    return status;
}

struct command {
    const char* name;
    int (*handler)(const std::vector<std::string>&);
    const char* help;
};

constexpr command commands[] = {
    {"sip-check", cmd_sip_check, "check raw SIP messages in files as the ALG would (no daemon needed)"},
};

void usage()
{
    std::cout << "usage: sipalgctl COMMAND [options]\n\ncommands:\n";
    for (const auto& c : commands) {
        std::cout << fmt::format("  {:<12} {}\n", c.name, c.help);
    }
    std::cout << "\nsipalgctl COMMAND --help shows a command's options.\n";
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2 || std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h") {
        usage();
        return argc < 2 ? 2 : 0;
    }
    const std::string_view name = argv[1];
    for (const auto& c : commands) {
        if (name == c.name) {
            try {
                return c.handler(std::vector<std::string>(argv + 2, argv + argc));
            } catch (const std::exception& e) {
                fmt::print(stderr, "sipalgctl: {}\n", e.what());
                return 2;
            }
        }
    }
    fmt::print(stderr, "sipalgctl: unknown command '{}'\n", name);
    usage();
    return 2;
}
