#pragma once
// Helpers for the sip/ unit tests: load a fixture from test/sip, parse and check it, and ask about the
// result in the terms the tests use (sets of check names, Via elements, addresses).
#include "sip/checks.hpp"
#include "sip/fields.hpp"
#include "sip/message.hpp"
#include "sip/sdp.hpp"

#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace sipalg::sip::testing {

inline std::string source_root()
{
    const char* root = std::getenv("SIPALG_SOURCE_ROOT");
    return root != nullptr ? root : SIPALG_SOURCE_ROOT_DEFAULT;
}

inline std::string load(const std::string& relative)
{
    std::ifstream in(source_root() + "/test/sip/" + relative, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read fixture " + relative);
    }
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// A fixture, its parse and its findings. The bytes live as long as this object.
struct checked {
    std::string bytes;
    std::unique_ptr<message> m = std::make_unique<message>();
    parse_status status;
    findings f;

    std::set<std::string> checks() const
    {
        std::set<std::string> out;
        for (const auto& x : f.list()) {
            out.emplace(check_name(x.id));
        }
        return out;
    }
    std::string findings_text() const
    {
        std::string out;
        for (const auto& x : f.list()) {
            const auto at = m->position_of(x.offset);
            out += std::string(check_name(x.id)) + " at " + std::to_string(at.line) + ":" + std::to_string(at.column) +
                   " (" + std::string(x.detail) + ")\n";
        }
        return out;
    }
    std::string_view value(header_type t) const
    {
        return m->value_of(t);
    }
    address addr(header_type t) const
    {
        const auto a = parse_address(value(t));
        if (!a) {
            throw std::runtime_error("not an address: " + std::string(value(t)));
        }
        return *a;
    }
    // Every Via element of the message, in order.
    std::vector<via> vias() const
    {
        std::vector<via> out;
        for (const header* h = m->find(header_type::via); h != nullptr; h = m->find_next(header_type::via, h)) {
            for_each_element(m->value(*h), [&](std::string_view e) {
                if (const auto v = parse_via(e)) {
                    out.push_back(*v);
                }
            });
        }
        return out;
    }
};

inline std::unique_ptr<checked> check_bytes(std::string bytes, const check_options& options = {})
{
    auto c = std::make_unique<checked>();
    c->bytes = std::move(bytes);
    c->status = c->m->parse(c->bytes);
    if (c->status.ok()) {
        c->f = check_message(*c->m, options);
    }
    return c;
}

inline std::unique_ptr<checked> check_file(const std::string& relative, const check_options& options = {})
{
    return check_bytes(load(relative), options);
}

inline std::string param(const parameters& p, std::string_view name)
{
    const auto x = p.find(name);
    return x ? std::string(x->value) : std::string("<absent>");
}

} // namespace sipalg::sip::testing
