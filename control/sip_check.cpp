// See sip_check.hpp.
#include "control/sip_check.hpp"

#include "control/json.hpp"
#include "sip/framer.hpp"
#include "sip/message.hpp"

#include <fmt/format.h>

#include <memory>

namespace sipalg::control {

sip_check_report sip_check(std::string_view name, std::string_view bytes, const sip::check_options& options, bool json)
{
    sip_check_report r;
    auto m = std::make_unique<sip::message>(); // a few KiB of index: not on the stack
    const sip::parse_status status = m->parse(bytes);
    if (!status.ok()) {
        r.clean = false;
        const auto at = m->position_of(status.offset);
        if (json) {
            r.text = fmt::format(R"({{"file":{},"parsed":false,"error":{},"line":{},"column":{}}})", json_string(name),
                                 json_string(sip::parse_error_name(status.error)), at.line, at.column);
        } else {
            r.text = fmt::format("{}: not parsed: {} (line {}, column {})", name,
                                 sip::parse_error_name(status.error), at.line, at.column);
        }
        return r;
    }
    const sip::findings f = sip::check_message(*m, options);
    r.clean = f.empty();
    const std::string_view call_id = m->value_of(sip::header_type::call_id);
    if (json) {
        std::string list;
        for (const auto& x : f.list()) {
            const auto at = m->position_of(x.offset);
            list += fmt::format(R"({}{{"check":{},"line":{},"column":{},"field":{},"detail":{}}})",
                                list.empty() ? "" : ",", json_string(sip::check_name(x.id)), at.line, at.column,
                                json_string(x.field), json_string(x.detail));
        }
        r.text = fmt::format(
            R"({{"file":{},"parsed":true,"request":{},"method":{},"status":{},"call_id":{},"findings":[{}],"findings_total":{}}})",
            json_string(name), m->is_request() ? "true" : "false",
            m->is_request() ? json_string(m->method_text()) : "null",
            m->is_request() ? "null" : std::to_string(m->status_code()), json_string(call_id), list, f.total());
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
                                               const sip::check_options& options, bool json)
{
    std::vector<sip_check_report> out;
    sip::stream_framer framer(sip::message::max_size);
    std::size_t offset = 0;
    unsigned n = 0;
    const sip::frame_error error = framer.feed(bytes, [&](const sip::frame& f) {
        if (f.kind == sip::frame_kind::message) {
            out.push_back(sip_check(fmt::format("{}#{}", name, ++n), f.bytes, options, json));
        }
        offset += f.bytes.size();
    });
    if (error != sip::frame_error::none || framer.pending() != 0) {
        sip_check_report r;
        r.clean = false;
        const std::string_view why = error != sip::frame_error::none ? sip::frame_error_name(error) : "incomplete";
        r.text = json ? fmt::format(R"({{"file":{},"stream_error":{},"offset":{}}})", json_string(name),
                                    json_string(why), offset)
                      : fmt::format("{}: stream refused: {} at byte {}", name, why, offset);
        out.push_back(std::move(r));
    }
    return out;
}

} // namespace sipalg::control
