// See logging.hpp.
#include "control/logging.hpp"

#include "sip/checks.hpp"
#include "sip/engine.hpp"
#include "sip/message.hpp"
#include "sip/text.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <arpa/inet.h>
#include <sys/uio.h>
#include <cerrno>
#include <ctime>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <filesystem>

namespace sipalg::control {

namespace {

constexpr std::size_t memory_lines = 10000;          // what execute log display can show
constexpr std::size_t tcp_queue_limit = 4u << 20;    // bytes waiting for the syslog server (reliable)
constexpr std::size_t call_starts_limit = 1u << 20;  // calls whose start waits for their end
constexpr std::string_view voip_logid_call = "0814044032";      // LOGID_EVENT_VOIP_SIP
constexpr std::string_view voip_logid_block = "0814044033";     // LOGID_EVENT_VOIP_SIP_BLOCK
constexpr std::string_view voip_logid_malformed = "0814044034"; // LOGID_EVENT_VOIP_SIP_FUZZING

unsigned facility_code(std::string_view name)
{
    const auto it = std::find(syslog_facilities.begin(), syslog_facilities.end(), name);
    return it == syslog_facilities.end() ? 23u : static_cast<unsigned>(it - syslog_facilities.begin());
}

std::string_view severity_name(unsigned s)
{
    switch (s) {
    case 4:
        return "warning";
    case 5:
        return "notice";
    default:
        return "information";
    }
}

// What kind of SIP exchange a method belongs to (FortiOS's kind field).
std::string_view kind_of(sip::method m)
{
    switch (m) {
    case sip::method::register_:
        return "register";
    case sip::method::invite:
    case sip::method::ack:
    case sip::method::bye:
    case sip::method::cancel:
    case sip::method::prack:
    case sip::method::update:
    case sip::method::info:
    case sip::method::refer:
        return "call";
    default:
        return "other";
    }
}

std::string_view block_reason(sip::drop_reason why)
{
    switch (why) {
    case sip::drop_reason::method_blocked:
        return "method blocked";
    case sip::drop_reason::unknown_method:
        return "unknown method";
    case sip::drop_reason::rate:
        return "rate limit";
    case sip::drop_reason::max_dialogs:
        return "max dialogs";
    case sip::drop_reason::malformed:
        return "malformed";
    case sip::drop_reason::none:
        break;
    }
    return "";
}

std::string_view end_reason(dp::call_end_reason why)
{
    switch (why) {
    case dp::call_end_reason::signalled:
        return "end";
    case dp::call_end_reason::invite_expired:
        return "expired";
    case dp::call_end_reason::keepalive:
        return "keepalive";
    case dp::call_end_reason::idle_dialogs:
        return "idle";
    case dp::call_end_reason::cleared:
        return "cleared";
    }
    return "end";
}

std::string_view action_name(std::uint8_t a)
{
    return a == 0 ? "permit" : "block";
}

// A value as the default format quotes it: backslash and double quote escaped (whole runs between them
// appended at once: most values have neither).
void put_quoted(std::string& out, std::string_view v)
{
    out += '"';
    std::size_t run = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '"' || v[i] == '\\') {
            out.append(v.data() + run, i - run);
            out += '\\';
            run = i;
        }
    }
    out.append(v.data() + run, v.size() - run);
    out += '"';
}

// A number in decimal, appended (std::to_chars: no format string to interpret).
void put_number(std::string& out, std::uint64_t v)
{
    std::array<char, 20> digits;
    const auto r = std::to_chars(digits.data(), digits.data() + digits.size(), v);
    out.append(digits.data(), static_cast<std::size_t>(r.ptr - digits.data()));
}

// A dotted quad, appended.
void put_ipv4(std::string& out, std::uint32_t a)
{
    for (int shift = 24; shift >= 0; shift -= 8) {
        put_number(out, a >> shift & 0xffu);
        if (shift != 0) {
            out += '.';
        }
    }
}

