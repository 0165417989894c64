// See output_filter.hpp.
#include "control/output_filter.hpp"

#include <fmt/format.h>

#include <regex.h>

#include <charconv>

namespace sipalg::control {

namespace {

constexpr std::size_t max_pattern = 1024;
constexpr unsigned max_context = 100000;

bool parse_count(std::string_view s, unsigned& out)
{
    if (s.starts_with('=')) {
        s.remove_prefix(1); // FortiOS writes -A=<trailingCount>
    }
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && ec == std::errc{} && end == s.data() + s.size() && out <= max_context;
}

} // namespace

struct grep_filter::compiled {
    regex_t re;
};

grep_filter::grep_filter(options o) : options_(o) {}

grep_filter::~grep_filter()
{
    if (re_) {
        regfree(&re_->re);
    }
}

std::unique_ptr<grep_filter> grep_filter::make(std::string_view pattern, options o, std::string& error)
{
    if (pattern.size() > max_pattern) {
        error = fmt::format("grep: the pattern is longer than {} bytes", max_pattern);
        return nullptr;
    }
    // Back-references make matching exponential in the worst case; the control core is one thread.
    for (std::size_t i = 0; i + 1 < pattern.size(); ++i) {
        if (pattern[i] == '\\') {
            if (pattern[i + 1] >= '1' && pattern[i + 1] <= '9') {
                error = "grep: back-references (\\1 to \\9) are not supported";
                return nullptr;
            }
            ++i;
        }
    }
    std::unique_ptr<grep_filter> g(new grep_filter(o));
    auto c = std::make_unique<compiled>();
    const std::string p(pattern);
    if (const int rc = regcomp(&c->re, p.c_str(), REG_NOSUB | (o.ignore_case ? REG_ICASE : 0)); rc != 0) {
        char why[256];
        regerror(rc, &c->re, why, sizeof why);
        error = fmt::format("grep: pattern '{}': {}", pattern.substr(0, 80), why);
        return nullptr;
    }
    g->re_ = std::move(c);
    return g;
}

bool grep_filter::matches(const std::string& line) const
{
    return regexec(&re_->re, line.c_str(), 0, nullptr, 0) == 0;
}

std::string grep_filter::run(std::string_view text) const
{
    std::vector<std::string> lines;
    for (std::size_t pos = 0; pos < text.size();) {
        const std::size_t nl = text.find('\n', pos);
        const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
        lines.emplace_back(text.substr(pos, end - pos));
        pos = end + 1;
    }
    std::string out;
    if (options_.count) {
        std::size_t n = 0;
        for (const auto& l : lines) {
            n += matches(l) != options_.invert ? 1u : 0u;
        }
        return fmt::format("{}\n", n);
    }
    const bool context = options_.context;
    std::size_t next = 0;      // the first line not yet printed
    bool printed = false;      // something was
    std::size_t after_left = 0; // context lines still owed after a match
    const auto print = [&](std::size_t i, bool match) {
        if (context && printed && i > next) {
            out += "--\n"; // a gap between groups, as grep marks it
        }
        if (options_.line_numbers) {
            out += fmt::format("{}{}", i + 1, match ? ':' : '-');
        }
        out += lines[i];
        out += '\n';
        printed = true;
        next = i + 1;
    };
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (matches(lines[i]) != options_.invert) {
            const std::size_t from = i > options_.before ? i - options_.before : 0;
            for (std::size_t k = std::max(from, next); k < i; ++k) {
                print(k, false);
            }
            print(i, true);
            after_left = options_.after;
        } else if (after_left != 0) {
            print(i, false);
            --after_left;
        }
    }
    return out;
}

std::string output_pipe::run(std::string text) const
{
    for (const auto& f : filters) {
        text = f->run(text);
    }
    return text;
}

bool split_output_pipe(std::span<const std::string> words, std::vector<std::string>& command, output_pipe& pipe,
                       std::string& error)
{
    std::size_t i = 0;
    command.clear();
    while (i < words.size() && words[i] != "|") {
        command.push_back(words[i++]);
    }
    while (i < words.size()) {
        ++i; // the "|"
        if (i >= words.size() || words[i] != "grep") {
            error = "only '| grep [-c] [-i] [-n] [-v] [-A N] [-B N] [-C N] PATTERN' can follow '|'";
            return false;
        }
        ++i;
        grep_filter::options o;
        // Options first; the first word that is not one is the pattern, whatever it holds.
        while (i < words.size() && words[i].size() > 1 && words[i][0] == '-') {
            const std::string& w = words[i++];
            if (w == "-e") {
                break; // the next word is the pattern even when it starts with "-"
            }
            for (std::size_t k = 1; k < w.size(); ++k) {
                const char c = w[k];
                if (c == 'c' || c == 'i' || c == 'n' || c == 'v') {
                    (c == 'c' ? o.count : c == 'i' ? o.ignore_case : c == 'n' ? o.line_numbers : o.invert) = true;
                    continue;
                }
                if (c == 'A' || c == 'B' || c == 'C') {
                    // The count in the same word (-A2, -A=2) or the next (-A 2).
                    std::string_view n = std::string_view(w).substr(k + 1);
                    if (n.empty() && i < words.size()) {
                        n = words[i++];
                    }
                    unsigned v = 0;
                    if (!parse_count(n, v)) {
                        error = fmt::format("grep -{} needs a number of lines (0 to {})", c, max_context);
                        return false;
                    }
                    o.context = true;
                    if (c != 'B') {
                        o.after = v;
                    }
                    if (c != 'A') {
                        o.before = v;
                    }
                    break;
                }
                error = fmt::format("grep: unknown option -{} (-c -i -n -v -A N -B N -C N)", c);
                return false;
            }
        }
        if (i >= words.size()) {
            error = "grep needs a pattern";
            return false;
        }
        auto f = grep_filter::make(words[i++], o, error);
        if (!f) {
            return false;
        }
        pipe.filters.push_back(std::move(f));
        if (i < words.size() && words[i] != "|") {
            error = fmt::format("grep takes one pattern; quote one with blanks (\"{} {}\")", words[i - 1], words[i]);
            return false;
        }
    }
    return true;
}

} // namespace sipalg::control
