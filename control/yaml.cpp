// See yaml.hpp. The subset reader follows YAML 1.2 (https://yaml.org/spec/1.2.2/) chapters 6 to 8 for
// what it accepts, and gives up (nullopt) wherever the spec or yaml-cpp would need more than it knows.
#include "control/yaml.hpp"
#include "control/json.hpp"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <iterator>

namespace sipalg::control::yaml {

namespace {

// Implicit keys are limited to 1024 characters (spec 7.4.2).
constexpr std::size_t max_key_length = 1024;
// Nesting deeper than this is handed to yaml-cpp rather than risk the stack.
constexpr int max_depth = 64;

// Tabs, carriage returns and control characters have rules of their own (spec 5.5, 6.1); so have other
// encodings (byte order marks, UTF-16), the characters YAML 1.1 reads as line breaks (NEL, LS, PS) and
// the C1 controls yaml-cpp treats specially. Documents with any of them are yaml-cpp's.
bool has_special_characters(std::string_view s)
{
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto u = static_cast<unsigned char>(s[i]);
        if ((u < 0x20 && s[i] != '\n') || u == 0x7f) {
            return true;
        }
        if (u == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xa0) {
            return true; // U+0080 to U+009F
        }
        if (u == 0xe2 || u == 0xef) {
            const auto three = s.substr(i, 3);
            if (three == "\xe2\x80\xa8" || three == "\xe2\x80\xa9" || three == "\xef\xbb\xbf") {
                return true;
            }
        }
    }
    return !is_utf8(s);
}

class subset_reader {
public:
    explicit subset_reader(std::string_view text) : s_(text) {}

    std::optional<node> document()
    {
        if (has_special_characters(s_)) {
            return std::nullopt;
        }
        // One optional "---" line first; any other marker or directive is yaml-cpp's.
        if (s_.starts_with("---") && (s_.size() == 3 || s_[3] == '\n')) {
            p_ = 3;
        }
        node root;
        const int indent = next_content();
        if (indent >= 0) {
            block(root, indent, 0);
            if (ok_ && next_content() >= 0) {
                ok_ = false; // content after the root node (less indented lines, "...", a second document)
            }
        }
        if (!ok_) {
            return std::nullopt;
        }
        return root;
    }

private:
    char at(std::size_t k = 0) const { return p_ + k < s_.size() ? s_[p_ + k] : '\0'; }
    bool end() const { return p_ >= s_.size(); }
    // A separation after an indicator: a space, the end of the line or of the text.
    static bool blank(char c) { return c == ' ' || c == '\n' || c == '\0'; }
    int column() const { return static_cast<int>(p_ - line_start_); }
    source_position here() const { return {line_, column() + 1}; }
    bool comment_starts() const { return at() == '#' && (p_ == line_start_ || s_[p_ - 1] == ' '); }

    // Where the reader is, to look ahead and come back.
    struct cursor {
        std::size_t p;
        int line;
        std::size_t line_start;
    };
    cursor mark() const { return {p_, line_, line_start_}; }
    void rewind(const cursor& c)
    {
        p_ = c.p;
        line_ = c.line;
        line_start_ = c.line_start;
    }

    void skip_spaces()
    {
        while (at() == ' ') {
            ++p_;
        }
    }

    void skip_line()
    {
        while (!end() && at() != '\n') {
            ++p_;
        }
    }

    void newline()
    {
        ++p_;
        ++line_;
        line_start_ = p_;
    }

    // Moves to the next character that is not a space, a comment or a line break; returns its column, or
    // -1 at the end of the text. Document markers at column 0 end the subset.
    int next_content()
    {
        for (;;) {
            skip_spaces();
            if (comment_starts()) {
                skip_line();
            }
            if (end()) {
                return -1;
            }
            if (at() == '\n') {
                newline();
                continue;
            }
            if (p_ == line_start_ && (s_.substr(p_).starts_with("---") || s_.substr(p_).starts_with("...")) &&
                blank(at(3))) {
                ok_ = false;
                return -1;
            }
            return column();
        }
    }

    // After a node in block context only spaces and a comment may follow on its line.
    void end_of_line()
    {
        skip_spaces();
        if (comment_starts()) {
            skip_line();
        }
        if (!end() && at() != '\n') {
            ok_ = false;
        }
    }

    // A block node starting here, at column `indent`.
    void block(node& out, int indent, int depth)
    {
        if (depth > max_depth) {
            ok_ = false;
            too_deep_ = here();
            return;
        }
        if (at() == '-' && blank(at(1))) {
            sequence(out, indent, depth);
        } else if (is_key()) {
            mapping(out, indent, depth);
        } else {
            inline_value(out, indent, depth);
        }
    }

