// See schema.hpp. The codecs (how a value of each type is read, checked and written), the field
// tables of every section, and each section's `finish`: what ties the fields of one entry together.
#include "control/schema.hpp"

#include "control/config_reader.hpp"
#include "control/json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace sipalg::control {

using detail::reader;

namespace {

// ---- parsing of the FortiOS value forms -------------------------------------------------------------

// "a.b.c.d" or "a.b.c.d-e.f.g.h" (FortiOS address ranges in VIPs).
std::optional<std::pair<ipv4_address, ipv4_address>> parse_address_range(std::string_view s)
{
    const auto dash = s.find('-');
    if (dash == std::string_view::npos) {
        const auto a = parse_ipv4(s);
        if (!a) {
            return std::nullopt;
        }
        return std::make_pair(*a, *a);
    }
    const auto a = parse_ipv4(s.substr(0, dash));
    const auto b = parse_ipv4(s.substr(dash + 1));
    if (!a || !b || *b < *a) {
        return std::nullopt;
    }
    return std::make_pair(*a, *b);
}

std::optional<std::uint16_t> parse_port(std::string_view s, std::uint64_t min)
{
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || v < min || v > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(v);
}

// "low" or "low-high".
std::optional<std::pair<std::uint16_t, std::uint16_t>> parse_port_range(std::string_view s, std::uint64_t min)
{
    const auto dash = s.find('-');
    const auto a = parse_port(s.substr(0, dash), min);
    if (!a) {
        return std::nullopt;
    }
    if (dash == std::string_view::npos) {
        return std::make_pair(*a, *a);
    }
    const auto b = parse_port(s.substr(dash + 1), min);
    if (!b || *b < *a) {
        return std::nullopt;
    }
    return std::make_pair(*a, *b);
}

// A FortiOS service port range: "dst[-dst][:src[-src]]".
std::optional<port_range_config> parse_service_ports(std::string_view s)
{
    const auto colon = s.find(':');
    const auto dst = parse_port_range(s.substr(0, colon), 0);
    if (!dst) {
        return std::nullopt;
    }
    port_range_config r{dst->first, dst->second, 0, 65535};
    if (colon != std::string_view::npos) {
        const auto src = parse_port_range(s.substr(colon + 1), 0);
        if (!src) {
            return std::nullopt;
        }
        r.src_first = src->first;
        r.src_last = src->second;
    }
    return r;
}

// "HH:MM" to minutes after midnight.
std::optional<std::uint16_t> parse_clock(std::string_view s)
{
    const auto colon = s.find(':');
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    unsigned h = 0;
    unsigned m = 0;
    const auto r1 = std::from_chars(s.data(), s.data() + colon, h);
    const auto r2 = std::from_chars(s.data() + colon + 1, s.data() + s.size(), m);
    if (colon == 0 || r1.ec != std::errc{} || r1.ptr != s.data() + colon || r2.ec != std::errc{} ||
        r2.ptr != s.data() + s.size() || h > 23 || m > 59) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(h * 60 + m);
}

void append_range(std::string& out, std::uint32_t first, std::uint32_t last)
{
    if (first == last) {
        fmt::format_to(std::back_inserter(out), "{}", first);
    } else {
        fmt::format_to(std::back_inserter(out), "{}-{}", first, last);
    }
}

// A name or text: YAML's double-quoted form (JSON's), or FortiOS's ("..." with \\ before " and \\).
void append_quoted(std::string& out, std::string_view s, value_style st)
{
    if (st == value_style::yaml) {
        out += json_string(s);
        return;
    }
    if (st == value_style::cli_option) {
        out += s;
        return;
    }
    append_cli_quoted(out, s);
}

// A value FortiOS shows as one plain word (a MAC, a time, a range) that YAML must quote.
void append_plain(std::string& out, std::string_view s, value_style st)
{
    if (st == value_style::yaml) {
        out += '"';
        out += s;
        out += '"';
    } else {
        out += s;
    }
}

bool chosen(const field_spec& f, std::string_view word)
{
    return f.choices.empty() || std::find(f.choices.begin(), f.choices.end(), word) != f.choices.end();
}

std::string choice_list(const field_spec& f)
{
    std::string s;
    for (std::size_t i = 0; i < f.choices.size(); ++i) {
        s += i == 0 ? "" : i + 1 == f.choices.size() ? " or " : ", ";
        s += f.choices[i];
    }
    return s;
}

// ---- codecs: read (check, store on success) and write, per kind of value ---------------------------

struct flag_codec {
    static constexpr field_kind kind = field_kind::flag;
    static void read(reader& r, const yaml::node& n, const field_spec&, const label& what, bool& out)
    {
        if (const auto v = r.enable_disable(n, what)) {
            out = *v;
        }
    }
    static bool write(bool v, std::string& out, value_style)
    {
        out += v ? "enable" : "disable";
        return true;
    }
};

// A yes/no setting FortiOS writes as two words of its own: choices[0] is true, choices[1] false
// (action accept|deny; default-voip-alg-mode proxy-based|kernel-helper-based).
struct two_words_codec {
    static void read(reader& r, const yaml::node& n, const field_spec& f, const label& what, bool& out)
    {
        if (const auto s = r.scalar(n, what)) {
            if (*s == f.choices[0] || *s == f.choices[1]) {
                out = *s == f.choices[0];
            } else {
                r.error(n, fmt::format("{} must be {}, not '{}'", what, choice_list(f), *s));
            }
        }
    }
};

template <class Int>
struct integer_codec {
    static constexpr field_kind kind = field_kind::integer;
    static void read(reader& r, const yaml::node& n, const field_spec& f, const label& what, Int& out)
    {
        if (const auto v = r.integer(n, what, f.min, f.max)) {
            out = static_cast<Int>(*v);
        }
    }
    static bool write(Int v, std::string& out, value_style)
    {
        fmt::format_to(std::back_inserter(out), "{}", v);
        return true;
    }
};

// A service's ICMP type: -1 (any) is not written.
struct icmp_type_codec {
    static constexpr field_kind kind = field_kind::integer;
    static void read(reader& r, const yaml::node& n, const field_spec& f, const label& what, std::int16_t& out)
    {
        if (const auto v = r.integer(n, what, f.min, f.max)) {
            out = static_cast<std::int16_t>(*v);
        }
    }
    static bool write(std::int16_t v, std::string& out, value_style)
    {
        if (v < 0) {
            return false;
        }
        fmt::format_to(std::back_inserter(out), "{}", v);
        return true;
    }
};

// Text; with choices, one of them; with max, at most that many bytes (FortiOS's "size").
struct text_codec {
    static constexpr field_kind kind = field_kind::text;
    static void read(reader& r, const yaml::node& n, const field_spec& f, const label& what, std::string& out)
    {
        const auto s = r.scalar(n, what);
        if (!s) {
            return;
        }
        if (!chosen(f, *s)) {
            r.error(n, fmt::format("{} must be {}, not '{}'", what, choice_list(f), *s));
        } else if (f.max != 0 && s->size() > f.max) {
            r.error(n, fmt::format("{} is longer than {} characters (FortiOS's limit)", what, f.max));
        } else {
            out = *s;
        }
    }
    static bool write(const std::string& v, std::string& out, value_style st)
    {
        if (v.empty()) {
            return false;
        }
        append_quoted(out, v, st);
        return true;
    }
};

// A list of names ("port1 port2" or a YAML sequence); a name given twice is kept once, as FortiOS's
// member tables keep it. min: the fewest names; choices: the names it may hold.
struct words_codec {
    static constexpr field_kind kind = field_kind::words;
    static void read(reader& r, const yaml::node& n, const field_spec& f, const label& what, std::vector<std::string>& out)
    {
        auto words = r.words(n, what);
        bool ok = true;
        for (const auto& w : words) {
            if (!chosen(f, w)) {
                r.error(n, fmt::format("{}: unknown value '{}' (one of {})", what, w, choice_list(f)));
                ok = false;
            }
        }
        if (words.size() < f.min) {
            r.error(n, fmt::format("{} must name at least one object", what));
            ok = false;
        }
        if (ok) {
            out = std::move(words);
        }
    }
    static bool write(const std::vector<std::string>& v, std::string& out, value_style st)
    {
        if (v.empty()) {
            return false;
        }
        out += st == value_style::yaml ? "[" : "";
        for (std::size_t i = 0; i < v.size(); ++i) {
            out += i == 0 ? "" : st == value_style::yaml ? ", " : " ";
            append_quoted(out, v[i], st);
        }
        out += st == value_style::yaml ? "]" : "";
        return true;
    }
};

// One to `max` ports, written as a sequence: shown as FortiOS shows it (set sip-tcp-port 5060 5064).
struct port_list_codec {
    static constexpr field_kind kind = field_kind::ports;
    static void read(reader& r, const yaml::node& n, const field_spec& f, const label& what, std::vector<std::uint16_t>& out)
    {
        const auto words = r.words(n, what);
        if (words.empty() || words.size() > f.max) {
            r.error(n, fmt::format("{} takes one or two ports", what));
            return;
        }
        std::vector<std::uint16_t> got;
        for (const auto& w : words) {
            const auto p = parse_port(w, 1);
            if (!p) {
                r.error(n, fmt::format("{}: '{}' is not a port", what, w));
                return;
            }
            got.push_back(*p);
        }
        out = std::move(got);
    }
    static bool write(const std::vector<std::uint16_t>& v, std::string& out, value_style st)
    {
        out += st == value_style::yaml ? "[" : "";
        for (std::size_t i = 0; i < v.size(); ++i) {
            fmt::format_to(std::back_inserter(out), "{}{}", i == 0 ? "" : st == value_style::yaml ? ", " : " ", v[i]);
        }
        out += st == value_style::yaml ? "]" : "";
        return true;
    }
};

// An address; 0.0.0.0 is "not set" and not written (a route without a gateway).
struct address_codec {
    static constexpr field_kind kind = field_kind::address;
    static void read(reader& r, const yaml::node& n, const field_spec&, const label& what, ipv4_address& out)
    {
        if (const auto a = r.address(n, what)) {
            out = *a;
        }
    }
    static bool write(ipv4_address v, std::string& out, value_style)
    {
        if (v == 0) {
            return false;
        }
        out += format_ipv4(v);
        return true;
    }
};

// "a.b.c.d/len" or "a.b.c.d m.m.m.m"; min and max bound the length (an interface: 1-31).
struct prefix_codec {
    static constexpr field_kind kind = field_kind::prefix;
    static void read(reader& r, const yaml::node& n, const field_spec& f, const label& what, ipv4_prefix& out)
    {
        if (const auto p = r.prefix(n, what)) {
            if (p->length < f.min || p->length > f.max) {
                r.error(n, fmt::format("{} needs a prefix length from {} to {}", what, f.min, f.max));
            } else {
                out = *p;
            }
        }
    }
    static bool write(const ipv4_prefix& v, std::string& out, value_style st)
    {
        if (st == value_style::cli) { // as FortiOS shows it: set ip 10.0.1.1 255.255.255.0
            out += format_ipv4(v.address);
            out += ' ';
            out += format_ipv4(v.length == 0 ? 0 : ~ipv4_address{0} << (32 - v.length));
            return true;
        }
        out += format_prefix(v);
        return true;
    }
};

struct mac_codec {
    static constexpr field_kind kind = field_kind::mac;
    static void read(reader& r, const yaml::node& n, const field_spec&, const label& what, mac_address& out)
    {
        if (const auto m = r.mac(n, what)) {
            out = *m;
        }
    }
    static bool write(const mac_address& v, std::string& out, value_style st)
    {
        append_plain(out, format_mac(v), st);
        return true;
    }
};

// An interface's own MAC: unset means the port's; a group address cannot be one.
struct unicast_mac_codec {
    static constexpr field_kind kind = field_kind::mac;
    static void read(reader& r, const yaml::node& n, const field_spec&, const label& what, std::optional<mac_address>& out)
    {
        if (const auto m = r.mac(n, what)) {
            if (((*m)[0] & 1u) != 0) {
                r.error(n, fmt::format("{} must be a unicast address", what));
            } else {
                out = *m;
            }
        }
    }
    static bool write(const std::optional<mac_address>& v, std::string& out, value_style st)
    {
        if (!v) {
            return false;
        }
        append_plain(out, format_mac(*v), st);
        return true;
    }
};

// "low-high" within min-65535, or unset.
struct port_range_codec {
    static constexpr field_kind kind = field_kind::port_range;
    using value = std::optional<std::pair<std::uint16_t, std::uint16_t>>;
    static void read(reader& r, const yaml::node& n, const field_spec& f, const label& what, value& out)
    {
        out = r.parsed(n, what, [&f](std::string_view t) { return parse_port_range(t, f.min); },
                       fmt::format("a port range low-high within {}-65535", f.min));
    }
    static bool write(const value& v, std::string& out, value_style st)
    {
        if (!v) {
            return false;
        }
        append_plain(out, fmt::format("{}-{}", v->first, v->second), st);
        return true;
    }
};

// A service's port ranges: "dst[-dst][:src[-src]] ...".
struct service_ports_codec {
    static constexpr field_kind kind = field_kind::service_ports;
    static void read(reader& r, const yaml::node& n, const field_spec&, const label& what, std::vector<port_range_config>& out)
    {
        std::vector<port_range_config> got;
        bool ok = true;
        for (const auto& w : r.words(n, what)) {
            if (const auto p = parse_service_ports(w)) {
                got.push_back(*p);
            } else {
                r.error(n, fmt::format("{}: '{}' is not a port range (dst[-dst][:src[-src]])", what, w));
                ok = false;
            }
        }
        if (ok) {
            out = std::move(got);
        }
    }
    static bool write(const std::vector<port_range_config>& v, std::string& out, value_style st)
    {
        if (v.empty()) {
            return false;
        }
        out += st == value_style::yaml ? "\"" : "";
        for (std::size_t i = 0; i < v.size(); ++i) {
            out += i == 0 ? "" : " ";
            append_range(out, v[i].dst_first, v[i].dst_last);
            if (v[i].src_first != 0 || v[i].src_last != 65535) {
                out += ':';
                append_range(out, v[i].src_first, v[i].src_last);
            }
        }
        out += st == value_style::yaml ? "\"" : "";
        return true;
    }
};

// Days of the week as a bit set (bit 0 Sunday), written as FortiOS's words; "none" is no day.
struct days_codec {
    static constexpr field_kind kind = field_kind::days;
    static constexpr std::array<std::string_view, 7> names{"sunday", "monday", "tuesday", "wednesday",
                                                           "thursday", "friday", "saturday"};
    static void read(reader& r, const yaml::node& n, const field_spec&, const label& what, std::uint8_t& out)
    {
        std::uint8_t days = 0;
        bool ok = true;
        for (const auto& w : r.words(n, what)) {
            if (w == "none") {
                continue;
            }
            const auto it = std::find(names.begin(), names.end(), w);
            if (it == names.end()) {
                r.error(n, fmt::format("{}: '{}' is not a day of the week", what, w));
                ok = false;
            } else {
                days = static_cast<std::uint8_t>(days | (1u << (it - names.begin())));
            }
        }
        if (ok) {
            out = days;
        }
    }
    static bool write(std::uint8_t v, std::string& out, value_style st)
    {
        out += st == value_style::yaml ? "\"" : "";
        const std::size_t start = out.size();
        for (unsigned i = 0; i < 7; ++i) {
            if ((v >> i & 1u) != 0) {
                out += out.size() == start ? "" : " ";
                out += names[i];
            }
        }
        out += out.size() == start ? "none" : "";
        out += st == value_style::yaml ? "\"" : "";
        return true;
    }
};

struct clock_codec {
    static constexpr field_kind kind = field_kind::clock;
    static void read(reader& r, const yaml::node& n, const field_spec&, const label& what, std::uint16_t& out)
    {
        if (const auto m = r.parsed(n, what, parse_clock, "a time of day HH:MM")) {
            out = *m;
        }
    }
    static bool write(std::uint16_t v, std::string& out, value_style st)
    {
        append_plain(out, fmt::format("{:02}:{:02}", v / 60, v % 60), st);
        return true;
    }
};

// Two members holding one FortiOS value: an address range (extip) or a port range (extport).
struct address_range_codec {
    static constexpr field_kind kind = field_kind::address_range;
    static void read(reader& r, const yaml::node& n, const field_spec&, const label& what, ipv4_address& first,
                     ipv4_address& last)
    {
        if (const auto a = r.parsed(n, what, parse_address_range, "an address or a range a-b")) {
            first = a->first;
            last = a->second;
        }
    }
    static bool write(ipv4_address first, ipv4_address last, std::string& out, value_style)
    {
        out += format_ipv4(first);
        if (first != last) {
            out += '-';
            out += format_ipv4(last);
        }
        return true;
    }
};

struct port_pair_codec {
    static constexpr field_kind kind = field_kind::port_range;
    static void read(reader& r, const yaml::node& n, const field_spec& f, const label& what, std::uint16_t& first,
                     std::uint16_t& last)
    {
        if (const auto p = r.parsed(n, what, [&f](std::string_view t) { return parse_port_range(t, f.min); },
                                    "a port or a range p-q")) {
            first = p->first;
            last = p->second;
        }
    }
    static bool write(std::uint16_t first, std::uint16_t last, std::string& out, value_style st)
    {
        out += st == value_style::yaml ? "\"" : "";
        append_range(out, first, last);
        out += st == value_style::yaml ? "\"" : "";
        return true;
    }
};

// ---- field makers: a codec bound to a member (or two) -----------------------------------------------

template <class M>
struct member_traits;
template <class T, class V>
struct member_traits<V T::*> {
    using object = T;
};
template <auto M>
using object_of = typename member_traits<decltype(M)>::object;

template <auto M>
auto& member(void* o)
{
    return static_cast<object_of<M>*>(o)->*M;
}
template <auto M>
const auto& member(const void* o)
{
    return static_cast<const object_of<M>*>(o)->*M;
}

template <class Codec, auto M>
field_spec make(field_spec f)
{
    f.kind = Codec::kind;
    f.read = [](reader& r, const yaml::node& n, const field_spec& s, const label& what, void* o) {
        Codec::read(r, n, s, what, member<M>(o));
    };
    f.write = [](const void* o, std::string& out, value_style st) { return Codec::write(member<M>(o), out, st); };
    f.write_default = [](std::string& out, value_style st) {
        const object_of<M> fresh{};
        return Codec::write(fresh.*M, out, st);
    };
    return f;
}

template <class Codec, auto A, auto B>
field_spec make2(field_spec f)
{
    f.kind = Codec::kind;
    f.read = [](reader& r, const yaml::node& n, const field_spec& s, const label& what, void* o) {
        Codec::read(r, n, s, what, member<A>(o), member<B>(o));
    };
    f.write = [](const void* o, std::string& out, value_style st) {
        return Codec::write(member<A>(o), member<B>(o), out, st);
    };
    f.write_default = [](std::string& out, value_style st) {
        const object_of<A> fresh{};
        return Codec::write(fresh.*A, fresh.*B, out, st);
    };
    return f;
}

template <auto M>
field_spec flag(field_spec f)
{
    return make<flag_codec, M>(f);
}
template <auto M>
field_spec number(field_spec f)
{
    return make<integer_codec<std::remove_cvref_t<decltype(std::declval<object_of<M>>().*M)>>, M>(f);
}
template <auto M>
field_spec text(field_spec f)
{
    return make<text_codec, M>(f);
}
template <auto M>
field_spec words(field_spec f)
{
    return make<words_codec, M>(f);
}

// The two words of a yes/no setting: the codec writes the word of the field's own choices, so the
// writer is made here, where the choices are known at compile time.
template <auto M, const std::string_view* Words>
field_spec two_words(field_spec f)
{
    f.kind = field_kind::choice;
    f.choices = std::span<const std::string_view>(Words, 2);
    f.read = [](reader& r, const yaml::node& n, const field_spec& s, const label& what, void* o) {
        two_words_codec::read(r, n, s, what, member<M>(o));
    };
    f.write = [](const void* o, std::string& out, value_style) {
        out += Words[member<M>(o) ? 0 : 1];
        return true;
    };
    f.write_default = [](std::string& out, value_style) {
        const object_of<M> fresh{};
        out += Words[fresh.*M ? 0 : 1];
        return true;
    };
    return f;
}

template <class T>
const T& as(const void* o)
{
    return *static_cast<const T*>(o);
}

// ---- the tables ------------------------------------------------------------------------------------
// The longest names FortiOS takes ("size" in the FortiOS 7.x CLI reference).
constexpr unsigned interface_name_max = 15;
constexpr unsigned object_name_max = 79; // address, addrgrp, service custom, vip
constexpr unsigned schedule_name_max = 31;
constexpr unsigned policy_name_max = 35;
constexpr unsigned voip_profile_name_max = 35;

constexpr std::string_view access_words[] = {"ping", "https", "ssh", "http", "telnet", "snmp", "fgfm", "fabric"};
constexpr std::string_view helper_names[] = {"ftp",     "tftp", "ras",    "h323", "tns",   "mms",
                                             "sip",     "pptp", "rtsp",   "dns-udp", "dns-tcp", "pmap",
                                             "rsh",     "dcerpc", "mgcp", "gtp-c", "gtp-u", "gtp-b"};
constexpr std::string_view alg_mode_words[] = {"proxy-based", "kernel-helper-based"};
constexpr std::string_view action_words[] = {"accept", "deny"};
constexpr std::string_view logtraffic_words[] = {"all", "utm", "disable"};
constexpr std::string_view address_types[] = {"ipmask", "iprange"};
constexpr std::string_view service_protocols[] = {"TCP/UDP/SCTP", "ICMP", "IP"};
constexpr std::string_view vip_protocols[] = {"tcp", "udp", "sctp", "icmp"};
constexpr std::string_view vip_types[] = {"static-nat"};
constexpr std::string_view feature_sets[] = {"voipd", "ips", "flow", "proxy"};
constexpr std::string_view sip_actions[] = {"pass", "discard", "respond"};
constexpr std::string_view rate_tracks[] = {"none", "src-ip", "dest-ip"};
constexpr std::string_view ssl_modes[] = {"off", "full"};
constexpr std::string_view ssl_renegotiations[] = {"allow", "deny", "secure"};
constexpr std::string_view ssl_algorithms[] = {"high", "medium", "low"};
constexpr std::string_view ssl_pfs_words[] = {"require", "deny", "allow"};
constexpr std::string_view ssl_versions[] = {"ssl-3.0", "tls-1.0", "tls-1.1", "tls-1.2", "tls-1.3"};
constexpr std::string_view msrp_actions[] = {"pass", "block", "reset", "monitor"};
constexpr std::string_view syslog_modes[] = {"udp", "legacy-reliable", "reliable"};
constexpr std::string_view syslog_priorities[] = {"default", "low"};
constexpr std::string_view syslog_enc_algorithms[] = {"high-medium", "high", "low", "disable"};
constexpr std::string_view syslog_ssl_versions[] = {"default", "SSLv3", "TLSv1", "TLSv1-1", "TLSv1-2", "TLSv1-3"};
constexpr std::string_view interface_select_methods[] = {"auto", "sdwan", "specify"};
constexpr std::string_view syslog_formats[] = {"default", "csv", "cef", "rfc5424"};
// clang-format off
const field_spec settings_fields[] = {
    two_words<&settings_config::proxy_based, alg_mode_words>({.key = "default-voip-alg-mode",
        .help = "which engine carries SIP: proxy-based (the SIP ALG) or kernel-helper-based (the session helper)",
        .example = "kernel-helper-based"}),
    make<port_list_codec, &settings_config::sip_tcp_port>({.key = "sip-tcp-port",
        .help = "TCP ports the SIP ALG takes (one or two)", .example = "5060 5064", .max = 2}),
    make<port_list_codec, &settings_config::sip_udp_port>({.key = "sip-udp-port",
        .help = "UDP ports the SIP ALG takes (one or two)", .example = "5062", .max = 2}),
    number<&settings_config::sip_ssl_port>({.key = "sip-ssl-port",
        .help = "the SIP ALG's TLS port (SIP over TLS is passed, not inspected)", .example = "5071", .min = 1, .max = 65535}),
    number<&settings_config::sip_pinholes_per_address>({.key = "sip-pinholes-per-address",
        .help = "media and Contact pinholes one inside address may hold on a worker (0: no limit; sipalg's own)",
        .example = "64", .min = 0, .max = 65535}),
    number<&settings_config::sip_nat_port_reserve>({.key = "sip-nat-port-reserve",
        .help = "percent of each worker's NAT ports that pinholes never take, kept for other sessions (sipalg's own)",
        .example = "50", .min = 0, .max = 90}),
};

const field_spec syslogd_fields[] = {
    flag<&syslogd_config::status>({.key = "status", .help = "send log lines to the syslog server (needs a server)",
        .example = "enable", .with = "server 192.0.2.10"}),
    make<address_codec, &syslogd_config::server>({.key = "server", .help = "the syslog server's IPv4 address",
        .example = "192.0.2.10"}),
    number<&syslogd_config::port>({.key = "port", .help = "the syslog server's port", .example = "6514", .min = 1, .max = 65535}),
    text<&syslogd_config::mode>({.key = "mode", .help = "udp, or reliable: TCP with RFC 6587 octet counting",
        .example = "reliable", .choices = syslog_modes}),
    text<&syslogd_config::facility>({.key = "facility", .help = "the syslog facility of the lines", .example = "local0",
        .choices = syslog_facilities}),
    text<&syslogd_config::format>({.key = "format", .help = "default (key=value), csv, cef or rfc5424",
        .example = "rfc5424", .choices = syslog_formats}),
    make<address_codec, &syslogd_config::source_ip>({.key = "source-ip",
        .help = "the address the lines are sent from (unset: the host's choice)", .example = "192.0.2.1"}),
    text<&syslogd_config::priority>({.key = "priority", .help = "FortiOS's log priority (stored)", .example = "low",
        .choices = syslog_priorities}),
    number<&syslogd_config::max_log_rate>({.key = "max-log-rate", .help = "FortiOS's MB/minute limit (stored; 0: none)",
        .example = "10", .min = 0, .max = 100000}),
    text<&syslogd_config::enc_algorithm>({.key = "enc-algorithm",
        .help = "TLS to the server: disable (sipalg has no TLS; anything else is refused)",
        .choices = syslog_enc_algorithms}),
    text<&syslogd_config::ssl_min_proto_version>({.key = "ssl-min-proto-version", .help = "stored (no TLS here)",
        .example = "TLSv1-2", .choices = syslog_ssl_versions}),
    text<&syslogd_config::certificate>({.key = "certificate", .help = "stored (no TLS here)", .example = "Fortinet_Factory",
        .max = 35}),
    text<&syslogd_config::interface_select_method>({.key = "interface-select-method",
        .help = "stored: the host's routing picks the way to the server", .example = "specify",
        .choices = interface_select_methods}),
    text<&syslogd_config::interface>({.key = "interface", .help = "stored: the host's routing picks the way to the server",
        .example = "mgmt", .max = 15}),
};

const field_spec log_disk_fields[] = {
    flag<&log_disk_config::status>({.key = "status", .help = "write log lines to sipalg.log in sipalgd's --log-dir",
        .example = "enable"}),
    number<&log_disk_config::maxlogfilesize>({.key = "maxlogfilesize",
        .help = "MB the log file may grow to before it is rotated to sipalg.log.1", .example = "10", .min = 1, .max = 1024}),
};

const field_spec global_fields[] = {
    number<&session_timers::tcp_halfopen>({.key = "tcp-halfopen-timer",
        .help = "seconds a TCP session may wait for its handshake", .example = "30", .min = 1, .max = 86400}),
    number<&session_timers::tcp_halfclose>({.key = "tcp-halfclose-timer",
        .help = "seconds a TCP session lives after one side's FIN", .example = "60", .min = 1, .max = 86400}),
    number<&session_timers::tcp_timewait>({.key = "tcp-timewait-timer",
        .help = "seconds a closed TCP session is kept", .example = "5", .min = 0, .max = 300}),
    number<&session_timers::udp_idle>({.key = "udp-idle-timer",
        .help = "seconds an idle UDP session is kept", .example = "60", .min = 1, .max = 86400}),
    text<&session_timers::hostname>({.key = "hostname", .help = "the appliance's name (shown, no effect)",
        .example = "sipalg1", .max = 35}),
};

const field_spec session_ttl_fields[] = {
    number<&session_timers::session_ttl>({.key = "default",
        .help = "seconds an idle session of any other protocol is kept", .example = "7200", .min = 300, .max = 604800}),
};

const field_spec interface_fields[] = {
    text<&interface_config::dpdk_port>({.key = "dpdk-port",
        .help = "the DPDK device the interface runs on (sipalg's own; required)", .example = "net_pcap9", .live = false, .required = true}),
    make<prefix_codec, &interface_config::ip>({.key = "ip",
        .help = "address and prefix length (a.b.c.d/len or a.b.c.d m.m.m.m; required)", .example = "10.0.1.2 255.255.255.0", .required = true,
        .min = 1, .max = 31}),
    words<&interface_config::allowaccess>({.key = "allowaccess",
        .help = "services answered on the interface's address (only ping has an effect here)", .example = "ping",
        .choices = access_words}),
    make<unicast_mac_codec, &interface_config::macaddr>({.key = "macaddr",
        .help = "the MAC address the interface sends from (unset: the port's)", .example = "02:00:00:00:00:09"}),
    number<&interface_config::mtu>({.key = "mtu", .help = "the largest IP packet sent", .example = "1400",
        .min = 576, .max = 9216}),
};

const field_spec arp_fields[] = {
    text<&arp_entry_config::interface>({.key = "interface", .help = "the interface the neighbour is on (required)",
        .example = "port2", .required = true}),
    make<address_codec, &arp_entry_config::ip>({.key = "ip", .help = "the neighbour's address (required)",
        .example = "10.0.2.77", .required = true}),
    make<mac_codec, &arp_entry_config::mac>({.key = "mac", .help = "the neighbour's MAC address (required)",
        .example = "02:00:00:00:00:77", .required = true}),
};

const field_spec route_fields[] = {
    make<prefix_codec, &static_route_config::dst>({.key = "dst", .help = "the destination prefix (default 0.0.0.0/0)",
        .example = "192.0.2.0 255.255.255.0", .min = 0, .max = 32}),
    make<address_codec, &static_route_config::gateway>({.key = "gateway", .help = "the next hop",
        .example = "10.0.2.254"}),
    text<&static_route_config::device>({.key = "device", .help = "the interface the route leaves by",
        .example = "port1"}),
    number<&static_route_config::distance>({.key = "distance", .help = "administrative distance (lower wins)",
        .example = "20", .min = 1, .max = 255}),
    flag<&static_route_config::enabled>({.key = "status", .help = "whether the route is used", .example = "disable"}),
    flag<&static_route_config::blackhole>({.key = "blackhole", .help = "drop what the route matches",
        .example = "enable"}),
};

const field_spec address_fields[] = {
    text<&address_config::type>({.key = "type", .help = "ipmask (subnet) or iprange (start-ip, end-ip)",
        .example = "iprange", .with = "start-ip 10.9.0.1; end-ip 10.9.0.200", .choices = address_types}),
    make<prefix_codec, &address_config::subnet>({.key = "subnet", .help = "the addresses of the prefix",
        .example = "10.9.0.0 255.255.0.0", .with = "type ipmask", .required = true, .min = 0, .max = 32,
        .shown = [](const void* o) { return as<address_config>(o).type == "ipmask"; }}),
    make<address_codec, &address_config::start_ip>({.key = "start-ip", .help = "the range's first address",
        .example = "10.9.0.1", .with = "type iprange; end-ip 10.9.0.200", .required = true,
        .shown = [](const void* o) { return as<address_config>(o).type == "iprange"; }}),
    make<address_codec, &address_config::end_ip>({.key = "end-ip", .help = "the range's last address",
        .example = "10.9.0.200", .with = "type iprange; start-ip 10.9.0.1", .required = true,
        .shown = [](const void* o) { return as<address_config>(o).type == "iprange"; }}),
    text<&address_config::comment>({.key = "comment", .help = "a note", .example = "\"lab phones\"", .max = 255}),
};

const field_spec addrgrp_fields[] = {
    words<&addrgrp_config::member>({.key = "member", .help = "addresses, groups or VIPs (required)",
        .example = "lan", .required = true, .min = 1}),
    text<&addrgrp_config::comment>({.key = "comment", .help = "a note", .example = "phones", .max = 255}),
};

const auto is_ports = [](const void* o) { return as<service_config>(o).protocol == "TCP/UDP/SCTP"; };
const field_spec service_fields[] = {
    text<&service_config::protocol>({.key = "protocol", .help = "TCP/UDP/SCTP (port ranges), ICMP or IP",
        .example = "IP", .choices = service_protocols}),
    make<service_ports_codec, &service_config::tcp>({.key = "tcp-portrange",
        .help = "TCP ports: dst[-dst][:src[-src]] ...", .example = "8080-8081:1024-65535", .with = "protocol TCP/UDP/SCTP",
        .shown = is_ports}),
    make<service_ports_codec, &service_config::udp>({.key = "udp-portrange",
        .help = "UDP ports: dst[-dst][:src[-src]] ...", .example = "5004", .with = "protocol TCP/UDP/SCTP",
        .shown = is_ports}),
    make<service_ports_codec, &service_config::sctp>({.key = "sctp-portrange",
        .help = "SCTP ports: dst[-dst][:src[-src]] ...", .example = "2905", .with = "protocol TCP/UDP/SCTP",
        .shown = is_ports}),
    make<icmp_type_codec, &service_config::icmptype>({.key = "icmptype", .help = "the ICMP type (unset: any)",
        .example = "8", .with = "protocol ICMP", .min = 0, .max = 255,
        .shown = [](const void* o) { return as<service_config>(o).protocol == "ICMP"; }}),
    number<&service_config::protocol_number>({.key = "protocol-number", .help = "the IP protocol (0: any)",
        .example = "47", .with = "protocol IP", .min = 0, .max = 254,
        .shown = [](const void* o) { return as<service_config>(o).protocol == "IP"; }}),
    text<&service_config::category>({.key = "category", .help = "the GUI's category (no effect)",
        .example = "VoIP", .max = 63}),
    text<&service_config::comment>({.key = "comment", .help = "a note", .example = "RTP", .max = 255}),
};

const field_spec schedule_fields[] = {
    make<days_codec, &schedule_config::days>({.key = "day", .help = "days of the week, or none",
        .example = "monday friday"}),
    make<clock_codec, &schedule_config::start>({.key = "start", .help = "HH:MM the schedule starts", .example = "08:00"}),
    make<clock_codec, &schedule_config::end>({.key = "end", .help = "HH:MM the schedule ends (before start: past midnight)",
        .example = "18:30"}),
    number<&schedule_config::color>({.key = "color", .help = "the GUI's color (no effect)", .example = "3",
        .min = 0, .max = 32}),
};

const auto is_forwarding = [](const void* o) { return as<vip_config>(o).portforward; };
const auto is_port_forwarding = [](const void* o) {
    return as<vip_config>(o).portforward && as<vip_config>(o).protocol != "icmp";
};
const field_spec vip_fields[] = {
    text<&vip_config::type>({.key = "type", .help = "static-nat (the only type here)", .choices = vip_types}),
    text<&vip_config::extintf>({.key = "extintf", .help = "the interface the VIP answers on (any: every one)",
        .example = "port2"}),
    make2<address_range_codec, &vip_config::extip_first, &vip_config::extip_last>({.key = "extip",
        .help = "the public address or range a-b (required)", .example = "198.51.100.20", .required = true}),
    make2<address_range_codec, &vip_config::mappedip_first, &vip_config::mappedip_last>({.key = "mappedip",
        .help = "the inside address, or a range as large as extip (required)", .example = "10.0.1.20", .required = true}),
    flag<&vip_config::portforward>({.key = "portforward", .help = "translate one protocol's ports only",
        .example = "enable", .with = "extport 5070"}),
    text<&vip_config::protocol>({.key = "protocol", .help = "tcp, udp, sctp or icmp", .example = "udp",
        .with = "portforward enable; extport 5070", .choices = vip_protocols, .shown = is_forwarding}),
    make2<port_pair_codec, &vip_config::extport_first, &vip_config::extport_last>({.key = "extport",
        .help = "the public port or range", .example = "5070",
        .with = "portforward enable", .required = true, .min = 1, .shown = is_port_forwarding}),
    make2<port_pair_codec, &vip_config::mappedport_first, &vip_config::mappedport_last>({.key = "mappedport",
        .help = "the inside port, or a range as large as extport (unset: extport)", .example = "5080",
        .with = "portforward enable; extport 5070", .min = 1, .shown = is_port_forwarding}),
    text<&vip_config::comment>({.key = "comment", .help = "a note", .example = "PBX", .max = 255}),
};

const field_spec policy_fields[] = {
    text<&policy_config::name>({.key = "name", .help = "the policy's name", .example = "voice", .max = policy_name_max}),
    words<&policy_config::srcintf>({.key = "srcintf", .help = "incoming interfaces (any: every one)", .example = "port1", .min = 1}),
    words<&policy_config::dstintf>({.key = "dstintf", .help = "outgoing interfaces (any: every one)", .example = "port2", .min = 1}),
    two_words<&policy_config::accept, action_words>({.key = "action", .help = "accept or deny", .example = "deny"}),
    words<&policy_config::srcaddr>({.key = "srcaddr", .help = "source addresses or groups", .example = "lan", .min = 1}),
    words<&policy_config::dstaddr>({.key = "dstaddr", .help = "destination addresses, groups or VIPs", .example = "lan", .min = 1}),
    text<&policy_config::schedule>({.key = "schedule", .help = "when the policy applies (always, or a schedule)",
        .example = "office"}),
    words<&policy_config::service>({.key = "service", .help = "services (ALL, SIP, ... or custom ones)", .example = "SIP", .min = 1}),
    flag<&policy_config::utm_status>({.key = "utm-status", .help = "security profiles on (FortiOS: needed for a VoIP profile's SIP ALG)",
        .example = "enable"}),
    text<&policy_config::voip_profile>({.key = "voip-profile", .help = "the VoIP profile of the SIP ALG (proxy-based)",
        .example = "default"}),
    text<&policy_config::ips_voip_filter>({.key = "ips-voip-filter", .help = "the VoIP profile of flow-based SIP",
        .example = "default"}),
    text<&policy_config::logtraffic>({.key = "logtraffic", .help = "all, utm or disable", .example = "all",
        .choices = logtraffic_words}),
    flag<&policy_config::nat>({.key = "nat", .help = "source NAT to the outgoing interface's address", .example = "enable"}),
    flag<&policy_config::enabled>({.key = "status", .help = "whether the policy is used", .example = "disable"}),
    text<&policy_config::comments>({.key = "comments", .help = "a note", .example = "\"calls out\"", .max = 1023}),
    text<&policy_config::uuid>({.key = "uuid", .help = "FortiOS's identifier, kept as given (no effect)",
        .example = "2d3b6c7e-4f4a-51ee-1234-0123456789ab", .max = 36}),
};

const field_spec session_helper_fields[] = {
    text<&session_helper_config::name>({.key = "name", .help = "the helper (sip, ftp, ...; required)", .example = "sip", .required = true,
        .choices = helper_names}),
    number<&session_helper_config::protocol>({.key = "protocol", .help = "IP protocol: 6 TCP, 17 UDP", .example = "6",
        .min = 0, .max = 255}),
    number<&session_helper_config::port>({.key = "port", .help = "the port it takes (required)", .example = "5062", .required = true,
        .min = 1, .max = 65535}),
};

const field_spec voip_sip_fields[] = {
    flag<&voip_profile_config::sip_status>({.key = "status", .help = "SIP inspection on", .example = "disable"}),
    flag<&voip_profile_config::sip_rtp>({.key = "rtp", .help = "open pinholes for the media SDP offers", .example = "disable"}),
    flag<&voip_profile_config::open_register_pinhole>({.key = "open-register-pinhole",
        .help = "a 2xx to a REGISTER opens the Contact to inbound requests", .example = "disable"}),
    flag<&voip_profile_config::open_contact_pinhole>({.key = "open-contact-pinhole",
        .help = "other messages' Contact port opens too, when it is not the session's", .example = "disable"}),
    flag<&voip_profile_config::strict_register>({.key = "strict-register",
        .help = "the registration pinhole admits the registrar only", .example = "disable"}),
    flag<&voip_profile_config::contact_fixup>({.key = "contact-fixup",
        .help = "translate Contact when its host is the party's, even on another port", .example = "disable"}),
    flag<&voip_profile_config::no_sdp_fixup>({.key = "no-sdp-fixup",
        .help = "leave SDP as written (the PBX writes its public address itself)", .example = "enable"}),
    flag<&voip_profile_config::nat_trace>({.key = "nat-trace",
        .help = "add the original address as an SDP i= line (off here by default: it discloses it)", .example = "enable",
        .note = "nat-trace: disable by default here (FortiOS: enable), so that no inside address leaves unasked"}),
    flag<&voip_profile_config::preserve_override>({.key = "preserve-override",
        .help = "with nat-trace, replace an existing i= line", .example = "enable"}),
    flag<&voip_profile_config::hosted_nat_traversal>({.key = "hosted-nat-traversal",
        .help = "a remote phone behind its own NAT: write the address it is seen from", .example = "enable"}),
    flag<&voip_profile_config::hnt_restrict_source_ip>({.key = "hnt-restrict-source-ip",
        .help = "with hosted-nat-traversal, take its media from that address only", .example = "enable"}),
    make<port_range_codec, &voip_profile_config::nat_port_range>({.key = "nat-port-range",
        .help = "where translated media ports come from, low-high (unset: anywhere)", .example = "20000-29999",
        .min = 1024}),
    number<&voip_profile_config::max_dialogs>({.key = "max-dialogs", .help = "calls at once per policy (0: no limit)",
        .example = "100", .min = 0, .max = 4294967295u}),
    number<&voip_profile_config::provisional_invite_expiry_time>({.key = "provisional-invite-expiry-time",
        .help = "seconds an INVITE may wait for its final answer", .example = "60", .min = 10, .max = 3600}),
    number<&voip_profile_config::register_expiry_max>({.key = "register-expiry-max",
        .help = "the longest a registration pinhole lasts, whatever the registrar grants (sipalg's own)",
        .example = "600", .min = 60, .max = 604800}),
    flag<&voip_profile_config::open_privileged_pinhole>({.key = "open-privileged-pinhole",
        .help = "let pinholes open to inside ports below 1024 (sipalg's own; off stops NAT Slipstreaming's shapes)",
        .example = "enable"}),
    text<&voip_profile_config::unknown_header>({.key = "unknown-header", .help = "a header line of no known name: pass, discard or respond (400)", .example = "discard", .choices = sip_actions}),
    text<&voip_profile_config::malformed_request_line>({.key = "malformed-request-line", .help = "malformed the request line: pass, discard or respond (400)", .example = "discard", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_via>({.key = "malformed-header-via", .help = "malformed Via: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_from>({.key = "malformed-header-from", .help = "malformed From: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_to>({.key = "malformed-header-to", .help = "malformed To: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_call_id>({.key = "malformed-header-call-id", .help = "malformed Call-ID: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_cseq>({.key = "malformed-header-cseq", .help = "malformed CSeq: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_rack>({.key = "malformed-header-rack", .help = "malformed RAck (RFC 3262): pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_rseq>({.key = "malformed-header-rseq", .help = "malformed RSeq (RFC 3262): pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_contact>({.key = "malformed-header-contact", .help = "malformed Contact: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_record_route>({.key = "malformed-header-record-route", .help = "malformed Record-Route: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_route>({.key = "malformed-header-route", .help = "malformed Route: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_expires>({.key = "malformed-header-expires", .help = "malformed Expires: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_content_type>({.key = "malformed-header-content-type", .help = "malformed Content-Type: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_content_length>({.key = "malformed-header-content-length", .help = "malformed Content-Length: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_max_forwards>({.key = "malformed-header-max-forwards", .help = "malformed Max-Forwards: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_allow>({.key = "malformed-header-allow", .help = "malformed Allow: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_p_asserted_identity>({.key = "malformed-header-p-asserted-identity", .help = "malformed P-Asserted-Identity (RFC 3325): pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_no_require>({.key = "malformed-header-no-require", .help = "malformed a request without Require: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_no_proxy_require>({.key = "malformed-header-no-proxy-require", .help = "malformed a request without Proxy-Require: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_sdp_v>({.key = "malformed-header-sdp-v", .help = "malformed the SDP v= line: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_sdp_o>({.key = "malformed-header-sdp-o", .help = "malformed the SDP o= line: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_sdp_s>({.key = "malformed-header-sdp-s", .help = "malformed the SDP s= line: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_sdp_i>({.key = "malformed-header-sdp-i", .help = "malformed the SDP i= line: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_sdp_c>({.key = "malformed-header-sdp-c", .help = "malformed the SDP c= line: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_sdp_b>({.key = "malformed-header-sdp-b", .help = "malformed the SDP b= line: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_sdp_z>({.key = "malformed-header-sdp-z", .help = "malformed the SDP z= line: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_sdp_k>({.key = "malformed-header-sdp-k", .help = "malformed the SDP k= line: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_sdp_a>({.key = "malformed-header-sdp-a", .help = "malformed the SDP a= line: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_sdp_t>({.key = "malformed-header-sdp-t", .help = "malformed the SDP t= line: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_sdp_r>({.key = "malformed-header-sdp-r", .help = "malformed the SDP r= line: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    text<&voip_profile_config::malformed_header_sdp_m>({.key = "malformed-header-sdp-m", .help = "malformed the SDP m= line: pass, discard or respond (400)", .example = "respond", .choices = sip_actions}),
    number<&voip_profile_config::max_line_length>({.key = "max-line-length", .help = "the longest header line, bytes", .example = "512", .min = 78, .max = 4096}),
    flag<&voip_profile_config::block_long_lines>({.key = "block-long-lines", .help = "answer a request with a longer line 413 and drop it", .example = "disable"}),
    number<&voip_profile_config::max_body_length>({.key = "max-body-length", .help = "the longest body, bytes (0: no limit); a longer request is answered 413", .example = "4096", .min = 0, .max = 4294967295u}),
    flag<&voip_profile_config::block_unknown>({.key = "block-unknown", .help = "drop requests of a method not known", .example = "disable"}),
    flag<&voip_profile_config::block_ack>({.key = "block-ack", .help = "drop ACK requests", .example = "enable"}),
    flag<&voip_profile_config::block_bye>({.key = "block-bye", .help = "drop BYE requests", .example = "enable"}),
    flag<&voip_profile_config::block_cancel>({.key = "block-cancel", .help = "drop CANCEL requests", .example = "enable"}),
    flag<&voip_profile_config::block_info>({.key = "block-info", .help = "drop INFO requests", .example = "enable"}),
    flag<&voip_profile_config::block_invite>({.key = "block-invite", .help = "drop INVITE requests", .example = "enable"}),
    flag<&voip_profile_config::block_message>({.key = "block-message", .help = "drop MESSAGE requests", .example = "enable"}),
    flag<&voip_profile_config::block_notify>({.key = "block-notify", .help = "drop NOTIFY requests", .example = "enable"}),
    flag<&voip_profile_config::block_options>({.key = "block-options", .help = "drop OPTIONS requests", .example = "enable"}),
    flag<&voip_profile_config::block_prack>({.key = "block-prack", .help = "drop PRACK requests", .example = "enable"}),
    flag<&voip_profile_config::block_publish>({.key = "block-publish", .help = "drop PUBLISH requests", .example = "enable"}),
    flag<&voip_profile_config::block_refer>({.key = "block-refer", .help = "drop REFER requests", .example = "enable"}),
    flag<&voip_profile_config::block_register>({.key = "block-register", .help = "drop REGISTER requests", .example = "enable"}),
    flag<&voip_profile_config::block_subscribe>({.key = "block-subscribe", .help = "drop SUBSCRIBE requests", .example = "enable"}),
    flag<&voip_profile_config::block_update>({.key = "block-update", .help = "drop UPDATE requests", .example = "enable"}),
    flag<&voip_profile_config::block_geo_red_options>({.key = "block-geo-red-options", .help = "drop OPTIONS requests (FortiOS still reads them as redundancy heartbeats)", .example = "enable"}),
    number<&voip_profile_config::register_rate>({.key = "register-rate", .help = "REGISTER requests per second, per policy or per tracked address (0: no limit)", .example = "100", .min = 0, .max = 4294967295u}),
    text<&voip_profile_config::register_rate_track>({.key = "register-rate-track", .help = "register-rate per policy (none), per source or per destination address", .example = "src-ip", .choices = rate_tracks}),
    number<&voip_profile_config::invite_rate>({.key = "invite-rate", .help = "INVITE requests per second, per policy or per tracked address (0: no limit)", .example = "100", .min = 0, .max = 4294967295u}),
    text<&voip_profile_config::invite_rate_track>({.key = "invite-rate-track", .help = "invite-rate per policy (none), per source or per destination address", .example = "src-ip", .choices = rate_tracks}),
    number<&voip_profile_config::subscribe_rate>({.key = "subscribe-rate", .help = "SUBSCRIBE requests per second, per policy or per tracked address (0: no limit)", .example = "100", .min = 0, .max = 4294967295u}),
    text<&voip_profile_config::subscribe_rate_track>({.key = "subscribe-rate-track", .help = "subscribe-rate per policy (none), per source or per destination address", .example = "src-ip", .choices = rate_tracks}),
    number<&voip_profile_config::message_rate>({.key = "message-rate", .help = "MESSAGE requests per second, per policy or per tracked address (0: no limit)", .example = "100", .min = 0, .max = 4294967295u}),
    text<&voip_profile_config::message_rate_track>({.key = "message-rate-track", .help = "message-rate per policy (none), per source or per destination address", .example = "src-ip", .choices = rate_tracks}),
    number<&voip_profile_config::notify_rate>({.key = "notify-rate", .help = "NOTIFY requests per second, per policy or per tracked address (0: no limit)", .example = "100", .min = 0, .max = 4294967295u}),
    text<&voip_profile_config::notify_rate_track>({.key = "notify-rate-track", .help = "notify-rate per policy (none), per source or per destination address", .example = "src-ip", .choices = rate_tracks}),
    number<&voip_profile_config::refer_rate>({.key = "refer-rate", .help = "REFER requests per second, per policy or per tracked address (0: no limit)", .example = "100", .min = 0, .max = 4294967295u}),
    text<&voip_profile_config::refer_rate_track>({.key = "refer-rate-track", .help = "refer-rate per policy (none), per source or per destination address", .example = "src-ip", .choices = rate_tracks}),
    number<&voip_profile_config::update_rate>({.key = "update-rate", .help = "UPDATE requests per second, per policy or per tracked address (0: no limit)", .example = "100", .min = 0, .max = 4294967295u}),
    text<&voip_profile_config::update_rate_track>({.key = "update-rate-track", .help = "update-rate per policy (none), per source or per destination address", .example = "src-ip", .choices = rate_tracks}),
    number<&voip_profile_config::options_rate>({.key = "options-rate", .help = "OPTIONS requests per second, per policy or per tracked address (0: no limit)", .example = "100", .min = 0, .max = 4294967295u}),
    text<&voip_profile_config::options_rate_track>({.key = "options-rate-track", .help = "options-rate per policy (none), per source or per destination address", .example = "src-ip", .choices = rate_tracks}),
    number<&voip_profile_config::ack_rate>({.key = "ack-rate", .help = "ACK requests per second, per policy or per tracked address (0: no limit)", .example = "100", .min = 0, .max = 4294967295u}),
    text<&voip_profile_config::ack_rate_track>({.key = "ack-rate-track", .help = "ack-rate per policy (none), per source or per destination address", .example = "src-ip", .choices = rate_tracks}),
    number<&voip_profile_config::prack_rate>({.key = "prack-rate", .help = "PRACK requests per second, per policy or per tracked address (0: no limit)", .example = "100", .min = 0, .max = 4294967295u}),
    text<&voip_profile_config::prack_rate_track>({.key = "prack-rate-track", .help = "prack-rate per policy (none), per source or per destination address", .example = "src-ip", .choices = rate_tracks}),
    number<&voip_profile_config::info_rate>({.key = "info-rate", .help = "INFO requests per second, per policy or per tracked address (0: no limit)", .example = "100", .min = 0, .max = 4294967295u}),
    text<&voip_profile_config::info_rate_track>({.key = "info-rate-track", .help = "info-rate per policy (none), per source or per destination address", .example = "src-ip", .choices = rate_tracks}),
    number<&voip_profile_config::publish_rate>({.key = "publish-rate", .help = "PUBLISH requests per second, per policy or per tracked address (0: no limit)", .example = "100", .min = 0, .max = 4294967295u}),
    text<&voip_profile_config::publish_rate_track>({.key = "publish-rate-track", .help = "publish-rate per policy (none), per source or per destination address", .example = "src-ip", .choices = rate_tracks}),
    number<&voip_profile_config::bye_rate>({.key = "bye-rate", .help = "BYE requests per second, per policy or per tracked address (0: no limit)", .example = "100", .min = 0, .max = 4294967295u}),
    text<&voip_profile_config::bye_rate_track>({.key = "bye-rate-track", .help = "bye-rate per policy (none), per source or per destination address", .example = "src-ip", .choices = rate_tracks}),
    number<&voip_profile_config::cancel_rate>({.key = "cancel-rate", .help = "CANCEL requests per second, per policy or per tracked address (0: no limit)", .example = "100", .min = 0, .max = 4294967295u}),
    text<&voip_profile_config::cancel_rate_track>({.key = "cancel-rate-track", .help = "cancel-rate per policy (none), per source or per destination address", .example = "src-ip", .choices = rate_tracks}),
    number<&voip_profile_config::max_idle_dialogs>({.key = "max-idle-dialogs", .help = "answered calls with no message for a while kept per policy (0: no limit)", .example = "50", .min = 0, .max = 4294967295u}),
    number<&voip_profile_config::call_keepalive>({.key = "call-keepalive", .help = "minutes a call without media is still followed (0: until it ends)", .example = "30", .min = 0, .max = 10080}),
    flag<&voip_profile_config::open_via_pinhole>({.key = "open-via-pinhole", .help = "a Via port of the party other than the session's opens for its responses", .example = "enable"}),
    flag<&voip_profile_config::open_record_route_pinhole>({.key = "open-record-route-pinhole", .help = "a Record-Route port of the party other than the session's opens for requests", .example = "disable"}),
    flag<&voip_profile_config::register_contact_trace>({.key = "register-contact-trace", .help = "a REGISTER's Contact keeps the original address and port as a parameter", .example = "enable"}),
    flag<&voip_profile_config::rfc2543_branch>({.key = "rfc2543-branch", .help = "accept requests whose Via branch lacks RFC 3261's z9hG4bK", .example = "enable"}),
    flag<&voip_profile_config::ips_rtp>({.key = "ips-rtp", .help = "let IPS inspect the media (stored: there is no IPS engine here)", .example = "disable"}),
    flag<&voip_profile_config::log_violations>({.key = "log-violations", .help = "log what the checks, blocks and limits refuse", .example = "enable"}),
    flag<&voip_profile_config::log_call_summary>({.key = "log-call-summary", .help = "log each call's summary", .example = "disable"}),
    text<&voip_profile_config::ssl_mode>({.key = "ssl-mode", .help = "SIP over TLS: off (full is refused until SIP over TLS exists)", .choices = ssl_modes}),
    flag<&voip_profile_config::ssl_send_empty_frags>({.key = "ssl-send-empty-frags", .help = "TLS: empty fragments before CBC records (stored)", .example = "disable"}),
    text<&voip_profile_config::ssl_client_renegotiation>({.key = "ssl-client-renegotiation", .help = "TLS: client renegotiation (stored)", .example = "deny", .choices = ssl_renegotiations}),
    text<&voip_profile_config::ssl_algorithm>({.key = "ssl-algorithm", .help = "TLS: cipher strength (stored)", .example = "medium", .choices = ssl_algorithms}),
    text<&voip_profile_config::ssl_pfs>({.key = "ssl-pfs", .help = "TLS: perfect forward secrecy (stored)", .example = "require", .choices = ssl_pfs_words}),
    text<&voip_profile_config::ssl_min_version>({.key = "ssl-min-version", .help = "TLS: lowest version (stored)", .example = "tls-1.2", .choices = ssl_versions}),
    text<&voip_profile_config::ssl_max_version>({.key = "ssl-max-version", .help = "TLS: highest version (stored)", .example = "tls-1.3", .choices = ssl_versions}),
    text<&voip_profile_config::ssl_client_certificate>({.key = "ssl-client-certificate", .help = "TLS: the certificate offered to servers (stored)", .example = "sip-cert", .max = 35}),
    text<&voip_profile_config::ssl_server_certificate>({.key = "ssl-server-certificate", .help = "TLS: the certificate offered to clients (stored)", .example = "sip-cert", .max = 35}),
    text<&voip_profile_config::ssl_auth_client>({.key = "ssl-auth-client", .help = "TLS: the peer or peer group clients are checked against (stored)", .example = "sip-cert", .max = 35}),
    text<&voip_profile_config::ssl_auth_server>({.key = "ssl-auth-server", .help = "TLS: the peer or peer group servers are checked against (stored)", .example = "sip-cert", .max = 35}),
};

const field_spec voip_sccp_fields[] = {
    flag<&voip_profile_config::sccp_status>({.key = "status", .help = "SCCP inspection (not supported here: disable only)"}),
    flag<&voip_profile_config::sccp_block_mcast>({.key = "block-mcast", .help = "SCCP: block multicast media (stored)", .example = "enable"}),
    flag<&voip_profile_config::sccp_verify_header>({.key = "verify-header", .help = "SCCP: verify headers (stored)", .example = "enable"}),
    flag<&voip_profile_config::sccp_log_call_summary>({.key = "log-call-summary", .help = "SCCP: call summary logs (stored)", .example = "enable"}),
    flag<&voip_profile_config::sccp_log_violations>({.key = "log-violations", .help = "SCCP: violation logs (stored)", .example = "enable"}),
    number<&voip_profile_config::sccp_max_calls>({.key = "max-calls", .help = "SCCP: calls per minute per client (stored)", .example = "10", .min = 0, .max = 65535}),
};

const field_spec voip_msrp_fields[] = {
    flag<&voip_profile_config::msrp_status>({.key = "status", .help = "MSRP inspection (not supported here: disable only)"}),
    flag<&voip_profile_config::msrp_log_violations>({.key = "log-violations", .help = "MSRP: violation logs (stored)", .example = "enable"}),
    number<&voip_profile_config::msrp_max_msg_size>({.key = "max-msg-size", .help = "MSRP: the largest message (stored)", .example = "2048", .min = 0, .max = 65535}),
    text<&voip_profile_config::msrp_max_msg_size_action>({.key = "max-msg-size-action", .help = "MSRP: what a larger message gets (stored)", .example = "block", .choices = msrp_actions}),
};

const field_spec voip_fields[] = {
    text<&voip_profile_config::feature_set>({.key = "feature-set", .help = "voipd (the SIP ALG) or ips (flow-based)",
        .example = "ips", .choices = feature_sets}),
    text<&voip_profile_config::comment>({.key = "comment", .help = "a note", .example = "phones", .max = 255}),
};
// clang-format on

const block_spec settings_block{settings_fields, {}};
const block_spec global_block{global_fields, {}};
const block_spec syslogd_block{syslogd_fields, {}};
const block_spec log_disk_block{log_disk_fields, {}};
const block_spec session_ttl_block{session_ttl_fields, {}};
const block_spec interface_block{interface_fields, {}};
const block_spec arp_block{arp_fields, {}};
const block_spec route_block{route_fields, {}};
const block_spec address_block{address_fields, {}};
const block_spec addrgrp_block{addrgrp_fields, {}};
const block_spec service_block{service_fields, {}};
const block_spec schedule_block{schedule_fields, {}};
const block_spec vip_block{vip_fields, {}};
const block_spec policy_block{policy_fields, {}};
const block_spec session_helper_block{session_helper_fields, {}};
const block_spec voip_sip_block{voip_sip_fields, {}};
const block_spec voip_sccp_block{voip_sccp_fields, {}};
const block_spec voip_msrp_block{voip_msrp_fields, {}};
const sub_block voip_blocks[] = {{"sip", &voip_sip_block}, {"sccp", &voip_sccp_block}, {"msrp", &voip_msrp_block}};
const block_spec voip_block{voip_fields, voip_blocks};

// ---- each section's finish: what ties an entry's fields together ------------------------------------

void finish_route(reader& r, const yaml::node& key, const label& what, void* o, const field_positions& present)
{
    auto& s = *static_cast<static_route_config*>(o);
    if (s.dst.address != s.dst.network()) {
        r.error_at(where_of(present, "dst", key.where), fmt::format("{} dst {} has host bits set", what, format_prefix(s.dst)));
    }
    if (!s.blackhole && s.gateway == 0 && s.device.empty()) {
        r.error(key, fmt::format("{} needs a gateway, a device, or blackhole enable", what));
    }
}

void finish_syslogd(reader& r, const yaml::node& key, const label& what, void* o, const field_positions& present)
{
    const auto& s = *static_cast<syslogd_config*>(o);
    if (s.status && s.server == 0) {
        r.error_at(where_of(present, "status", key.where), fmt::format("{}: status enable needs a server", what));
    }
    if (s.mode == "legacy-reliable") {
        r.error_at(where_of(present, "mode", key.where),
                   fmt::format("{}: mode legacy-reliable (RFC 3195, BEEP) is not supported; use reliable (RFC 6587 over TCP)", what));
    }
    if (s.enc_algorithm != "disable") {
        r.error_at(where_of(present, "enc-algorithm", key.where),
                   fmt::format("{}: enc-algorithm {} is not supported (no TLS to the syslog server here); use disable", what,
                               s.enc_algorithm));
    }
}

void finish_address(reader& r, const yaml::node& key, const label& what, void* o, const field_positions&)
{
    auto& a = *static_cast<address_config*>(o);
    if (a.type == "ipmask") {
        a.first = a.subnet.network();
        a.last = a.subnet.broadcast();
    } else if (a.end_ip < a.start_ip) {
        r.error(key, fmt::format("{}: end-ip is before start-ip", what));
    } else {
        a.first = a.start_ip;
        a.last = a.end_ip;
    }
}

void finish_service(reader& r, const yaml::node& key, const label& what, void* o, const field_positions&)
{
    const auto& sv = *static_cast<service_config*>(o);
    if (sv.protocol == "TCP/UDP/SCTP" && sv.tcp.empty() && sv.udp.empty() && sv.sctp.empty()) {
        r.error(key, fmt::format("{} needs tcp-portrange, udp-portrange or sctp-portrange", what));
    }
}

void finish_vip(reader& r, const yaml::node& key, const label& what, void* o, const field_positions& present)
{
    auto& vp = *static_cast<vip_config*>(o);
    if (has_field(present, "extip") && has_field(present, "mappedip") &&
        vp.mappedip_last - vp.mappedip_first != vp.extip_last - vp.extip_first &&
               vp.mappedip_first != vp.mappedip_last) {
        r.error(key, fmt::format("{}: mappedip must be one address or a range as large as extip", what));
    }
    if (vp.mappedip_first == vp.mappedip_last) {
        vp.mappedip_last = vp.mappedip_first + (vp.extip_last - vp.extip_first);
    }
    if (vp.portforward && vp.protocol != "icmp") {
        if (!has_field(present, "mappedport")) {
            vp.mappedport_first = vp.extport_first;
            vp.mappedport_last = vp.extport_last;
        } else if (vp.mappedport_last - vp.mappedport_first != vp.extport_last - vp.extport_first &&
                   vp.mappedport_first != vp.mappedport_last) {
            r.error(key, fmt::format("{}: mappedport must be one port or a range as large as extport", what));
        }
    }
}

void finish_voip_profile(reader& r, const yaml::node& key, const label& what, void* o, const field_positions& present)
{
    auto& p = *static_cast<voip_profile_config*>(o);
    // What FortiOS has and this appliance does not do: refused, so that no profile seems to do it.
    if (p.ssl_mode == "full") {
        r.error_at(where_of(present, "sip ssl-mode", key.where),
                   fmt::format("{}: sip ssl-mode full is not supported (there is no SIP over TLS here yet); use off", what));
    }
    if (p.sccp_status) {
        r.error_at(where_of(present, "sccp status", key.where),
                   fmt::format("{}: sccp status enable is not supported (SCCP is not inspected here); use disable", what));
    }
    if (p.msrp_status) {
        r.error_at(where_of(present, "msrp status", key.where),
                   fmt::format("{}: msrp status enable is not supported (MSRP is not inspected here); use disable", what));
    }
    // FortiOS's older names of the two feature sets.
    if (p.feature_set == "flow") {
        p.feature_set = "ips";
    } else if (p.feature_set == "proxy") {
        p.feature_set = "voipd";
    }
}

// ---- sections ---------------------------------------------------------------------------------------

template <auto Table>
section_spec table_section(section_spec s)
{
    using entry = typename std::remove_cvref_t<decltype(std::declval<config>().*Table)>::value_type;
    s.count = [](const config& c) { return (c.*Table).size(); };
    s.entry = [](const config& c, std::size_t i) -> const void* { return &(c.*Table)[i]; };
    s.clear = [](config& c) { (c.*Table).clear(); };
    s.append = [](config& c) -> void* { return &(c.*Table).emplace_back(); };
    s.where = [](void* o) -> source_position& { return static_cast<entry*>(o)->where; };
    s.positions = [](void* o) -> field_positions* {
        if constexpr (requires(entry e) { e.fields; }) {
            return &static_cast<entry*>(o)->fields;
        } else {
            return nullptr;
        }
    };
    if constexpr (requires(entry e) { e.id; }) { // a policy's or helper's name is a field; the id keys it
        s.key = entry_key::id;
        s.entry_name = [](const void* o, std::string& out) { fmt::format_to(std::back_inserter(out), "{}", static_cast<const entry*>(o)->id); };
        s.set_name = [](void* o, std::string_view, std::uint32_t id) { static_cast<entry*>(o)->id = id; };
        s.id_of = [](const void* o) { return static_cast<const entry*>(o)->id; };
    } else {
        s.key = entry_key::name;
        s.entry_name = [](const void* o, std::string& out) { out += static_cast<const entry*>(o)->name; };
        s.set_name = [](void* o, std::string_view name, std::uint32_t) { static_cast<entry*>(o)->name = name; };
    }
    return s;
}

template <auto Object>
section_spec object_section(section_spec s)
{
    s.key = entry_key::none;
    s.object = [](const config& c) -> const void* { return &(c.*Object); };
    s.append = [](config& c) -> void* { return &(c.*Object); };
    return s;
}

// clang-format off
const section_spec sections[] = {
    object_section<&config::settings>({.path = "system settings", .bit = section::settings,
        .help = "the VoIP engine and the SIP ALG's ports", .block = &settings_block}),
    object_section<&config::timers>({.path = "system global", .bit = section::global,
        .help = "session timers", .block = &global_block}),
    object_section<&config::timers>({.path = "system session-ttl", .bit = section::session_ttl,
        .help = "the idle timer of other protocols", .block = &session_ttl_block}),
    table_section<&config::interfaces>({.path = "system interface", .bit = section::interface,
        .name_max = interface_name_max, .help = "interfaces, each on a DPDK port (fixed while running)",
        .block = &interface_block}),
    table_section<&config::arp_table>({.path = "system arp-table", .bit = section::arp_table,
        .help = "static neighbours", .block = &arp_block}),
    table_section<&config::session_helpers>({.path = "system session-helper", .bit = section::session_helper,
        .help = "which helper takes which protocol and port (the whole table: a section replaces it)",
        .block = &session_helper_block}),
    table_section<&config::static_routes>({.path = "router static", .bit = section::router_static,
        .help = "static routes", .block = &route_block, .finish = finish_route}),
    table_section<&config::voip_profiles>({.path = "voip profile", .bit = section::voip_profile,
        .name_max = voip_profile_name_max, .help = "VoIP profiles: what the SIP ALG does (config sip)",
        .block = &voip_block, .finish = finish_voip_profile}),
    table_section<&config::addresses>({.path = "firewall address", .bit = section::address,
        .name_max = object_name_max, .help = "address objects", .block = &address_block, .finish = finish_address}),
    table_section<&config::addrgrps>({.path = "firewall addrgrp", .bit = section::addrgrp,
        .name_max = object_name_max, .help = "address groups", .block = &addrgrp_block}),
    table_section<&config::services>({.path = "firewall service custom", .bit = section::service,
        .name_max = object_name_max, .help = "custom services", .block = &service_block, .finish = finish_service}),
    table_section<&config::schedules>({.path = "firewall schedule recurring", .bit = section::schedule,
        .name_max = schedule_name_max, .help = "recurring schedules", .block = &schedule_block}),
    table_section<&config::vips>({.path = "firewall vip", .bit = section::vip, .name_max = object_name_max,
        .help = "virtual IPs (destination NAT)", .block = &vip_block, .finish = finish_vip}),
    table_section<&config::policies>({.path = "firewall policy", .bit = section::policy,
        .help = "firewall policies, in the order they match", .block = &policy_block}),
    object_section<&config::syslogd>({.path = "log syslogd setting", .bit = section::syslogd,
        .help = "log lines to a syslog server", .block = &syslogd_block, .finish = finish_syslogd}),
    object_section<&config::log_disk>({.path = "log disk setting", .bit = section::log_disk,
        .help = "log lines to the local log file", .block = &log_disk_block}),
};
// clang-format on

} // namespace

const field_spec* block_spec::find(std::string_view key) const
{
    for (const auto& f : fields) {
        if (f.key == key) {
            return &f;
        }
    }
    return nullptr;
}

const block_spec* block_spec::find_block(std::string_view key) const
{
    for (const auto& b : blocks) {
        if (b.key == key) {
            return b.block;
        }
    }
    return nullptr;
}

std::span<const section_spec> schema()
{
    return sections;
}

const section_spec* find_section(std::string_view path)
{
    for (const auto& s : sections) {
        if (s.path == path) {
            return &s;
        }
    }
    return nullptr;
}

void append_cli_quoted(std::string& out, std::string_view s)
{
    out += '"';
    for (const char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    out += '"';
}

std::vector<std::string_view> with_settings(const field_spec& f)
{
    std::vector<std::string_view> out;
    for (std::size_t i = 0; i < f.with.size();) {
        const std::size_t end = std::min(f.with.find("; ", i), f.with.size());
        out.push_back(f.with.substr(i, end - i));
        i = end + 2;
    }
    return out;
}

void write_block(const block_spec& b, const void* object, int indent, const block_format& format, std::string& out)
{
    std::size_t width = 0;
    if (format.aligned) {
        for (const auto& f : b.fields) {
            width = std::max(width, f.key.size());
        }
    }
    for (const auto& f : b.fields) {
        if (format.notes && !f.note.empty() && (f.shown == nullptr || f.shown(object))) {
            out.append(static_cast<std::size_t>(indent), ' ');
            out += "# ";
            out += f.note;
            out += '\n';
        }
        const std::size_t mark = out.size();
        out.append(static_cast<std::size_t>(indent), ' ');
        out += format.lead;
        out += f.key;
        if (format.aligned) {
            out.append(width - f.key.size() + 1, ' ');
        }
        out += format.separator;
        const bool shown = f.shown == nullptr || f.shown(object);
        if (!shown || (!field_value(f, object, out, format.style) && !format.empty_values)) {
            out.resize(mark);
            continue;
        }
        out += '\n';
    }
    for (const auto& inner : b.blocks) {
        out.append(static_cast<std::size_t>(indent), ' ');
        out += format.open;
        out += inner.key;
        out += format.open_end;
        write_block(*inner.block, object, indent + format.step, format, out);
        if (!format.close.empty()) {
            out.append(static_cast<std::size_t>(indent), ' ');
            out += format.close;
        }
    }
}

bool field_value(const field_spec& f, const void* object, std::string& out, value_style st)
{
    if (st == value_style::cli && !f.choices.empty()) {
        st = value_style::cli_option;
    }
    return (f.shown == nullptr || f.shown(object)) && f.write(object, out, st);
}

std::string default_text(const field_spec& f, value_style st)
{
    if (st == value_style::cli && !f.choices.empty()) {
        st = value_style::cli_option;
    }
    std::string out;
    f.write_default(out, st);
    return out;
}

std::string type_text(const field_spec& f)
{
    std::string choices;
    for (const auto& c : f.choices) {
        choices += choices.empty() ? "" : "|";
        choices += c;
    }
    switch (f.kind) {
    case field_kind::flag:
        return "enable|disable";
    case field_kind::choice:
        return choices;
    case field_kind::integer:
        return fmt::format("integer {}-{}", f.min, f.max);
    case field_kind::text:
        return !choices.empty() ? choices : f.max != 0 ? fmt::format("text, at most {} characters", f.max) : "text";
    case field_kind::words:
        return !choices.empty() ? "words: " + choices : "names";
    case field_kind::ports:
        return fmt::format("1 to {} ports", f.max);
    case field_kind::address:
        return "IPv4 address";
    case field_kind::prefix:
        return "a.b.c.d/len or a.b.c.d m.m.m.m";
    case field_kind::mac:
        return "MAC address";
    case field_kind::port_range:
        return fmt::format("port or low-high, from {}", f.min);
    case field_kind::service_ports:
        return "dst[-dst][:src[-src]] ...";
    case field_kind::address_range:
        return "address or a-b";
    case field_kind::days:
        return "sunday ... saturday, or none";
    case field_kind::clock:
        return "HH:MM";
    }
    return "";
}

} // namespace sipalg::control
