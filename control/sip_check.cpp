// See sip_check.hpp.
#include "control/sip_check.hpp"

#include "control/json.hpp"
#include "sip/framer.hpp"
#include "sip/message.hpp"

#include <fmt/format.h>

#include <memory>

namespace sipalg::control {

sip_check_report sip_check(std::string_view name, std::string_view bytes, const sip::check_options& options, bool as_json)
{
    sip_check_report r;
    auto m = std::make_unique<sip::message>(); // a few KiB of index: not on the stack
    const sip::parse_status status = m->parse(bytes);
    if (!status.ok()) {
        r.clean = false;
        const auto at = m->position_of(status.offset);
        if (as_json) {
            r.text = json{{"file", name}, {"parsed", false}, {"error", sip::parse_error_name(status.error)},
                          {"line", at.line}, {"column", at.column}}
                         .dump(-1, ' ', false, json::error_handler_t::replace);
        } else {
            r.text = fmt::format("{}: not parsed: {} (line {}, column {})", name,
                                 sip::parse_error_name(status.error), at.line, at.column);
        }
        return r;
    }
    const sip::findings f = sip::check_message(*m, options);
    r.clean = f.empty();
    const std::string_view call_id = m->value_of(sip::header_type::call_id);
    if (as_json) {
        json list = json::array();
        for (const auto& x : f.list()) {
            const auto at = m->position_of(x.offset);
            list.push_back({{"check", sip::check_name(x.id)}, {"line", at.line}, {"column", at.column},
                            {"field", x.field}, {"detail", x.detail}});
        }
        json j{{"file", name}, {"parsed", true}, {"request", m->is_request()}};
        j["method"] = m->is_request() ? json(m->method_text()) : json(nullptr);
        j["status"] = m->is_request() ? json(nullptr) : json(m->status_code());
        j["call_id"] = call_id;
        j["findings"] = std::move(list);
        j["findings_total"] = f.total();
        r.text = j.dump(-1, ' ', false, json::error_handler_t::replace);
        return r;
    }
    r.text = fmt::format("{}: {} {}, Call-ID {}, {} finding{}", name,
                         m->is_request() ? std::string(m->method_text()) : fmt::format("{}", m->status_code()),
                         m->is_request() ? "request" : "response", call_id.empty() ? "(none)" : call_id, f.total(),
                         f.total() == 1 ? "" : "s");
    for (const auto& x : f.list()) {
        const auto at = m->position_of(x.offset);
        r.text += fmt::format("\n  line {} column {}: {} ({}): {}", at.line, at.column, sip::check_name(x.id), x.field,
                              x.detail);
    }
    if (f.total() > f.list().size()) {
        r.text += fmt::format("\n  ... and {} more", f.total() - f.list().size());
    }
    return r;
}

} // namespace sipalg::control

namespace sipalg::control {

std::vector<sip_check_report> sip_check_stream(std::string_view name, std::string_view bytes,
                                               const sip::check_options& options, bool as_json)
{
    std::vector<sip_check_report> out;
    sip::stream_framer framer(sip::message::max_size);
    std::size_t offset = 0;
    unsigned n = 0;
    const sip::frame_error error = framer.feed(bytes, [&](const sip::frame& f) {
        if (f.kind == sip::frame_kind::message) {
            out.push_back(sip_check(fmt::format("{}#{}", name, ++n), f.bytes, options, as_json));
        }
        offset += f.bytes.size();
    });
    if (error != sip::frame_error::none || framer.pending() != 0) {
        sip_check_report r;
        r.clean = false;
        const std::string_view why = error != sip::frame_error::none ? sip::frame_error_name(error) : "incomplete";
        r.text = as_json ? json{{"file", name}, {"stream_error", why}, {"offset", offset}}.dump(
                               -1, ' ', false, json::error_handler_t::replace)
                         : fmt::format("{}: stream refused: {} at byte {}", name, why, offset);
        out.push_back(std::move(r));
    }
    return out;
}

} // namespace sipalg::control