    // Whether an implicit key ("key:" followed by a space or the end of the line) starts here.
    bool is_key()
    {
        const cursor saved = mark();
        const bool was_ok = ok_;
        node key;
        scalar(key, false);
        const bool is = ok_ && at() == ':' && blank(at(1));
        rewind(saved);
        ok_ = was_ok;
        return is;
    }

    // A flow collection or a one-line scalar as a block node: nothing may follow on its line, and no more
    // indented line may continue it (that would be a multi-line scalar or an error).
    void inline_value(node& out, int indent, int depth)
    {
        if (at() == '{' || at() == '[') {
            flow(out, indent, depth);
        } else {
            scalar(out, false);
        }
        if (!ok_) {
            return;
        }
        end_of_line();
        const cursor saved = mark();
        if (ok_ && next_content() > indent) {
            ok_ = false;
        }
        rewind(saved);
    }

    void mapping(node& out, int indent, int depth)
    {
        out.type = kind::map;
        out.where = here();
        auto& kids = scratch_[static_cast<std::size_t>(depth)];
        kids.clear();
        for (;;) {
            node& key = kids.emplace_back();
            const auto key_start = p_;
            scalar(key, false);
            if (!ok_ || at() != ':' || !blank(at(1)) || p_ - key_start > max_key_length) {
                ok_ = false;
                return;
            }
            ++p_;
            node& value = kids.emplace_back();
            skip_spaces();
            value.where = here();
            if (end() || at() == '\n' || comment_starts()) {
                const cursor saved = mark();
                const int next = next_content();
                if (next > indent) {
                    block(value, next, depth + 1);
                } else if (next == indent && at() == '-' && blank(at(1))) {
                    sequence(value, indent, depth + 1); // "key:" then "- item" at the key's column (spec 8.2.1)
                } else {
                    rewind(saved); // an empty value: null
                }
            } else {
                inline_value(value, indent, depth + 1);
            }
            if (!ok_) {
                return;
            }
            const int next = next_content();
            if (next < indent) {
                adopt(out, kids);
                return;
            }
            if (next > indent || (at() == '-' && blank(at(1)))) {
                ok_ = false;
                return;
            }
        }
    }

    void sequence(node& out, int indent, int depth)
    {
        out.type = kind::sequence;
        out.where = here();
        auto& kids = scratch_[static_cast<std::size_t>(depth)];
        kids.clear();
        for (;;) {
            ++p_; // the '-'
            node& item = kids.emplace_back();
            skip_spaces();
            item.where = here();
            if (end() || at() == '\n' || comment_starts()) {
                const cursor saved = mark();
                const int next = next_content();
                if (next > indent) {
                    block(item, next, depth + 1);
                } else {
                    rewind(saved);
                }
            } else {
                block(item, column(), depth + 1); // a compact mapping or sequence, or a value
            }
            if (!ok_) {
                return;
            }
            const int next = next_content();
            if (next < indent || (next == indent && !(at() == '-' && blank(at(1))))) {
                adopt(out, kids);
                return; // the caller decides whether what follows may follow
            }
            if (next > indent) {
                ok_ = false;
                return;
            }
        }
    }

    // Flow context (spec 7.4): line breaks are spaces, but continuation lines must be indented more than
    // the block around them (yaml-cpp is laxer; the subset keeps to the spec).
    void flow_space(int indent)
    {
        for (;;) {
            skip_spaces();
            if (comment_starts()) {
                skip_line();
            }
            if (at() != '\n') {
                return;
            }
            newline();
            skip_spaces();
            if (column() <= indent && !end() && at() != '\n') {
                ok_ = false;
                return;
            }
        }
    }

