// The worker's side of the VoIP logs (ARCHITECTURE.md "Logs"): records written into its log ring, never
// waited for. The control core (control/logging.cpp) turns them into FortiOS's log lines.
#include "dataplane/sip_state.hpp"
#include "dataplane/worker.hpp"
#include "sip/fields.hpp"

#include <rte_cycles.h>

#include <algorithm>

namespace sipalg::dp {

log_record* worker::log_reserve(log_kind kind) noexcept
{
    if (log_ == nullptr) {
        return nullptr;
    }
    log_record* r = log_->reserve();
    if (r == nullptr) {
        counters_.add(counter::log_records_lost);
        return nullptr;
    }
    counters_.add(counter::log_records);
    r->clear_head();
    r->kind = kind;
    r->tsc = now_ != 0 ? now_ : rte_rdtsc();
    r->worker = static_cast<std::uint8_t>(id_);
    return r;
}

namespace {

// The URI of a From or To header as FortiOS logs it (from="sip:alice@10.0.1.2:5060"): the address's URI,
// or the value as written when it is not one.
std::string_view uri_of(const sip::message& m, sip::header_type t) noexcept
{
    const std::string_view v = m.value_of(t);
    if (const auto a = sip::parse_address_lenient(v)) {
        return a->target.text;
    }
    return v;
}

} // namespace

// A call's start (with its signalling session `s` at slot `index`, and the INVITE's From and To) or end,
// when its profile logs call summaries (the control core carries the session from the start to the end).
void worker::log_call(const nat::call_entry& c, log_kind kind, std::uint8_t why, const nat::session* s,
                      std::uint32_t index, const sip::message* m) noexcept
{
    const auto& limits = snap_->firewall.sip_limits;
    if (c.engine != nat::sip_engine::alg || c.voip_profile < 0 || static_cast<std::size_t>(c.voip_profile) >= limits.size() ||
        !limits[static_cast<std::size_t>(c.voip_profile)].log_call_summary) {
        return;
    }
    log_record* r = log_reserve(kind);
    if (r == nullptr) {
        return;
    }
    if (s != nullptr) {
        r->session_id = index;
        r->proto = static_cast<std::uint8_t>(s->key.proto);
    }
    r->policy_id = c.policy_id;
    r->voip_profile = c.voip_profile;
    r->src = c.src;
    r->dst = c.dst;
    r->sport = c.sport;
    r->dport = c.dport;
    r->call_key = c.key;
    r->detail = why;
    r->method = static_cast<std::uint8_t>(sip::method::invite);
    if (kind == log_kind::call_end) {
        r->duration_s = (c.ended - c.created) / nat::ticks_per_second;
    }
    log_record::put(r->call_id, r->call_id_length, c.call_id_text());
    if (m != nullptr) {
        log_record::put(r->from, r->from_length, uri_of(*m, sip::header_type::from));
        log_record::put(r->to, r->to_length, uri_of(*m, sip::header_type::to));
    }
    log_->commit();
}

void worker::log_call_end(const nat::call_entry& c, std::uint8_t why) noexcept
{
    log_call(c, log_kind::call_end, why, nullptr, 0, nullptr);
}

// A message the ALG blocked (44033) or found malformed (44034), when its profile logs violations.
void worker::log_violation(const sip::decision& d, const nat::session& s, std::uint32_t index, unsigned dir,
                           log_kind kind) noexcept
{
    const sip::session_view& view = sip_->view;
    if (view.alg == nullptr || !view.alg->log_violations) {
        return;
    }
    log_record* r = log_reserve(kind);
    if (r == nullptr) {
        return;
    }
    const sip::message& m = sip_->message;
    const flow_key k = dir == 0 ? s.key : s.reply_key(); // the message as it arrived
    r->session_id = index;
    r->policy_id = s.policy_id;
    r->voip_profile = s.voip_profile;
    r->proto = static_cast<std::uint8_t>(s.key.proto);
    r->src = k.src.to_host();
    r->dst = k.dst.to_host();
    r->sport = k.sport.to_host();
    r->dport = k.dport.to_host();
    r->reply = static_cast<std::uint8_t>(dir);
    r->request = m.is_request() ? 1 : 0;
    r->method = static_cast<std::uint8_t>(d.id.method);
    r->status = static_cast<std::uint16_t>(m.status_code());
    r->action = d.action == sip::verdict::forward ? 0 : d.action == sip::verdict::drop ? 1 : 2;
    r->call_key = d.id.call_key;
    log_record::put(r->call_id, r->call_id_length, d.id.call_id);
    log_record::put(r->from, r->from_length, uri_of(m, sip::header_type::from));
    log_record::put(r->to, r->to_length, uri_of(m, sip::header_type::to));
    if (kind == log_kind::sip_malformed) {
        // Where the first finding is: its line (1: the start line) and column, from its offset.
        const std::string_view bytes = m.bytes().substr(0, std::min<std::size_t>(d.logged_offset, m.bytes().size()));
        const std::size_t last_lf = bytes.rfind('\n');
        r->line = 1 + static_cast<std::uint32_t>(std::count(bytes.begin(), bytes.end(), '\n'));
        r->column = 1 + static_cast<std::uint32_t>(last_lf == std::string_view::npos ? bytes.size() : bytes.size() - last_lf - 1);
        r->detail = static_cast<std::uint8_t>(d.logged);
        log_record::put(r->text, r->text_length, d.logged_detail);
        // Its action: that of the check that decided, else pass.
        r->action = d.failed == d.logged && d.action != sip::verdict::forward ? r->action : 0;
    } else {
        r->detail = static_cast<std::uint8_t>(d.why);
    }
    log_->commit();
}

// A session's end, when its policy logs traffic (logtraffic all; utm: the sessions the SIP ALG carried,
// its inspection being the security profile applied to them).
void worker::log_traffic(const nat::session& s, std::uint32_t index, log_session_end why) noexcept
{
    const nat::firewall& fw = snap_->firewall;
    if (!fw.traffic_logging) {
        return;
    }
    const std::uint8_t mode = fw.traffic_log_of(s.policy_id);
    if (mode == 0 || (mode == 1 && s.engine != nat::sip_engine::alg)) {
        return;
    }
    log_record* r = log_reserve(log_kind::traffic_close);
    if (r == nullptr) {
        return;
    }
    r->session_id = index;
    r->policy_id = s.policy_id;
    r->voip_profile = s.voip_profile;
    r->proto = static_cast<std::uint8_t>(s.key.proto);
    r->src = s.key.src.to_host();
    r->dst = s.key.dst.to_host();
    r->sport = s.key.sport.to_host();
    r->dport = s.key.dport.to_host();
    r->duration_s = (table_now_ - s.created) / nat::ticks_per_second;
    r->detail = static_cast<std::uint8_t>(why);
    r->sent_bytes = s.bytes[0];
    r->rcvd_bytes = s.bytes[1];
    r->sent_packets = s.packets[0];
    r->rcvd_packets = s.packets[1];
    r->in_interface = s.in_interface;
    r->out_interface = s.out_interface;
    const bool snat = (s.flags & nat::session_flag::snat) != 0;
    const bool dnat = (s.flags & nat::session_flag::dnat) != 0;
    r->trandisp = static_cast<std::uint8_t>((snat ? 1 : 0) | (dnat ? 2 : 0));
    // The translated source (SNAT), else the translated destination (DNAT).
    r->trans_ip = snat ? s.rewrite[0].src.to_host() : s.rewrite[0].dst.to_host();
    r->trans_port = snat ? s.rewrite[0].sport.to_host() : s.rewrite[0].dport.to_host();
    r->tcp_closed = s.key.proto == ip_proto::tcp && s.state == nat::session_state::tcp_closed ? 1 : 0;
    log_->commit();
}

} // namespace sipalg::dp
