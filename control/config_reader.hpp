#pragma once
// The configuration reader's tools, shared by the section readers (config_yaml.cpp) and the schema's
// field codecs (schema.cpp): a walker of YAML nodes that records errors with positions instead of
// throwing (STYLE.md item 18), so an operator fixes a file in one pass.
#include "control/config.hpp"
#include "control/json.hpp"
#include "control/yaml.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace sipalg::control {

// What a value is, for messages: "firewall policy 7" and "srcintf". Kept as two views and joined only
// when a message is written, so reading a value that is fine builds no string.
struct label {
    label(std::string_view o) : object(o) {} // NOLINT(google-explicit-constructor)
    label(const std::string& o) : object(o) {} // NOLINT(google-explicit-constructor)
    label(const char* o) : object(o) {}        // NOLINT(google-explicit-constructor)
    label(std::string_view o, std::string_view f) : object(o), field(f) {}
    std::string_view object;
    std::string_view field;
};

} // namespace sipalg::control

template <>
struct fmt::formatter<sipalg::control::label> : fmt::formatter<std::string_view> {
    template <class Context>
    auto format(const sipalg::control::label& l, Context& ctx) const
    {
        if (l.field.empty()) {
            return fmt::formatter<std::string_view>::format(l.object, ctx);
        }
        return fmt::format_to(ctx.out(), "{} {}", l.object, l.field);
    }
};

namespace sipalg::control::detail {

// Walks YAML nodes and records errors instead of throwing.
class reader {
public:
    explicit reader(std::vector<config_error>& errors) : errors_(errors) {}

    void error(const yaml::node& at, std::string message)
    {
        error_at(at.where, std::move(message));
    }
    void error_at(source_position where, std::string message)
    {
        errors_.push_back({where, std::move(message)});
    }

    // Calls f(key text, key node, value node) for every entry of a map node, in document order;
    // duplicate keys are errors.
    template <class F>
    void each_entry(const yaml::node& n, std::string_view what, F&& f)
    {
        if (n.is_null()) {
            return;
        }
        if (!n.is_map()) {
            error(n, fmt::format("{} must be a mapping", what));
            return;
        }
        // Small objects (most of them) are checked for duplicates by a scan; large sections by a set.
        std::set<std::string_view> seen;
        const bool use_set = n.entries() > 16;
        for (std::size_t i = 0; i < n.entries(); ++i) {
            const yaml::node& key = n.key(i);
            if (!key.is_scalar()) {
                error(key, fmt::format("{}: keys must be scalars", what));
                continue;
            }
            const std::string& k = key.text;
            if (!is_utf8(k)) {
                error(key, fmt::format("{}: names must be UTF-8 text", what));
                continue;
            }
            const bool duplicate = use_set ? !seen.insert(k).second : [&] {
                for (std::size_t j = 0; j < i; ++j) {
                    if (n.key(j).is_scalar() && n.key(j).text == k) {
                        return true;
                    }
                }
                return false;
            }();
            if (duplicate) {
                error(key, fmt::format("{}: duplicate key '{}'", what, k));
                continue;
            }
            f(k, key, n.value(i));
        }
    }

    std::optional<std::string> scalar(const yaml::node& n, const label& what)
    {
        if (!n.is_scalar()) {
            error(n, fmt::format("{} must be a scalar", what));
            return std::nullopt;
        }
        if (!is_utf8(n.text)) {
            error(n, fmt::format("{} must be UTF-8 text", what));
            return std::nullopt;
        }
        return n.text;
    }

    std::optional<std::uint64_t> integer(const yaml::node& n, const label& what, std::uint64_t min,
                                         std::uint64_t max)
    {
        const auto s = scalar(n, what);
        if (!s) {
            return std::nullopt;
        }
        std::uint64_t v = 0;
        const auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
        if (s->empty() || s->size() > 20 || ec != std::errc{} || end != s->data() + s->size() || v < min ||
            v > max) {
            error(n, fmt::format("{} must be an integer from {} to {}, not '{}'", what, min, max, *s));
            return std::nullopt;
        }
        return v;
    }

    std::optional<bool> enable_disable(const yaml::node& n, const label& what)
    {
        const auto s = scalar(n, what);
        if (!s) {
            return std::nullopt;
        }
        if (*s == "enable") {
            return true;
        }
        if (*s == "disable") {
            return false;
        }
        error(n, fmt::format("{} must be enable or disable, not '{}'", what, *s));
        return std::nullopt;
    }

    // A scalar read by `parse` (which returns an optional); `expected` says what a good value looks like.
    template <class Parse>
    auto parsed(const yaml::node& n, const label& what, Parse parse, std::string_view expected)
        -> decltype(parse(std::string_view{}))
    {
        const auto s = scalar(n, what);
        if (!s) {
            return std::nullopt;
        }
        auto v = parse(*s);
        if (!v) {
            error(n, fmt::format("{} must be {}, not '{}'", what, expected, *s));
        }
        return v;
    }

    std::optional<ipv4_address> address(const yaml::node& n, const label& what)
    {
        return parsed(n, what, parse_ipv4, "an IPv4 address");
    }

    std::optional<ipv4_prefix> prefix(const yaml::node& n, const label& what)
    {
        return parsed(n, what, parse_ipv4_prefix, "'address/length' or 'address netmask'");
    }

    std::optional<mac_address> mac(const yaml::node& n, const label& what)
    {
        return parsed(n, what, parse_mac, "a MAC address like 02:00:00:00:00:01");
    }

    // A space-separated FortiOS list ("ping https") or a YAML sequence of words. A word given twice is
    // there once, as FortiOS keeps such lists (each member is an entry of a table, by name).
    std::vector<std::string> words(const yaml::node& n, const label& what)
    {
        std::vector<std::string> out = all_words(n, what);
        for (std::size_t i = 1; i < out.size();) {
            if (std::find(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(i), out[i]) != out.begin() + static_cast<std::ptrdiff_t>(i)) {
                out.erase(out.begin() + static_cast<std::ptrdiff_t>(i));
            } else {
                ++i;
            }
        }
        return out;
    }

private:
    std::vector<std::string> all_words(const yaml::node& n, const label& what)
    {
        std::vector<std::string> out;
        if (n.is_sequence()) {
            for (const auto& item : n.children) {
                if (const auto s = scalar(item, what)) {
                    out.push_back(*s);
                }
            }
            return out;
        }
        if (const auto s = scalar(n, what)) {
            for (std::size_t i = 0; i < s->size();) {
                const auto start = s->find_first_not_of(' ', i);
                if (start == std::string::npos) {
                    break;
                }
                const auto stop = std::min(s->find(' ', start), s->size());
                out.emplace_back(*s, start, stop - start);
                i = stop;
            }
        }
        return out;
    }

    std::vector<config_error>& errors_;
};

} // namespace sipalg::control::detail