    void flow(node& out, int indent, int depth)
    {
        if (depth > max_depth) {
            ok_ = false;
            too_deep_ = here();
            return;
        }
        out.where = here();
        const bool is_map = at() == '{';
        out.type = is_map ? kind::map : kind::sequence;
        const char close = is_map ? '}' : ']';
        auto& kids = scratch_[static_cast<std::size_t>(depth)];
        kids.clear();
        ++p_;
        flow_space(indent);
        while (ok_ && at() != close) {
            if (is_map) {
                node& key = kids.emplace_back();
                const auto key_start = p_;
                flow_scalar(key, indent);
                skip_spaces(); // an implicit key and its ':' are on one line (spec 7.4.2)
                if (!ok_ || key.is_null() || at() != ':' || !(blank(at(1)) || at(1) == ',' || at(1) == '}') ||
                    p_ - key_start > max_key_length) {
                    ok_ = false; // a key without a value, a complex key: yaml-cpp's
                    return;
                }
                ++p_;
                flow_space(indent);
                node& value = kids.emplace_back();
                value.where = here();
                if (at() != ',' && at() != '}') {
                    flow_node(value, indent, depth);
                }
            } else {
                flow_node(kids.emplace_back(), indent, depth);
                flow_space(indent);
                if (at() == ':') {
                    ok_ = false; // a single-pair mapping inside a sequence
                    return;
                }
            }
            flow_space(indent);
            if (at() == ',') {
                ++p_;
                flow_space(indent);
            } else if (at() != close) {
                ok_ = false;
            }
        }
        if (ok_) {
            ++p_;
            adopt(out, kids);
        }
    }

    void flow_node(node& out, int indent, int depth)
    {
        if (at() == '{' || at() == '[') {
            flow(out, indent, depth + 1);
        } else {
            flow_scalar(out, indent);
            if (ok_ && out.is_null() && out.text.empty() && (at() == ',' || at() == ']' || at() == '}')) {
                ok_ = false; // "[a,,b]": an empty entry
            }
        }
    }

    void flow_scalar(node& out, int indent)
    {
        scalar(out, true);
        if (!ok_ || at() != ' ') {
            return;
        }
        // A plain scalar folded over lines ("{a: b\n c}") is yaml-cpp's.
        const cursor saved = mark();
        skip_spaces();
        if (at() == '\n' || comment_starts()) {
            flow_space(indent);
            if (ok_ && at() != ',' && at() != ']' && at() != '}' && at() != ':') {
                ok_ = false;
            }
        }
        rewind(saved);
    }

    // A quoted or plain scalar on one line. Plain "~", "null", "Null", "NULL" are null (spec 10.3.2).
    void scalar(node& out, bool in_flow)
    {
        out.where = here();
        if (at() == '"') {
            double_quoted(out);
            return;
        }
        if (at() == '\'') {
            single_quoted(out);
            return;
        }
        plain(out, in_flow);
    }

    void single_quoted(node& out)
    {
        out.type = kind::scalar;
        ++p_;
        for (;;) {
            if (end() || at() == '\n') {
                ok_ = false; // unterminated or multi-line
                return;
            }
            if (at() == '\'') {
                if (at(1) != '\'') {
                    ++p_;
                    return;
                }
                ++p_;
            }
            out.text += at();
            ++p_;
        }
    }

    static int hex(char c)
    {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    // Double-quoted, with JSON's escapes (what config_emit writes); others are yaml-cpp's.
    void double_quoted(node& out)
    {
        out.type = kind::scalar;
        ++p_;
        for (;;) {
            const char c = at();
            if (end() || c == '\n') {
                ok_ = false;
                return;
            }
            ++p_;
            if (c == '"') {
                return;
            }
            if (c != '\\') {
                out.text += c;
                continue;
            }
            const char e = at();
            ++p_;
            switch (e) {
            case '"': out.text += '"'; break;
            case '\\': out.text += '\\'; break;
            case '/': out.text += '/'; break;
            case 'b': out.text += '\b'; break;
            case 'f': out.text += '\f'; break;
            case 'n': out.text += '\n'; break;
            case 'r': out.text += '\r'; break;
            case 't': out.text += '\t'; break;
            case 'u': {
                unsigned cp = 0;
                for (int i = 0; i < 4; ++i) {
                    const int h = hex(at());
                    if (h < 0) {
                        ok_ = false;
                        return;
                    }
                    cp = cp * 16 + static_cast<unsigned>(h);
                    ++p_;
                }
                if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff)) {
                    ok_ = false; // NUL and surrogate halves
                    return;
                }
                utf8(out.text, cp);
                break;
            }
            default: ok_ = false; return;
            }
        }
    }

    static void utf8(std::string& s, unsigned cp)
    {
        if (cp < 0x80) {
            s += static_cast<char>(cp);
        } else if (cp < 0x800) {
            s += static_cast<char>(0xc0 | (cp >> 6));
            s += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
            s += static_cast<char>(0xe0 | (cp >> 12));
            s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            s += static_cast<char>(0x80 | (cp & 0x3f));
        }
    }

