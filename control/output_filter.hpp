#pragma once
// FortiOS output filters (README "FortiOS CLI"): `show ... | grep [-c] [-i] [-n] [-v] [-A N] [-B N]
// [-C N] PATTERN`, after any show, get or diagnose line. PATTERN is a POSIX basic regular expression, as
// busybox grep on FortiOS takes it; several `| grep` run one after the other.
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sipalg::control {

class grep_filter {
public:
    struct options {
        bool count = false;        // -c: only how many lines matched
        bool ignore_case = false;  // -i
        bool line_numbers = false; // -n: "N:" before a matching line, "N-" before context
        bool invert = false;       // -v: the lines that do not match
        unsigned after = 0;        // -A N: lines after each match
        unsigned before = 0;       // -B N: lines before each match
        bool context = false;      // -A, -B or -C given (even 0): groups are set apart by "--"
    };

    // The compiled filter, or null with `error` set (a bad option or regular expression).
    static std::unique_ptr<grep_filter> make(std::string_view pattern, options o, std::string& error);
    ~grep_filter();
    grep_filter(const grep_filter&) = delete;
    grep_filter& operator=(const grep_filter&) = delete;

    // The filtered text ("--" between groups of context lines that do not touch, as grep prints).
    std::string run(std::string_view text) const;

private:
    grep_filter(options o);
    bool matches(const std::string& line) const;

    options options_;
    struct compiled;
    std::unique_ptr<compiled> re_;
};

// A command line cut at its first "|": the command's words, then the filters. `words` is what
// cli_words made of the line. False with `error` when what follows "|" is not grep as above.
struct output_pipe {
    std::vector<std::unique_ptr<grep_filter>> filters;
    std::string run(std::string text) const;
};
bool split_output_pipe(std::span<const std::string> words, std::vector<std::string>& command, output_pipe& pipe,
                       std::string& error);

} // namespace sipalg::control