// CEF extension values escape '\', '=' and line ends (CEF rev 25 §"Character encoding").
void put_cef_value(std::string& out, std::string_view v)
{
    for (char c : v) {
        if (c == '\\' || c == '=') {
            out += '\\';
        }
        out += c == '\n' || c == '\r' ? ' ' : c;
    }
}

// FortiOS's CEF names for the fields it maps (Log Message Reference, "VoIP log support for CEF").
std::string_view cef_key(std::string_view key)
{
    static constexpr std::pair<std::string_view, std::string_view> map[] = {
        {"srcip", "src"},    {"src_port", "spt"}, {"dstip", "dst"},  {"dst_port", "dpt"},
        {"proto", "proto"},  {"src_int", "deviceInboundInterface"},   {"dst_int", "deviceOutboundInterface"},
        {"session_id", "externalId"}, {"action", "act"}, {"status", "outcome"}, {"from", "suser"}, {"to", "duser"},
        {"srcport", "spt"},  {"dstport", "dpt"},  {"srcintf", "deviceInboundInterface"},
        {"dstintf", "deviceOutboundInterface"}, {"sessionid", "externalId"}, {"transip", "sourceTranslatedAddress"},
        {"transport", "sourceTranslatedPort"}, {"sentbyte", "out"}, {"rcvdbyte", "in"},
    };
    for (const auto& [from, to] : map) {
        if (from == key) {
            return to;
        }
    }
    return {};
}

} // namespace

const log_field* log_line::find(std::string_view key) const noexcept
{
    for (const auto& f : fields) {
        if (f.key == key) {
            return &f;
        }
    }
    return nullptr;
}

std::string_view log_line::value_of(std::string_view key) const noexcept
{
    const log_field* f = find(key);
    return f != nullptr ? value(*f) : std::string_view{};
}

logger::logger(std::string log_dir, std::uint64_t tsc_hz, std::uint64_t tsc_now)
    : log_dir_(std::move(log_dir)), tsc_hz_(tsc_hz == 0 ? 1 : tsc_hz), tsc_base_(tsc_now),
      wall_base_ns_(static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count()))
{
}

logger::~logger()
{
    close_syslog();
    if (disk_fd_ >= 0) {
        ::close(disk_fd_);
    }
}