    // A plain scalar (spec 7.3.3) on this line: it ends at ": ", " #" or the end of the line, and in flow
    // context also at a flow indicator. Indicators that may not start one, and characters whose meaning
    // depends on more context than the subset keeps, end the subset.
    void plain(node& out, bool in_flow)
    {
        const char first = at();
        if (std::string_view("?:,[]{}#&*!|>'\"%@`").find(first) != std::string_view::npos || first == '\0' ||
            first == '\n' || first == ' ' || (first == '-' && blank(at(1)))) {
            if (in_flow && (first == ',' || first == ']' || first == '}')) {
                out.type = kind::null; // an empty flow value; the caller decides whether one may be here
                return;
            }
            ok_ = false;
            return;
        }
        const auto start = p_;
        auto last = p_; // one past the last non-space character
        for (;;) {
            const char c = at();
            if (end() || c == '\n' || (c == ':' && (blank(at(1)) || (in_flow && std::string_view(",[]{}").find(at(1)) != std::string_view::npos))) ||
                (c == '#' && s_[p_ - 1] == ' ')) {
                break;
            }
            if (c == '[' || c == ']' || c == '{' || c == '}') {
                if (in_flow && (c == ']' || c == '}')) {
                    break;
                }
                ok_ = false;
                return;
            }
            if (in_flow && c == ',') {
                break;
            }
            if (in_flow && (c == '?' || (c == '-' && blank(at(1))))) {
                ok_ = false; // yaml-cpp reads these as indicators even inside a flow scalar
                return;
            }
            ++p_;
            if (c != ' ') {
                last = p_;
            }
        }
        p_ = last;
        const auto text = s_.substr(start, last - start);
        if (text == "~" || text == "null" || text == "Null" || text == "NULL") {
            out.type = kind::null;
            return;
        }
        out.type = kind::scalar;
        out.text = text;
    }

    // A container's children are gathered in the scratch list of its depth and then moved into a vector
    // of their exact size: one allocation per container instead of a reallocation per doubling.
    static void adopt(node& out, std::vector<node>& kids)
    {
        out.children.reserve(kids.size());
        std::move(kids.begin(), kids.end(), std::back_inserter(out.children));
    }

    std::vector<std::vector<node>> scratch_ = std::vector<std::vector<node>>(max_depth + 2);
    std::string_view s_;
    std::size_t p_ = 0;
    int line_ = 1;
    std::size_t line_start_ = 0;
    bool ok_ = true;

public:
    // Where the document went deeper than max_depth, if it did (line 0: it did not).
    source_position too_deep_;
};

source_position position_of(const YAML::Node& n)
{
    const auto m = n.Mark();
    if (m.is_null()) {
        return {};
    }
    return {m.line + 1, m.column + 1};
}

node convert(const YAML::Node& n)
{
    node out;
    out.where = position_of(n);
    if (n.IsScalar()) {
        out.type = kind::scalar;
        out.text = n.Scalar();
    } else if (n.IsSequence()) {
        out.type = kind::sequence;
        out.children.reserve(n.size());
        for (const auto& item : n) {
            out.children.push_back(convert(item));
        }
    } else if (n.IsMap()) {
        out.type = kind::map;
        out.children.reserve(2 * n.size());
        // yaml-cpp's map iterator yields a temporary pair; its nodes are handles, copied here.
        for (const auto& entry : n) {
            out.children.push_back(convert(entry.first));
            out.children.push_back(convert(entry.second));
        }
    }
    return out;
}

} // namespace

std::optional<node> parse_subset(std::string_view text)
{
    return subset_reader(text).document();
}

parse_result parse_with_yaml_cpp(std::string_view text)
{
    parse_result r;
    try {
        r.root = convert(YAML::Load(std::string(text)));
    } catch (const YAML::DeepRecursion& e) {
        r.error = config_error{{e.mark.line + 1, e.mark.column + 1},
                               fmt::format("the document nests deeper than {} levels", e.depth())};
    } catch (const YAML::ParserException& e) {
        r.error = config_error{{e.mark.line + 1, e.mark.column + 1}, e.msg};
    } catch (const YAML::Exception& e) {
        r.error = config_error{{}, e.what()};
    }
    return r;
}

parse_result parse(std::string_view text)
{
    subset_reader subset(text);
    if (auto root = subset.document()) {
        return {std::move(*root), std::nullopt};
    }
    // No configuration nests that deep (its deepest is a handful of levels): said as it is, rather than
    // whatever yaml-cpp makes of it.
    if (subset.too_deep_.line != 0) {
        return {node{}, config_error{subset.too_deep_, fmt::format("the document nests deeper than {} levels; no "
                                                                   "configuration does",
                                                                   max_depth)}};
    }
    return parse_with_yaml_cpp(text);
}

} // namespace sipalg::control::yaml