void logger::configure(const config& cfg)
{
    const bool syslog_changed = cfg.syslogd.status != cfg_.syslogd.status || cfg.syslogd.server != cfg_.syslogd.server ||
                                cfg.syslogd.port != cfg_.syslogd.port || cfg.syslogd.mode != cfg_.syslogd.mode ||
                                cfg.syslogd.source_ip != cfg_.syslogd.source_ip;
    const bool disk_changed = cfg.log_disk.status != cfg_.log_disk.status;
    const bool first = !configured_;
    configured_ = true;
    cfg_ = cfg;
    if (syslog_changed || first) {
        // Another server, port or mode: what waited for the old one is not for the new.
        close_syslog();
        queue_.clear();
        frames_.clear();
        head_sent_ = 0;
        batch_.clear();
        batch_spans_.clear();
        if (cfg_.syslogd.status) {
            open_syslog();
        }
    }
    if (disk_changed || first) {
        if (disk_fd_ >= 0) {
            ::close(disk_fd_);
            disk_fd_ = -1;
        }
        if (cfg_.log_disk.status) {
            std::error_code ec;
            std::filesystem::create_directories(log_dir_, ec);
            disk_fd_ = ::open((log_dir_ + "/sipalg.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
            struct stat st {};
            disk_size_ = disk_fd_ >= 0 && ::fstat(disk_fd_, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
            if (disk_fd_ < 0) {
                ++counters_.disk_errors;
            }
        }
    }
}

std::string_view logger::interface_name(std::uint32_t policy_id, bool source) const
{
    for (const auto& p : cfg_.policies) {
        if (p.id == policy_id) {
            const auto& names = source ? p.srcintf : p.dstintf;
            return names.empty() ? std::string_view() : std::string_view(names.front());
        }
    }
    return {};
}

std::string_view logger::interface_at(std::uint16_t index) const
{
    return index < cfg_.interfaces.size() ? std::string_view(cfg_.interfaces[index].name) : std::string_view();
}

// The line's date, time and time zone in local time, made once a second.
void logger::local_time(std::uint64_t epoch_ns, log_line& l)
{
    const auto second = static_cast<std::int64_t>(epoch_ns / 1000000000u);
    if (second != time_second_) {
        const auto t = static_cast<std::time_t>(second);
        std::tm tm{};
        ::localtime_r(&t, &tm);
        const long offset_min = tm.tm_gmtoff / 60;
        time_date_ = fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
        time_time_ = fmt::format("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec);
        time_tz_ = fmt::format("{}{:02}{:02}", offset_min < 0 ? '-' : '+', std::abs(offset_min) / 60, std::abs(offset_min) % 60);
        time_second_ = second;
    }
    l.date = time_date_;
    l.time = time_time_;
    l.tz = time_tz_;
}

namespace {

// The appenders a line is made with: each field's value goes after the others in `values`.
struct field_writer {
    log_line& l;
    void add(std::string_view key, std::string_view value, bool quoted) const
    {
        const auto begin = static_cast<std::uint32_t>(l.values.size());
        l.values += value;
        l.fields.push_back({key, begin, static_cast<std::uint32_t>(l.values.size()), quoted});
    }
    void num(std::string_view key, std::uint64_t v) const
    {
        const auto begin = static_cast<std::uint32_t>(l.values.size());
        put_number(l.values, v);
        l.fields.push_back({key, begin, static_cast<std::uint32_t>(l.values.size()), false});
    }
    void str(std::string_view key, std::string_view v) const
    {
        add(key, v, true);
    }
    void ip(std::string_view key, std::uint32_t a) const
    {
        const auto begin = static_cast<std::uint32_t>(l.values.size());
        put_ipv4(l.values, a);
        l.fields.push_back({key, begin, static_cast<std::uint32_t>(l.values.size()), false});
    }
};

} // namespace

// FortiOS's forward traffic log (13, LOG_ID_TRAFFIC_END_FORWARD) of a session that ended.
void logger::traffic_fields(const dp::log_record& r, log_line& l)
{
    const field_writer w{l};
    const auto num = [&w](std::string_view key, std::uint64_t v) { w.num(key, v); };
    const auto str = [&w](std::string_view key, std::string_view v) { w.str(key, v); };
    l.category = "traffic";
    l.logid = "0000000013";
    l.severity = 5;
    str("logid", l.logid);
    str("type", "traffic");
    str("subtype", "forward");
    str("level", "notice");
    str("vd", "root");
    w.ip("srcip", r.src);
    num("srcport", r.sport);
    str("srcintf", interface_at(r.in_interface));
    str("srcintfrole", "undefined");
    w.ip("dstip", r.dst);
    num("dstport", r.dport);
    str("dstintf", interface_at(r.out_interface));
    str("dstintfrole", "undefined");
    num("sessionid", r.session_id);
    num("proto", r.proto);
    // How it ended, in FortiOS's words: a TCP session closed or timed out; UDP and ICMP sessions end
    // by timing out, logged as accept; a session an administrator cleared.
    const auto why = static_cast<dp::log_session_end>(r.detail);
    str("action", why == dp::log_session_end::cleared  ? "clear_session"
                  : r.proto != 6                        ? "accept"
                  : r.tcp_closed != 0                   ? "close"
                                                        : "timeout");
    num("policyid", r.policy_id);
    str("policytype", "policy");
    std::array<char, 16> service{};
    const auto service_end = fmt::format_to_n(service.data(), service.size(), "{}/{}",
                                              r.proto == 6 ? "tcp" : r.proto == 17 ? "udp" : r.proto == 1 ? "icmp" : "ip", r.dport);
    str("service", std::string_view(service.data(), service_end.size));
    const bool snat = (r.trandisp & 1u) != 0;
    const bool dnat = (r.trandisp & 2u) != 0;
    str("trandisp", snat && dnat ? "snat+dnat" : snat ? "snat" : dnat ? "dnat" : "noop");
    if (snat) {
        w.ip("transip", r.trans_ip);
        num("transport", r.trans_port);
    } else if (dnat) {
        w.ip("tranip", r.trans_ip);
        num("tranport", r.trans_port);
    }
    num("duration", r.duration_s);
    num("sentbyte", r.sent_bytes);
    num("rcvdbyte", r.rcvd_bytes);
    num("sentpkt", r.sent_packets);
    num("rcvdpkt", r.rcvd_packets);
}

void logger::fill(const dp::log_record& r, log_line& l)
{
    l.fields.clear();
    l.values.clear();
    // The worker's TSC stamp as wall-clock time (the two clocks are read together at start).
    l.epoch_ns = wall_of(r.tsc);
    local_time(l.epoch_ns, l);
    if (r.kind == dp::log_kind::traffic_close) {
        traffic_fields(r, l);
        return;
    }
    const field_writer w{l};
    const auto num = [&w](std::string_view key, std::uint64_t v) { w.num(key, v); };
    const auto str = [&w](std::string_view key, std::string_view v) { w.str(key, v); };

    l.category = "utm-voip";
    l.logid = r.kind == dp::log_kind::call_start || r.kind == dp::log_kind::call_end ? voip_logid_call
              : r.kind == dp::log_kind::sip_block                                   ? voip_logid_block
                                                                                    : voip_logid_malformed;
    l.severity = r.kind == dp::log_kind::sip_block ? 5 : 6;

    // The start of a call carries its session and its From and To to its end.
    call_start start;
    const std::pair<unsigned, std::uint64_t> call{r.worker, r.call_key};
    if (r.kind == dp::log_kind::call_start) {
        start = {r.session_id, r.proto, std::string(r.from_text()), std::string(r.to_text())};
        if (calls_.size() >= call_starts_limit) {
            calls_.clear(); // starts whose ends were never logged: the oldest information goes
        }
        calls_[call] = start;
    } else if (r.kind == dp::log_kind::call_end) {
        if (const auto it = calls_.find(call); it != calls_.end()) {
            start = std::move(it->second);
            calls_.erase(it);
        }
    } else {
        start = {r.session_id, r.proto, std::string(r.from_text()), std::string(r.to_text())};
    }

    str("logid", l.logid);
    str("type", "utm");
    str("subtype", "voip");
    str("eventtype", "voip");
    str("level", severity_name(l.severity));
    str("vd", "root");
    num("session_id", start.session_id);
    num("epoch", 0);
    num("event_id", ++event_id_);
    w.ip("srcip", r.src);
    num("src_port", r.sport);
    w.ip("dstip", r.dst);
    num("dst_port", r.dport);
    num("proto", start.proto);
    str("src_int", interface_name(r.policy_id, true));
    str("dst_int", interface_name(r.policy_id, false));
    num("policy_id", r.policy_id);
    const bool has_profile = r.voip_profile >= 0 && static_cast<std::size_t>(r.voip_profile) < cfg_.voip_profiles.size();
    str("profile", has_profile ? std::string_view(cfg_.voip_profiles[static_cast<std::size_t>(r.voip_profile)].name) : std::string_view());
    str("voip_proto", "sip");
    const auto method = static_cast<sip::method>(r.method);
    switch (r.kind) {
    case dp::log_kind::call_start:
    case dp::log_kind::call_end:
        str("kind", "call");
        str("action", "permit");
        str("status", r.kind == dp::log_kind::call_start ? "start" : end_reason(static_cast<dp::call_end_reason>(r.detail)));
        num("duration", r.duration_s);
        str("dir", "session_origin");
        str("call_id", r.call_id_text());
        str("from", start.from);
        str("to", start.to);
        break;
    case dp::log_kind::sip_block:
        str("kind", kind_of(method));
        str("action", r.action == 2 ? "block" : action_name(r.action));
        str("status", "");
        num("duration", 0);
        str("dir", r.reply != 0 ? "session_reply" : "session_origin");
        str("call_id", r.call_id_text());
        str("from", start.from);
        str("to", start.to);
        str("reason", block_reason(static_cast<sip::drop_reason>(r.detail)));
        str("message_type", r.request != 0 ? "request" : "response");
        if (r.request != 0) {
            str("request_name", sip::method_name(method));
        } else {
            w.num("request_name", r.status);
        }
        num("count", 1);
        break;
    case dp::log_kind::sip_malformed: {
        str("kind", kind_of(method));
        str("action", r.action == 2 ? "block" : action_name(r.action));
        num("duration", 0);
        str("dir", r.reply != 0 ? "session_reply" : "session_origin");
        str("call_id", r.call_id_text());
        str("message_type", r.request != 0 ? "request" : "response");
        if (r.request != 0) {
            str("request_name", sip::method_name(method));
        } else {
            w.num("request_name", r.status);
        }
        const std::string desc = fmt::format("{}: {}", sip::check_name(static_cast<sip::check>(r.detail)), r.detail_text());
        str("malform_desc", std::string_view(desc).substr(0, 47));
        num("malform_data", 0);
        w.num("line", r.line);
        num("column", r.column);
        break;
    }
    case dp::log_kind::traffic_close:
        break; // above
    }
}

void logger::render(const log_line& l, std::string_view format, std::string_view devname, std::string& out)
{
    if (format == "cef") {
        const std::string_view action = l.value_of("action");
        const std::string_view status = l.value_of("status");
        // Name: FortiOS's "utm:voip voip permit start" / "traffic:forward close".
        fmt::format_to(std::back_inserter(out), "CEF:0|sipalg|sipalgd|1|{}|", l.logid.substr(l.logid.size() - 5));
        if (l.category == "traffic") {
            fmt::format_to(std::back_inserter(out), "traffic:forward {}", action);
        } else {
            fmt::format_to(std::back_inserter(out), "utm:voip voip {} {}", action, status);
        }
        fmt::format_to(std::back_inserter(out), "|{}|rt={} deviceExternalId={}", l.severity == 5 ? 3 : 2, l.epoch_ns / 1000000u,
                       devname);
        for (const auto& f : l.fields) {
            const std::string_view mapped = cef_key(f.key);
            out += ' ';
            if (mapped.empty()) {
                out += "FTNTFGT";
                out += f.key;
            } else {
                out += mapped;
            }
            out += '=';
            put_cef_value(out, l.value(f));
        }
        return;
    }
    const char separator = format == "csv" ? ',' : ' ';
    out += "date=";
    out += l.date;
    out += separator;
    out += "time=";
    out += l.time;
    out += separator;
    out += "devname=";
    put_quoted(out, devname);
    out += separator;
    out += "eventtime=";
    put_number(out, l.epoch_ns);
    out += separator;
    out += "tz=\"";
    out += l.tz;
    out += '"';
    for (const auto& f : l.fields) {
        out += separator;
        out += f.key;
        out += '=';
        if (f.quoted) {
            put_quoted(out, l.value(f));
        } else {
            out += l.value(f);
        }
    }
}

void logger::take(const dp::log_record& r)
{
    fill(r, line_);
    ++counters_.lines;
    const std::string_view devname = cfg_.timers.hostname.empty() ? std::string_view("sipalg") : std::string_view(cfg_.timers.hostname);
    text_.clear();
    render(line_, "default", devname, text_);
    if (cfg_.syslogd.status) {
        send_syslog(line_, text_);
    }
    if (cfg_.log_disk.status) {
        text_ += '\n';
        write_disk(text_);
        text_.pop_back();
    }
    if (memory_.size() == memory_lines) {
        // The oldest line's text buffer is taken over by the newest: no allocation once memory is full.
        kept oldest = std::move(memory_.front());
        memory_.pop_front();
        oldest.category = line_.category;
        oldest.text.assign(text_);
        memory_.push_back(std::move(oldest));
    } else {
        memory_.push_back({line_.category, text_});
    }
}

namespace {

// The value of `key` in a line of the default format (key=value, key="..." with \" inside), or nothing.
std::optional<std::string_view> field_of(std::string_view text, std::string_view key)
{
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t eq = text.find('=', i);
        if (eq == std::string_view::npos) {
            break;
        }
        const std::string_view name = text.substr(i, eq - i);
        std::size_t end = eq + 1;
        std::string_view value;
        if (end < text.size() && text[end] == '"') {
            std::size_t q = end + 1;
            while (q < text.size() && text[q] != '"') {
                q += text[q] == '\\' ? 2 : 1;
            }
            value = text.substr(end + 1, std::min(q, text.size()) - end - 1);
            end = q + 1;
        } else {
            end = std::min(text.find(' ', end), text.size());
            value = text.substr(eq + 1, end - eq - 1);
        }
        if (name == key) {
            return value;
        }
        i = end + 1;
    }
    return std::nullopt;
}

} // namespace

std::vector<std::string> logger::display(const log_filter& f, std::size_t& found) const
{
    std::vector<const kept*> picked;
    found = 0;
    for (auto it = memory_.rbegin(); it != memory_.rend(); ++it) {
        if (!f.category.empty() && it->category != f.category) {
            continue;
        }
        const bool match = std::all_of(f.fields.begin(), f.fields.end(), [&](const auto& kv) {
            const auto v = field_of(it->text, kv.first);
            return v && *v == kv.second;
        });
        if (!match) {
            continue;
        }
        ++found;
        if (picked.size() < f.view_lines) {
            picked.push_back(&*it);
        }
    }
    std::vector<std::string> out;
    for (auto it = picked.rbegin(); it != picked.rend(); ++it) {
        out.push_back((*it)->text);
    }
    return out;
}

namespace {

std::optional<std::string> log_category(std::string_view c)
{
    if (c == "utm-voip" || c == "voip" || c == "8") {
        return std::string("utm-voip");
    }
    if (c == "traffic" || c == "0") {
        return std::string("traffic");
    }
    return std::nullopt;
}

} // namespace

std::string set_log_filter(log_filter& f, const std::vector<std::string>& args)
{
    if (args.size() == 2 && args[0] == "category") {
        const auto c = log_category(args[1]);
        if (!c) {
            return fmt::format("log filter: category {} is not one of utm-voip (voip, 8), traffic (0)", args[1]);
        }
        f.category = *c;
        return {};
    }
    if (args.size() == 3 && args[0] == "field") {
        f.fields.emplace_back(args[1], args[2]);
        return {};
    }
    if (args.size() == 2 && args[0] == "view-lines") {
        const auto n = sip::parse_number(args[1], 6, 100000);
        if (!n || *n == 0) {
            return fmt::format("log filter: view-lines {} is not a number from 1 to 100000", args[1]);
        }
        f.view_lines = static_cast<unsigned>(*n);
        return {};
    }
    return fmt::format("log filter: '{}' not understood (category C | field NAME VALUE | view-lines N)", fmt::join(args, " "));
}

std::string format_log_display(const logger& log, const log_filter& f)
{
    std::size_t found = 0;
    const std::vector<std::string> lines = log.display(f, found);
    std::string out = fmt::format("{} logs found.\n{} logs returned.\n", found, lines.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
        fmt::format_to(std::back_inserter(out), "\n{}: {}\n", i + 1, lines[i]);
    }
    return out;
}

// ---- the syslog server -----------------------------------------------------------------------------

void logger::open_syslog()
{
    tcp_ = cfg_.syslogd.mode == "reliable";
    fd_ = ::socket(AF_INET, (tcp_ ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        retry_at_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        return;
    }
    if (cfg_.syslogd.source_ip != 0) {
        sockaddr_in local{};
        local.sin_family = AF_INET;
        local.sin_addr.s_addr = htonl(cfg_.syslogd.source_ip);
        if (::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0) {
            close_syslog();
            retry_at_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
            return;
        }
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(cfg_.syslogd.port);
    to.sin_addr.s_addr = htonl(cfg_.syslogd.server);
    // UDP: connected, so that send() reports what the host knows of the path (ICMP port unreachable).
    const int rc = ::connect(fd_, reinterpret_cast<const sockaddr*>(&to), sizeof(to));
    if (rc != 0 && !(tcp_ && errno == EINPROGRESS)) {
        close_syslog();
        retry_at_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        return;
    }
    connected_ = rc == 0;
    ++counters_.syslog_connects;
}

void logger::close_syslog()
{
    if (fd_ >= 0) {
        ::close(fd_);
    }
    fd_ = -1;
    connected_ = false;
}

// The line as its syslog message (RFC 3164-style priority, then the format asked for; RFC 5424's header
// for rfc5424), appended to `out`. `text`: the line already in the default format.
void logger::syslog_message(const log_line& l, std::string_view text, std::string& out) const
{
    const std::string_view devname = cfg_.timers.hostname.empty() ? std::string_view("sipalg") : std::string_view(cfg_.timers.hostname);
    const unsigned pri = facility_code(cfg_.syslogd.facility) * 8 + l.severity;
    fmt::format_to(std::back_inserter(out), "<{}>", pri);
    if (cfg_.syslogd.format == "rfc5424") {
        // RFC 5424 §6: VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG, in UTC.
        const auto seconds = static_cast<std::time_t>(l.epoch_ns / 1000000000u);
        std::tm tm{};
        ::gmtime_r(&seconds, &tm);
        fmt::format_to(std::back_inserter(out), "1 {:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z {} sipalgd {} {} - ",
                       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                       l.epoch_ns / 1000u % 1000000u, devname, ::getpid(), l.logid);
        out += text;
    } else if (cfg_.syslogd.format == "default") {
        out += text;
    } else {
        render(l, cfg_.syslogd.format, devname, out);
    }
}

void logger::send_syslog(const log_line& l, std::string_view text)
{
    if (!tcp_) {
        // Batched: one sendmmsg for up to 64 lines (flush_syslog, at the latest when the control core
        // has drained the workers' rings).
        const auto begin = static_cast<std::uint32_t>(batch_.size());
        syslog_message(l, text, batch_);
        batch_spans_.emplace_back(begin, static_cast<std::uint32_t>(batch_.size()) - begin);
        if (batch_spans_.size() == 64) {
            flush_syslog();
        }
        return;
    }
    // RFC 6587 §3.4.1 octet counting: MSG-LEN SP SYSLOG-MSG.
    message_.clear();
    syslog_message(l, text, message_);
    if (fd_ < 0 && std::chrono::steady_clock::now() >= retry_at_) {
        open_syslog();
    }
    const std::size_t before = queue_.size();
    if (before + message_.size() + 8 > tcp_queue_limit) {
        ++counters_.syslog_dropped;
        return;
    }
    fmt::format_to(std::back_inserter(queue_), "{} ", message_.size());
    queue_ += message_;
    frames_.push_back(static_cast<std::uint32_t>(queue_.size() - before));
    ++counters_.syslog_sent;
}

void logger::flush_syslog()
{
    if (batch_spans_.empty()) {
        return;
    }
    if (fd_ < 0 && std::chrono::steady_clock::now() >= retry_at_) {
        open_syslog();
    }
    std::size_t done = 0;
    if (fd_ >= 0) {
        std::array<iovec, 64> iov{};
        std::array<mmsghdr, 64> msgs{};
        const std::size_t n = batch_spans_.size();
        for (std::size_t k = 0; k < n; ++k) {
            iov[k].iov_base = batch_.data() + batch_spans_[k].first;
            iov[k].iov_len = batch_spans_[k].second;
            msgs[k].msg_hdr.msg_iov = &iov[k];
            msgs[k].msg_hdr.msg_iovlen = 1;
        }
        const auto t0 = std::chrono::steady_clock::now();
        while (done < n) {
            const int sent = ::sendmmsg(fd_, msgs.data() + done, static_cast<unsigned>(n - done), MSG_DONTWAIT | MSG_NOSIGNAL);
            if (sent <= 0) {
                break; // the socket's buffer is full, or the path is refused: the rest is dropped
            }
            done += static_cast<std::size_t>(sent);
        }
        counters_.syslog_send_ns += static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
    }
    counters_.syslog_sent += done;
    counters_.syslog_dropped += batch_spans_.size() - done;
    batch_.clear();
    batch_spans_.clear();
}

void logger::poll()
{
    if (!cfg_.syslogd.status) {
        return;
    }
    if (!tcp_) {
        flush_syslog();
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (fd_ < 0) {
        if (now < retry_at_) {
            return;
        }
        open_syslog();
        if (fd_ < 0) {
            return;
        }
    }
    if (!connected_) {
        int err = 0;
        socklen_t len = sizeof(err);
        sockaddr_in peer{};
        socklen_t plen = sizeof(peer);
        if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&peer), &plen) != 0) {
            ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0 && err != EINPROGRESS && err != EALREADY) {
                close_syslog();
                retry_at_ = now + std::chrono::seconds(1);
            }
            return; // still connecting
        }
        connected_ = true;
    }
    while (!queue_.empty()) {
        const ssize_t n = ::send(fd_, queue_.data(), queue_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            queue_.erase(0, static_cast<std::size_t>(n));
            // Whole lines written leave the frame list; the rest of the first is remembered.
            head_sent_ += static_cast<std::size_t>(n);
            while (!frames_.empty() && head_sent_ >= frames_.front()) {
                head_sent_ -= frames_.front();
                frames_.pop_front();
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        }
        // The connection broke. The next one starts at a whole line (RFC 6587 framing cannot resume
        // inside one): the rest of a line half written is dropped.
        if (head_sent_ != 0 && !frames_.empty()) {
            queue_.erase(0, frames_.front() - head_sent_);
            frames_.pop_front();
            ++counters_.syslog_dropped;
        }
        head_sent_ = 0;
        close_syslog();
        retry_at_ = now + std::chrono::seconds(1);
        return;
    }
}

// ---- the disk log ----------------------------------------------------------------------------------

void logger::write_disk(std::string_view text)
{
    if (disk_fd_ < 0) {
        return;
    }
    const std::uint64_t limit = std::uint64_t{cfg_.log_disk.maxlogfilesize} << 20;
    if (disk_size_ != 0 && disk_size_ + text.size() > limit) {
        const std::string path = log_dir_ + "/sipalg.log";
        ::close(disk_fd_);
        std::error_code ec;
        std::filesystem::rename(path, path + ".1", ec);
        disk_fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC, 0640);
        disk_size_ = 0;
        ++counters_.disk_rotations;
        if (disk_fd_ < 0) {
            ++counters_.disk_errors;
            return;
        }
    }
    if (::write(disk_fd_, text.data(), text.size()) == static_cast<ssize_t>(text.size())) {
        disk_size_ += text.size();
        ++counters_.disk_written;
    } else {
        ++counters_.disk_errors;
    }
}

} // namespace sipalg::control
