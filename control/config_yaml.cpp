// Reads the configuration model from YAML (control/yaml.hpp: a tree of nodes with positions). Problems
// become errors with positions (STYLE.md item 18); every problem is collected, so an operator fixes a
// file in one pass.
#include "control/config.hpp"
#include "control/json.hpp"
#include "control/yaml.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

namespace sipalg::control {

std::string format_error(const config_error& e)
{
    if (e.where.line == 0) {
        return e.message;
    }
    return fmt::format("{}:{}: {}", e.where.line, e.where.column, e.message);
}

const interface_config* config::find_interface(std::string_view name) const
{
    for (const auto& i : interfaces) {
        if (i.name == name) {
            return &i;
        }
    }
    return nullptr;
}

const std::vector<service_config>& predefined_services()
{
    static const std::vector<service_config> services = [] {
        const auto ports = [](std::uint16_t first, std::uint16_t last) { return port_range_config{first, last, 0, 65535}; };
        std::vector<service_config> v;
        service_config all;
        all.name = "ALL";
        all.protocol = "IP";
        v.push_back(all);
        service_config tcp;
        tcp.name = "ALL_TCP";
        tcp.tcp = {ports(1, 65535)};
        v.push_back(tcp);
        service_config udp;
        udp.name = "ALL_UDP";
        udp.udp = {ports(1, 65535)};
        v.push_back(udp);
        service_config icmp;
        icmp.name = "ALL_ICMP";
        icmp.protocol = "ICMP";
        v.push_back(icmp);
        service_config sip;
        sip.name = "SIP";
        sip.tcp = {ports(5060, 5060)};
        sip.udp = {ports(5060, 5060)};
        v.push_back(sip);
        service_config http;
        http.name = "HTTP";
        http.tcp = {ports(80, 80)};
        v.push_back(http);
        service_config https;
        https.name = "HTTPS";
        https.tcp = {ports(443, 443)};
        v.push_back(https);
        service_config dns;
        dns.name = "DNS";
        dns.tcp = {ports(53, 53)};
        dns.udp = {ports(53, 53)};
        v.push_back(dns);
        service_config ping;
        ping.name = "PING";
        ping.protocol = "ICMP";
        ping.icmptype = 8;
        v.push_back(ping);
        service_config ssh;
        ssh.name = "SSH";
        ssh.tcp = {ports(22, 22)};
        v.push_back(ssh);
        service_config ntp;
        ntp.name = "NTP";
        ntp.tcp = {ports(123, 123)};
        ntp.udp = {ports(123, 123)};
        v.push_back(ntp);
        return v;
    }();
    return services;
}

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

namespace sipalg::control {

namespace {

// A non-owning reference to a callable (the handlers of object() live until the end of its call), so a
// table of handlers costs no allocation; std::function would allocate for most of these lambdas.
template <class Signature>
class function_ref;

template <class R, class... Args>
class function_ref<R(Args...)> {
public:
    template <class F>
        requires(!std::is_same_v<std::remove_cvref_t<F>, function_ref>)
    function_ref(F&& f) // NOLINT(google-explicit-constructor): taking lambdas in place is the point
        : object_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
          call_([](void* o, Args... args) -> R { return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<Args>(args)...); })
    {
    }
    R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

private:
    void* object_;
    R (*call_)(void*, Args...);
};

struct field {
    std::string_view key;
    function_ref<void(const yaml::node&)> read;
};

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

    // Keys of one object: each known key has a handler; any other key is an error.
    // Calls the handler of each key; records where each value is in `positions` when given, so that
    // later checks (references) point at the value, not the object.
    void object(const yaml::node& n, std::string_view what, std::initializer_list<field> handlers,
                field_positions* positions = nullptr)
    {
        each_entry(n, what, [&](const std::string& k, const yaml::node& key, const yaml::node& value) {
            const auto h = std::find_if(handlers.begin(), handlers.end(), [&k](const field& f) { return f.key == k; });
            if (h == handlers.end()) {
                error(key, fmt::format("unknown key '{}' in {}", k, what));
                return;
            }
            if (positions != nullptr) {
                positions->emplace_back(k, value.where); // each key once: duplicates were refused above
            }
            h->read(value);
        });
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

void read_interfaces(reader& r, const yaml::node& n, config& cfg)
{
    r.each_entry(n, "system interface", [&](const std::string& name, const yaml::node& key, const yaml::node& v) {
        interface_config i;
        i.name = name;
        i.where = key.where;
        const auto what = fmt::format("system interface {}", name);
        bool has_ip = false;
        bool has_port = false;
        r.object(v, what,
                 {
                     {"dpdk-port",
                      [&](const yaml::node& x) {
                          if (auto s = r.scalar(x, label(what, "dpdk-port"))) {
                              i.dpdk_port = *s;
                              has_port = true;
                          }
                      }},
                     {"ip",
                      [&](const yaml::node& x) {
                          if (auto p = r.prefix(x, label(what, "ip"))) {
                              if (p->length == 0 || p->length == 32) {
                                  r.error(x, fmt::format("{} ip needs a prefix length from 1 to 31", what));
                              } else {
                                  i.ip = *p;
                                  has_ip = true;
                              }
                          }
                      }},
                     {"macaddr",
                      [&](const yaml::node& x) {
                          if (auto m = r.mac(x, label(what, "macaddr"))) {
                              if ((*m)[0] & 1u) {
                                  r.error(x, fmt::format("{} macaddr must be a unicast address", what));
                              } else {
                                  i.macaddr = *m;
                              }
                          }
                      }},
                     {"mtu",
                      [&](const yaml::node& x) {
                          if (auto m = r.integer(x, label(what, "mtu"), 576, 9216)) {
                              i.mtu = static_cast<std::uint16_t>(*m);
                          }
                      }},
                     {"allowaccess",
                      [&](const yaml::node& x) {
                          static const std::set<std::string, std::less<>> known{
                              "ping", "https", "ssh", "http", "telnet", "snmp", "fgfm", "fabric"};
                          i.allowaccess = r.words(x, label(what, "allowaccess"));
                          for (const auto& w : i.allowaccess) {
                              if (!known.contains(w)) {
                                  r.error(x, fmt::format("{} allowaccess: unknown service '{}'", what, w));
                              }
                          }
                      }},
                 });
        if (!has_port) {
            r.error(key, fmt::format("{} needs dpdk-port (the DPDK device it runs on)", what));
        }
        if (!has_ip) {
            r.error(key, fmt::format("{} needs ip", what));
        }
        cfg.interfaces.push_back(std::move(i));
    });
}

void read_arp_table(reader& r, const yaml::node& n, config& cfg)
{
    r.each_entry(n, "system arp-table", [&](const std::string& id, const yaml::node& key, const yaml::node& v) {
        arp_entry_config a;
        a.where = key.where;
        const auto what = fmt::format("system arp-table {}", id);
        if (const auto i = r.integer(key, "system arp-table id", 1, 4294967295u)) {
            a.id = static_cast<std::uint32_t>(*i);
        }
        bool has_if = false;
        bool has_ip = false;
        bool has_mac = false;
        r.object(v, what,
                 {
                     {"interface",
                      [&](const yaml::node& x) {
                          if (auto s = r.scalar(x, label(what, "interface"))) {
                              a.interface = *s;
                              has_if = true;
                          }
                      }},
                     {"ip",
                      [&](const yaml::node& x) {
                          if (auto ip = r.address(x, label(what, "ip"))) {
                              a.ip = *ip;
                              has_ip = true;
                          }
                      }},
                     {"mac",
                      [&](const yaml::node& x) {
                          if (auto m = r.mac(x, label(what, "mac"))) {
                              a.mac = *m;
                              has_mac = true;
                          }
                      }},
                 });
        if (!has_if || !has_ip || !has_mac) {
            r.error(key, fmt::format("{} needs interface, ip and mac", what));
        }
        cfg.arp_table.push_back(a);
    });
}

void read_static_routes(reader& r, const yaml::node& n, config& cfg)
{
    r.each_entry(n, "router static", [&](const std::string& id, const yaml::node& key, const yaml::node& v) {
        static_route_config s;
        s.where = key.where;
        const auto what = fmt::format("router static {}", id);
        if (const auto i = r.integer(key, "router static id", 1, 4294967295u)) {
            s.id = static_cast<std::uint32_t>(*i);
        }
        bool has_dst = false;
        r.object(v, what,
                 {
                     {"dst",
                      [&](const yaml::node& x) {
                          if (auto p = r.prefix(x, label(what, "dst"))) {
                              if (p->address != p->network()) {
                                  r.error(x, fmt::format("{} dst {} has host bits set", what, format_prefix(*p)));
                              } else {
                                  s.dst = *p;
                                  has_dst = true;
                              }
                          }
                      }},
                     {"gateway",
                      [&](const yaml::node& x) {
                          if (auto a = r.address(x, label(what, "gateway"))) {
                              s.gateway = *a;
                          }
                      }},
                     {"device",
                      [&](const yaml::node& x) {
                          if (auto d = r.scalar(x, label(what, "device"))) {
                              s.device = *d;
                          }
                      }},
                     {"distance",
                      [&](const yaml::node& x) {
                          if (auto d = r.integer(x, label(what, "distance"), 1, 255)) {
                              s.distance = static_cast<std::uint8_t>(*d);
                          }
                      }},
                     {"status",
                      [&](const yaml::node& x) {
                          if (auto b = r.enable_disable(x, label(what, "status"))) {
                              s.enabled = *b;
                          }
                      }},
                     {"blackhole",
                      [&](const yaml::node& x) {
                          if (auto b = r.enable_disable(x, label(what, "blackhole"))) {
                              s.blackhole = *b;
                          }
                      }},
                 });
        if (!has_dst) {
            // FortiOS's default dst is 0.0.0.0 0.0.0.0: a default route.
            s.dst = ipv4_prefix{0, 0};
        }
        if (!s.blackhole && s.gateway == 0 && s.device.empty()) {
            r.error(key, fmt::format("{} needs a gateway, a device, or blackhole enable", what));
        }
        cfg.static_routes.push_back(s);
    });
}

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

std::optional<std::uint16_t> parse_port(std::string_view s, std::uint16_t min)
{
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || v < min || v > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(v);
}

// "low" or "low-high".
std::optional<std::pair<std::uint16_t, std::uint16_t>> parse_port_range(std::string_view s, std::uint16_t min)
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

// Reads a space-separated list key into `out`, replacing its default.
auto words_into(reader& r, std::vector<std::string>& out, std::string_view object, std::string_view field)
{
    return [&r, &out, what = label(object, field)](const yaml::node& x) {
        out = r.words(x, what);
        if (out.empty()) {
            r.error(x, fmt::format("{} must name at least one object", what));
        }
    };
}

auto text_into(reader& r, std::string& out, std::string_view object, std::string_view field)
{
    return [&r, &out, what = label(object, field)](const yaml::node& x) {
        if (auto v = r.scalar(x, what)) {
            out = *v;
        }
    };
}

auto flag_into(reader& r, bool& out, std::string_view object, std::string_view field)
{
    return [&r, &out, what = label(object, field)](const yaml::node& x) {
        if (auto v = r.enable_disable(x, what)) {
            out = *v;
        }
    };
}

auto number_into(reader& r, std::uint32_t& out, label what, std::uint64_t min, std::uint64_t max)
{
    return [&r, &out, what, min, max](const yaml::node& x) {
        if (auto v = r.integer(x, what, min, max)) {
            out = static_cast<std::uint32_t>(*v);
        }
    };
}

auto ignored()
{
    return [](const yaml::node&) {};
}

void read_addresses(reader& r, const yaml::node& n, config& cfg)
{
    r.each_entry(n, "firewall address", [&](const std::string& name, const yaml::node& key, const yaml::node& v) {
        address_config a;
        a.name = name;
        a.where = key.where;
        const auto what = fmt::format("firewall address {}", name);
        std::string type = "ipmask";
        source_position type_where;
        std::optional<ipv4_prefix> subnet;
        std::optional<ipv4_address> start;
        std::optional<ipv4_address> end;
        r.object(v, what,
                 {
                     {"type",
                      [&](const yaml::node& x) {
                          type_where = x.where;
                          if (auto t = r.scalar(x, label(what, "type"))) {
                              type = *t;
                          }
                      }},
                     {"subnet", [&](const yaml::node& x) { subnet = r.prefix(x, label(what, "subnet")); }},
                     {"start-ip", [&](const yaml::node& x) { start = r.address(x, label(what, "start-ip")); }},
                     {"end-ip", [&](const yaml::node& x) { end = r.address(x, label(what, "end-ip")); }},
                     {"comment", ignored()},
                 });
        if (type == "ipmask") {
            if (!subnet) {
                r.error(key, fmt::format("{} needs subnet", what));
            } else {
                a.first = subnet->network();
                a.last = subnet->broadcast();
            }
        } else if (type == "iprange") {
            if (!start || !end) {
                r.error(key, fmt::format("{} (iprange) needs start-ip and end-ip", what));
            } else if (*end < *start) {
                r.error(key, fmt::format("{}: end-ip is before start-ip", what));
            } else {
                a.first = *start;
                a.last = *end;
            }
        } else {
            r.error_at(type_where, fmt::format("{} type must be ipmask or iprange, not '{}'", what, type));
        }
        cfg.addresses.push_back(a);
    });
}

void read_addrgrps(reader& r, const yaml::node& n, config& cfg)
{
    r.each_entry(n, "firewall addrgrp", [&](const std::string& name, const yaml::node& key, const yaml::node& v) {
        addrgrp_config g;
        g.name = name;
        g.where = key.where;
        const auto what = fmt::format("firewall addrgrp {}", name);
        r.object(v, what, {{"member", words_into(r, g.member, what, "member")}, {"comment", ignored()}}, &g.fields);
        if (g.member.empty()) {
            r.error(key, fmt::format("{} needs member", what));
        }
        cfg.addrgrps.push_back(std::move(g));
    });
}

void read_services(reader& r, const yaml::node& n, config& cfg)
{
    r.each_entry(n, "firewall service custom", [&](const std::string& name, const yaml::node& key, const yaml::node& v) {
        service_config sv;
        sv.name = name;
        sv.where = key.where;
        const auto what = fmt::format("firewall service custom {}", name);
        const auto ranges = [&](std::vector<port_range_config>& out, std::string field) {
            return [&r, &out, field, what](const yaml::node& x) {
                for (const auto& w : r.words(x, what + " " + field)) {
                    if (const auto p = parse_service_ports(w)) {
                        out.push_back(*p);
                    } else {
                        r.error(x, fmt::format("{} {}: '{}' is not a port range (dst[-dst][:src[-src]])", what, field, w));
                    }
                }
            };
        };
        source_position protocol_where;
        r.object(v, what,
                 {
                     {"protocol",
                      [&](const yaml::node& x) {
                          protocol_where = x.where;
                          if (auto p = r.scalar(x, label(what, "protocol"))) {
                              sv.protocol = *p;
                          }
                      }},
                     {"tcp-portrange", ranges(sv.tcp, "tcp-portrange")},
                     {"udp-portrange", ranges(sv.udp, "udp-portrange")},
                     {"sctp-portrange", ranges(sv.sctp, "sctp-portrange")},
                     {"icmptype",
                      [&](const yaml::node& x) {
                          if (auto t = r.integer(x, label(what, "icmptype"), 0, 255)) {
                              sv.icmptype = static_cast<std::int16_t>(*t);
                          }
                      }},
                     {"protocol-number",
                      [&](const yaml::node& x) {
                          if (auto p = r.integer(x, label(what, "protocol-number"), 0, 254)) {
                              sv.protocol_number = static_cast<std::uint8_t>(*p);
                          }
                      }},
                     {"comment", ignored()},
                     {"category", ignored()},
                 });
        if (sv.protocol != "TCP/UDP/SCTP" && sv.protocol != "ICMP" && sv.protocol != "IP") {
            r.error_at(protocol_where, fmt::format("{} protocol must be TCP/UDP/SCTP, ICMP or IP, not '{}'", what, sv.protocol));
        } else if (sv.protocol == "TCP/UDP/SCTP" && sv.tcp.empty() && sv.udp.empty() && sv.sctp.empty()) {
            r.error(key, fmt::format("{} needs tcp-portrange, udp-portrange or sctp-portrange", what));
        }
        cfg.services.push_back(std::move(sv));
    });
}

void read_schedules(reader& r, const yaml::node& n, config& cfg)
{
    r.each_entry(n, "firewall schedule recurring", [&](const std::string& name, const yaml::node& key, const yaml::node& v) {
        schedule_config sc;
        sc.name = name;
        sc.where = key.where;
        const auto what = fmt::format("firewall schedule recurring {}", name);
        bool has_day = false;
        const auto clock = [&](std::uint16_t& out, std::string field) {
            return [&r, &out, field, what](const yaml::node& x) {
                if (auto m = r.parsed(x, what + " " + field, parse_clock, "a time of day HH:MM")) {
                    out = *m;
                }
            };
        };
        r.object(v, what,
                 {
                     {"day",
                      [&](const yaml::node& x) {
                          static const std::array<std::string_view, 7> names{"sunday", "monday", "tuesday", "wednesday",
                                                                              "thursday", "friday", "saturday"};
                          has_day = true;
                          for (const auto& w : r.words(x, label(what, "day"))) {
                              if (w == "none") {
                                  continue;
                              }
                              const auto it = std::find(names.begin(), names.end(), w);
                              if (it == names.end()) {
                                  r.error(x, fmt::format("{} day: '{}' is not a day of the week", what, w));
                              } else {
                                  sc.days = static_cast<std::uint8_t>(sc.days | (1u << (it - names.begin())));
                              }
                          }
                      }},
                     {"start", clock(sc.start, "start")},
                     {"end", clock(sc.end, "end")},
                     {"color", ignored()},
                 });
        if (!has_day) {
            sc.days = 0x7f; // FortiOS: every day unless told otherwise
        }
        cfg.schedules.push_back(sc);
    });
}

void read_vips(reader& r, const yaml::node& n, config& cfg)
{
    r.each_entry(n, "firewall vip", [&](const std::string& name, const yaml::node& key, const yaml::node& v) {
        vip_config vp;
        vp.name = name;
        vp.where = key.where;
        const auto what = fmt::format("firewall vip {}", name);
        bool has_extip = false;
        bool has_mapped = false;
        bool has_extport = false;
        bool has_mappedport = false;
        source_position protocol_where;
        r.object(v, what,
                 {
                     {"extip",
                      [&](const yaml::node& x) {
                          if (auto a = r.parsed(x, what + " extip", parse_address_range, "an address or a range a-b")) {
                              vp.extip_first = a->first;
                              vp.extip_last = a->second;
                              has_extip = true;
                          }
                      }},
                     {"mappedip",
                      [&](const yaml::node& x) {
                          if (auto a = r.parsed(x, what + " mappedip", parse_address_range, "an address or a range a-b")) {
                              vp.mappedip_first = a->first;
                              vp.mappedip_last = a->second;
                              has_mapped = true;
                          }
                      }},
                     {"extintf", text_into(r, vp.extintf, what, "extintf")},
                     {"portforward", flag_into(r, vp.portforward, what, "portforward")},
                     {"protocol",
                      [&](const yaml::node& x) {
                          protocol_where = x.where;
                          if (auto p = r.scalar(x, label(what, "protocol"))) {
                              vp.protocol = *p;
                          }
                      }},
                     {"extport",
                      [&](const yaml::node& x) {
                          if (auto p = r.parsed(x, what + " extport",
                                                [](std::string_view t) { return parse_port_range(t, 1); }, "a port or a range p-q")) {
                              vp.extport_first = p->first;
                              vp.extport_last = p->second;
                              has_extport = true;
                          }
                      }},
                     {"mappedport",
                      [&](const yaml::node& x) {
                          if (auto p = r.parsed(x, what + " mappedport",
                                                [](std::string_view t) { return parse_port_range(t, 1); }, "a port or a range p-q")) {
                              vp.mappedport_first = p->first;
                              vp.mappedport_last = p->second;
                              has_mappedport = true;
                          }
                      }},
                     {"comment", ignored()},
                     {"type", ignored()},
                 },
                 &vp.fields);
        if (!has_extip || !has_mapped) {
            r.error(key, fmt::format("{} needs extip and mappedip", what));
        } else if (vp.mappedip_last - vp.mappedip_first != vp.extip_last - vp.extip_first &&
                   vp.mappedip_first != vp.mappedip_last) {
            r.error(key, fmt::format("{}: mappedip must be one address or a range as large as extip", what));
        }
        if (vp.mappedip_first == vp.mappedip_last) {
            vp.mappedip_last = vp.mappedip_first + (vp.extip_last - vp.extip_first);
        }
        if (vp.protocol != "tcp" && vp.protocol != "udp" && vp.protocol != "sctp" && vp.protocol != "icmp") {
            r.error_at(protocol_where, fmt::format("{} protocol must be tcp, udp, sctp or icmp, not '{}'", what, vp.protocol));
        }
        if (vp.portforward && vp.protocol != "icmp") {
            if (!has_extport) {
                r.error(key, fmt::format("{} with portforward needs extport", what));
            }
            if (!has_mappedport) {
                vp.mappedport_first = vp.extport_first;
                vp.mappedport_last = vp.extport_last;
            } else if (vp.mappedport_last - vp.mappedport_first != vp.extport_last - vp.extport_first &&
                       vp.mappedport_first != vp.mappedport_last) {
                r.error(key, fmt::format("{}: mappedport must be one port or a range as large as extport", what));
            }
        }
        cfg.vips.push_back(vp);
    });
}

void read_policies(reader& r, const yaml::node& n, config& cfg)
{
    r.each_entry(n, "firewall policy", [&](const std::string& id, const yaml::node& key, const yaml::node& v) {
        policy_config p;
        p.where = key.where;
        const auto what = fmt::format("firewall policy {}", id);
        if (const auto i = r.integer(key, "firewall policy id", 0, 4294967294u)) {
            p.id = static_cast<std::uint32_t>(*i);
        }
        r.object(v, what,
                 {
                     {"name", text_into(r, p.name, what, "name")},
                     {"srcintf", words_into(r, p.srcintf, what, "srcintf")},
                     {"dstintf", words_into(r, p.dstintf, what, "dstintf")},
                     {"srcaddr", words_into(r, p.srcaddr, what, "srcaddr")},
                     {"dstaddr", words_into(r, p.dstaddr, what, "dstaddr")},
                     {"service", words_into(r, p.service, what, "service")},
                     {"schedule", text_into(r, p.schedule, what, "schedule")},
                     {"action",
                      [&](const yaml::node& x) {
                          if (auto a = r.scalar(x, label(what, "action"))) {
                              if (*a == "accept") {
                                  p.accept = true;
                              } else if (*a == "deny") {
                                  p.accept = false;
                              } else {
                                  r.error(x, fmt::format("{} action must be accept or deny, not '{}'", what, *a));
                              }
                          }
                      }},
                     {"nat", flag_into(r, p.nat, what, "nat")},
                     {"status", flag_into(r, p.enabled, what, "status")},
                     {"utm-status", flag_into(r, p.utm_status, what, "utm-status")},
                     {"logtraffic",
                      [&](const yaml::node& x) {
                          if (auto l = r.scalar(x, label(what, "logtraffic"))) {
                              if (*l != "all" && *l != "utm" && *l != "disable") {
                                  r.error(x, fmt::format("{} logtraffic must be all, utm or disable, not '{}'", what, *l));
                              } else {
                                  p.logtraffic = *l;
                              }
                          }
                      }},
                     {"voip-profile", text_into(r, p.voip_profile, what, "voip-profile")},
                     {"ips-voip-filter", text_into(r, p.ips_voip_filter, what, "ips-voip-filter")},
                     {"comments", ignored()},
                     {"uuid", ignored()},
                 },
                 &p.fields);
        cfg.policies.push_back(std::move(p));
    });
    // edit 0 takes the next free id (FortiOS).
    std::uint32_t next = 1;
    for (const auto& p : cfg.policies) {
        next = std::max(next, p.id + 1);
    }
    for (auto& p : cfg.policies) {
        if (p.id == 0) {
            p.id = next++;
        }
    }
}

void read_system_global(reader& r, const yaml::node& n, config& cfg)
{
    const auto timer = [&](std::uint32_t& out, std::string field, std::uint64_t min, std::uint64_t max) {
        return [&r, &out, field, min, max](const yaml::node& x) {
            if (auto t = r.integer(x, "system global " + field, min, max)) {
                out = static_cast<std::uint32_t>(*t);
            }
        };
    };
    r.object(n, "system global",
             {
                 {"tcp-halfopen-timer", timer(cfg.timers.tcp_halfopen, "tcp-halfopen-timer", 1, 86400)},
                 {"tcp-halfclose-timer", timer(cfg.timers.tcp_halfclose, "tcp-halfclose-timer", 1, 86400)},
                 {"tcp-timewait-timer", timer(cfg.timers.tcp_timewait, "tcp-timewait-timer", 0, 300)},
                 {"udp-idle-timer", timer(cfg.timers.udp_idle, "udp-idle-timer", 1, 86400)},
                 {"hostname", ignored()},
             });
}

void read_settings(reader& r, const yaml::node& n, config& cfg)
{
    const auto ports = [&](std::vector<std::uint16_t>& out, std::string what) {
        return [&r, &out, what](const yaml::node& x) {
            const auto words = r.words(x, what);
            if (words.empty() || words.size() > 2) {
                r.error(x, fmt::format("{} takes one or two ports", what));
                return;
            }
            std::vector<std::uint16_t> got;
            for (const auto& w : words) {
                std::uint32_t v = 0;
                const auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), v);
                if (ec != std::errc{} || end != w.data() + w.size() || v == 0 || v > 65535) {
                    r.error(x, fmt::format("{}: '{}' is not a port", what, w));
                    return;
                }
                got.push_back(static_cast<std::uint16_t>(v));
            }
            out = got;
        };
    };
    r.object(n, "system settings",
             {
                 {"default-voip-alg-mode",
                  [&](const yaml::node& x) {
                      if (auto m = r.scalar(x, "system settings default-voip-alg-mode")) {
                          if (*m == "proxy-based" || *m == "kernel-helper-based") {
                              cfg.settings.proxy_based = *m == "proxy-based";
                          } else {
                              r.error(x, fmt::format("system settings default-voip-alg-mode must be proxy-based or "
                                                     "kernel-helper-based, not '{}'",
                                                     *m));
                          }
                      }
                  }},
                 {"sip-tcp-port", ports(cfg.settings.sip_tcp_port, "system settings sip-tcp-port")},
                 {"sip-udp-port", ports(cfg.settings.sip_udp_port, "system settings sip-udp-port")},
                 {"sip-ssl-port",
                  [&](const yaml::node& x) {
                      if (auto v = r.integer(x, "system settings sip-ssl-port", 1, 65535)) {
                          cfg.settings.sip_ssl_port = static_cast<std::uint16_t>(*v);
                      }
                  }},
                 {"sip-pinholes-per-address", number_into(r, cfg.settings.sip_pinholes_per_address,
                                                          "system settings sip-pinholes-per-address", 0, 65535)},
                 {"sip-nat-port-reserve", number_into(r, cfg.settings.sip_nat_port_reserve,
                                                      "system settings sip-nat-port-reserve", 0, 90)},
             });
}

void read_session_helpers(reader& r, const yaml::node& n, config& cfg)
{
    static const std::set<std::string, std::less<>> names{"ftp",  "tftp",    "ras",     "h323",   "tns",
                                                          "mms",  "sip",     "pptp",    "rtsp",   "dns-udp",
                                                          "dns-tcp", "pmap", "rsh",     "dcerpc", "mgcp",
                                                          "gtp-c", "gtp-u",  "gtp-b"};
    cfg.session_helpers.clear();
    r.each_entry(n, "system session-helper", [&](const std::string& id, const yaml::node& key, const yaml::node& v) {
        session_helper_config h;
        h.where = key.where;
        const auto what = fmt::format("system session-helper {}", id);
        if (const auto i = r.integer(key, "system session-helper id", 0, 4294967294u)) {
            h.id = static_cast<std::uint32_t>(*i);
        }
        r.object(v, what,
                 {
                     {"name",
                      [&](const yaml::node& x) {
                          if (auto s = r.scalar(x, label(what, "name"))) {
                              if (names.contains(*s)) {
                                  h.name = *s;
                              } else {
                                  r.error(x, fmt::format("{} name '{}' is not a FortiOS session helper", what, *s));
                              }
                          }
                      }},
                     {"protocol",
                      [&](const yaml::node& x) {
                          if (auto p = r.integer(x, label(what, "protocol"), 0, 255)) {
                              h.protocol = static_cast<std::uint8_t>(*p);
                          }
                      }},
                     {"port",
                      [&](const yaml::node& x) {
                          if (auto p = r.integer(x, label(what, "port"), 1, 65535)) {
                              h.port = static_cast<std::uint16_t>(*p);
                          }
                      }},
                 });
        if (h.name.empty() || h.port == 0) {
            r.error(key, fmt::format("{} needs name and port", what));
        }
        cfg.session_helpers.push_back(std::move(h));
    });
    std::uint32_t next = 1;
    for (const auto& h : cfg.session_helpers) {
        next = std::max(next, h.id + 1);
    }
    for (auto& h : cfg.session_helpers) {
        if (h.id == 0) {
            h.id = next++; // edit 0
        }
    }
}

void read_voip_profiles(reader& r, const yaml::node& n, config& cfg)
{
    cfg.voip_profiles.clear();
    r.each_entry(n, "voip profile", [&](const std::string& name, const yaml::node& key, const yaml::node& v) {
        voip_profile_config p;
        p.name = name;
        p.where = key.where;
        const auto what = fmt::format("voip profile {}", name);
        r.object(v, what,
                 {
                     {"feature-set",
                      [&](const yaml::node& x) {
                          if (auto f = r.scalar(x, label(what, "feature-set"))) {
                              if (*f == "voipd" || *f == "ips" || *f == "flow" || *f == "proxy") {
                                  p.feature_set = *f == "flow" ? "ips" : *f == "proxy" ? "voipd" : *f;
                              } else {
                                  r.error(x, fmt::format("{} feature-set must be voipd or ips, not '{}'", what, *f));
                              }
                          }
                      }},
                     {"comment", text_into(r, p.comment, what, "comment")},
                     {"sip",
                      [&](const yaml::node& x) {
                          const std::string sip = what + " sip";
                          r.object(x, sip,
                                   {
                                       {"status", flag_into(r, p.sip_status, sip, "status")},
                                       {"rtp", flag_into(r, p.sip_rtp, sip, "rtp")},
                                       {"open-register-pinhole", flag_into(r, p.open_register_pinhole, sip, "open-register-pinhole")},
                                       {"open-contact-pinhole", flag_into(r, p.open_contact_pinhole, sip, "open-contact-pinhole")},
                                       {"strict-register", flag_into(r, p.strict_register, sip, "strict-register")},
                                       {"contact-fixup", flag_into(r, p.contact_fixup, sip, "contact-fixup")},
                                       {"no-sdp-fixup", flag_into(r, p.no_sdp_fixup, sip, "no-sdp-fixup")},
                                       {"nat-trace", flag_into(r, p.nat_trace, sip, "nat-trace")},
                                       {"preserve-override", flag_into(r, p.preserve_override, sip, "preserve-override")},
                                       {"hosted-nat-traversal", flag_into(r, p.hosted_nat_traversal, sip, "hosted-nat-traversal")},
                                       {"hnt-restrict-source-ip", flag_into(r, p.hnt_restrict_source_ip, sip, "hnt-restrict-source-ip")},
                                       {"nat-port-range",
                                        [&](const yaml::node& range) {
                                            p.nat_port_range = r.parsed(range, label(sip, "nat-port-range"),
                                                                        [](std::string_view text) { return parse_port_range(text, 1024); },
                                                                        "a port range low-high within 1024-65535");
                                        }},
                                       {"max-dialogs", number_into(r, p.max_dialogs, label(sip, "max-dialogs"), 0, 4294967295)},
                                       {"provisional-invite-expiry-time",
                                        number_into(r, p.provisional_invite_expiry_time, label(sip, "provisional-invite-expiry-time"), 10, 3600)},
                                       {"register-expiry-max", number_into(r, p.register_expiry_max, label(sip, "register-expiry-max"), 60, 604800)},
                                       {"open-privileged-pinhole", flag_into(r, p.open_privileged_pinhole, sip, "open-privileged-pinhole")},
                                   });
                      }},
                 });
        cfg.voip_profiles.push_back(std::move(p));
    });
}

void read_session_ttl(reader& r, const yaml::node& n, config& cfg)
{
    r.object(n, "system session-ttl",
             {
                 {"default",
                  [&](const yaml::node& x) {
                      if (auto t = r.integer(x, "system session-ttl default", 300, 604800)) {
                          cfg.timers.session_ttl = static_cast<std::uint32_t>(*t);
                      }
                  }},
             });
}

// Firewall object names share one namespace (FortiOS refuses an address and a group of the same name);
// every reference must resolve; groups must not contain themselves.
void check_firewall_references(reader& r, const config& cfg)
{
    enum class kind { address, group, vip };
    std::map<std::string, std::pair<kind, source_position>, std::less<>> names{{"all", {kind::address, {}}}};
    const auto declare = [&](const std::string& name, kind k, source_position where, std::string_view what) {
        if (!names.emplace(name, std::make_pair(k, where)).second) {
            r.error_at(where, fmt::format("{} {}: the name is already used by another address, group or VIP", what, name));
        }
    };
    for (const auto& a : cfg.addresses) {
        declare(a.name, kind::address, a.where, "firewall address");
    }
    for (const auto& g : cfg.addrgrps) {
        declare(g.name, kind::group, g.where, "firewall addrgrp");
    }
    for (const auto& v : cfg.vips) {
        declare(v.name, kind::vip, v.where, "firewall vip");
        if (v.extintf != "any" && cfg.find_interface(v.extintf) == nullptr) {
            r.error_at(v.where_of("extintf"), fmt::format("firewall vip {}: extintf '{}' does not exist", v.name, v.extintf));
        }
    }
    for (const auto& g : cfg.addrgrps) {
        for (const auto& m : g.member) {
            if (!names.contains(m)) {
                r.error_at(g.where_of("member"), fmt::format("firewall addrgrp {}: member '{}' does not exist", g.name, m));
            }
        }
    }
    // Cycles: a depth-first walk from each group.
    std::map<std::string, const addrgrp_config*, std::less<>> groups;
    for (const auto& g : cfg.addrgrps) {
        groups[g.name] = &g;
    }
    for (const auto& g : cfg.addrgrps) {
        std::vector<std::string> stack{g.name};
        std::set<std::string> seen;
        bool cycle = false;
        while (!stack.empty() && !cycle) {
            const std::string at = stack.back();
            stack.pop_back();
            const auto it = groups.find(at);
            if (it == groups.end()) {
                continue;
            }
            for (const auto& m : it->second->member) {
                if (m == g.name) {
                    cycle = true;
                    break;
                }
                if (seen.insert(m).second) {
                    stack.push_back(m);
                }
            }
        }
        if (cycle) {
            r.error_at(g.where, fmt::format("firewall addrgrp {} contains itself", g.name));
        }
    }
    const auto interface_ok = [&](const std::string& name) { return name == "any" || cfg.find_interface(name) != nullptr; };
    std::set<std::string> service_names;
    for (const auto& sv : predefined_services()) {
        service_names.insert(sv.name);
    }
    for (const auto& sv : cfg.services) {
        service_names.insert(sv.name);
    }
    std::set<std::string> schedule_names{"always"};
    for (const auto& sc : cfg.schedules) {
        if (!schedule_names.insert(sc.name).second) {
            r.error_at(sc.where, fmt::format("firewall schedule recurring {}: the name is already used", sc.name));
        }
    }
    std::set<std::uint32_t> ids;
    for (const auto& p : cfg.policies) {
        const auto what = fmt::format("firewall policy {}", p.id);
        if (!ids.insert(p.id).second) {
            r.error_at(p.where, fmt::format("{}: the id is used twice", what));
        }
        for (const auto& i : p.srcintf) {
            if (!interface_ok(i)) {
                r.error_at(p.where_of("srcintf"), fmt::format("{}: srcintf '{}' does not exist", what, i));
            }
        }
        for (const auto& i : p.dstintf) {
            if (!interface_ok(i)) {
                r.error_at(p.where_of("dstintf"), fmt::format("{}: dstintf '{}' does not exist", what, i));
            }
        }
        for (const auto& a : p.srcaddr) {
            const auto it = names.find(a);
            if (it == names.end()) {
                r.error_at(p.where_of("srcaddr"), fmt::format("{}: srcaddr '{}' does not exist", what, a));
            } else if (it->second.first == kind::vip) {
                r.error_at(p.where_of("srcaddr"), fmt::format("{}: srcaddr '{}' is a VIP (VIPs go in dstaddr)", what, a));
            }
        }
        for (const auto& a : p.dstaddr) {
            if (!names.contains(a)) {
                r.error_at(p.where_of("dstaddr"), fmt::format("{}: dstaddr '{}' does not exist", what, a));
            }
        }
        for (const auto& sv : p.service) {
            if (!service_names.contains(sv)) {
                r.error_at(p.where_of("service"), fmt::format("{}: service '{}' does not exist", what, sv));
            }
        }
        for (const auto& ref : {std::pair<const char*, const std::string*>{"voip-profile", &p.voip_profile},
                                {"ips-voip-filter", &p.ips_voip_filter}}) {
            const std::string& name = *ref.second;
            if (!name.empty() && std::none_of(cfg.voip_profiles.begin(), cfg.voip_profiles.end(),
                                              [&name](const voip_profile_config& v) { return v.name == name; })) {
                r.error_at(p.where_of(ref.first), fmt::format("{}: {} '{}' does not exist", what, ref.first, name));
            }
        }
        if (!schedule_names.contains(p.schedule)) {
            r.error_at(p.where_of("schedule"), fmt::format("{}: schedule '{}' does not exist", what, p.schedule));
        }
    }
}

// References between objects and uniqueness, checked after every section was read.
void check_references(reader& r, const config& cfg)
{
    std::map<std::string, const interface_config*> by_port;
    for (const auto& i : cfg.interfaces) {
        const auto [it, inserted] = by_port.emplace(i.dpdk_port, &i);
        if (!inserted && !i.dpdk_port.empty()) {
            r.error_at(i.where, fmt::format("system interface {}: dpdk-port '{}' is already used by {}", i.name,
                                            i.dpdk_port, it->second->name));
        }
        for (const auto& j : cfg.interfaces) {
            if (&j == &i) {
                break;
            }
            const auto shorter = std::min(i.ip.length, j.ip.length);
            if (i.ip.length != 0 && j.ip.length != 0 &&
                ipv4_prefix{i.ip.address, shorter}.network() == ipv4_prefix{j.ip.address, shorter}.network()) {
                r.error_at(i.where, fmt::format("system interface {}: {} overlaps {} of {}", i.name,
                                                format_prefix(i.ip), format_prefix(j.ip), j.name));
            }
        }
    }
    // Ids are numbers: "8" and "08" are different keys but the same entry.
    const auto unique_ids = [&r](const auto& entries, std::string_view what) {
        std::set<std::uint32_t> ids;
        for (const auto& e : entries) {
            if (!ids.insert(e.id).second) {
                r.error_at(e.where, fmt::format("{} {}: the id is used twice", what, e.id));
            }
        }
    };
    unique_ids(cfg.arp_table, "system arp-table");
    unique_ids(cfg.static_routes, "router static");
    unique_ids(cfg.session_helpers, "system session-helper");
    for (const auto& a : cfg.arp_table) {
        if (!a.interface.empty() && cfg.find_interface(a.interface) == nullptr) {
            r.error_at(a.where,
                       fmt::format("system arp-table {}: interface '{}' does not exist", a.id, a.interface));
        }
    }
    for (const auto& s : cfg.static_routes) {
        if (!s.device.empty() && cfg.find_interface(s.device) == nullptr) {
            r.error_at(s.where, fmt::format("router static {}: device '{}' does not exist", s.id, s.device));
        }
    }
}

} // namespace

load_result load_yaml_sections(std::string_view text)
{
    load_result result;
    reader r(result.errors);
    auto parsed = yaml::parse(text);
    if (parsed.error) {
        result.errors.push_back(std::move(*parsed.error));
        return result;
    }
    const yaml::node& root = parsed.root;
    if (root.is_null()) {
        return result; // an empty document: no interfaces, no routes
    }
    // Each section the document holds: its bit, and the first one's position.
    const auto enter = [&result](std::uint32_t bit, const yaml::node& x) {
        result.sections |= bit;
        if (result.first_section.line == 0) {
            result.first_section = x.where;
        }
    };
    r.object(root, "the configuration",
             {
                 {"system",
                  [&](const yaml::node& sys) {
                      r.object(sys, "system",
                               {
                                   {"interface", [&](const yaml::node& x) { enter(section::interface, x); read_interfaces(r, x, result.cfg); }},
                                   {"arp-table", [&](const yaml::node& x) { enter(section::arp_table, x); read_arp_table(r, x, result.cfg); }},
                                   {"settings", [&](const yaml::node& x) { enter(section::settings, x); read_settings(r, x, result.cfg); }},
                                   {"session-helper", [&](const yaml::node& x) { enter(section::session_helper, x); read_session_helpers(r, x, result.cfg); }},
                                   {"global", [&](const yaml::node& x) { enter(section::global, x); read_system_global(r, x, result.cfg); }},
                                   {"session-ttl", [&](const yaml::node& x) { enter(section::session_ttl, x); read_session_ttl(r, x, result.cfg); }},
                               });
                  }},
                 {"firewall",
                  [&](const yaml::node& fw) {
                      r.object(fw, "firewall",
                               {
                                   {"address", [&](const yaml::node& x) { enter(section::address, x); read_addresses(r, x, result.cfg); }},
                                   {"addrgrp", [&](const yaml::node& x) { enter(section::addrgrp, x); read_addrgrps(r, x, result.cfg); }},
                                   {"service",
                                    [&](const yaml::node& x) {
                                        r.object(x, "firewall service",
                                                 {{"custom", [&](const yaml::node& y) { enter(section::service, x); read_services(r, y, result.cfg); }}});
                                    }},
                                   {"schedule",
                                    [&](const yaml::node& x) {
                                        r.object(x, "firewall schedule",
                                                 {{"recurring", [&](const yaml::node& y) { enter(section::schedule, x); read_schedules(r, y, result.cfg); }}});
                                    }},
                                   {"vip", [&](const yaml::node& x) { enter(section::vip, x); read_vips(r, x, result.cfg); }},
                                   {"policy", [&](const yaml::node& x) { enter(section::policy, x); read_policies(r, x, result.cfg); }},
                               });
                  }},
                 {"voip",
                  [&](const yaml::node& voip) {
                      r.object(voip, "voip",
                               {
                                   {"profile", [&](const yaml::node& x) { enter(section::voip_profile, x); read_voip_profiles(r, x, result.cfg); }},
                               });
                  }},
                 {"router",
                  [&](const yaml::node& router) {
                      r.object(router, "router",
                               {
                                   {"static", [&](const yaml::node& x) { enter(section::router_static, x); read_static_routes(r, x, result.cfg); }},
                               });
                  }},
             });
    return result;
}

std::vector<config_error> check_config(const config& cfg)
{
    std::vector<config_error> errors;
    reader r(errors);
    check_references(r, cfg);
    check_firewall_references(r, cfg);
    return errors;
}

load_result load_yaml(std::string_view text)
{
    load_result result = load_yaml_sections(text);
    // Every error at once: the references too, even when some values were wrong.
    for (auto& e : check_config(result.cfg)) {
        result.errors.push_back(std::move(e));
    }
    return result;
}

const std::vector<session_helper_config>& default_session_helpers()
{
    // FortiOS's factory table (get system session-helper-info list).
    static const std::vector<session_helper_config> table{
        {1, "pptp", 6, 1723, {}},   {2, "h323", 6, 1720, {}},   {3, "ras", 17, 1719, {}},
        {4, "tns", 6, 1521, {}},    {5, "tftp", 17, 69, {}},    {6, "rtsp", 6, 554, {}},
        {7, "rtsp", 6, 7070, {}},   {8, "rtsp", 6, 8554, {}},   {9, "ftp", 6, 21, {}},
        {10, "mms", 6, 1863, {}},   {11, "pmap", 6, 111, {}},   {12, "pmap", 17, 111, {}},
        {13, "sip", 17, 5060, {}},  {14, "dns-udp", 17, 53, {}}, {15, "rsh", 6, 514, {}},
        {16, "rsh", 6, 512, {}},    {17, "dcerpc", 6, 135, {}}, {18, "dcerpc", 17, 135, {}},
        {19, "mgcp", 17, 2427, {}}, {20, "mgcp", 17, 2727, {}},
    };
    return table;
}

const std::vector<voip_profile_config>& default_voip_profiles()
{
    static const std::vector<voip_profile_config> profiles = [] {
        voip_profile_config v;
        v.name = "default";
        v.comment = "Default VoIP profile.";
        return std::vector<voip_profile_config>{v};
    }();
    return profiles;
}

config merge_sections(const config& running, const config& update, std::uint32_t sections)
{
    config out = running;
    if ((sections & section::settings) != 0) {
        out.settings = update.settings;
    }
    // A section kept from the running configuration keeps no positions: they were lines of another
    // text (the file, an earlier request), and an error about it must not point into this one.
    const auto take = [&](std::uint32_t bit, auto member) {
        if ((sections & bit) != 0) {
            out.*member = update.*member;
            return;
        }
        for (auto& object : out.*member) {
            object.where = {};
            if constexpr (requires { object.fields; }) {
                object.fields.clear();
            }
        }
    };
    take(section::interface, &config::interfaces);
    take(section::arp_table, &config::arp_table);
    take(section::router_static, &config::static_routes);
    take(section::address, &config::addresses);
    take(section::addrgrp, &config::addrgrps);
    take(section::service, &config::services);
    take(section::schedule, &config::schedules);
    take(section::vip, &config::vips);
    take(section::policy, &config::policies);
    take(section::session_helper, &config::session_helpers);
    take(section::voip_profile, &config::voip_profiles);
    if ((sections & section::global) != 0) {
        out.timers.tcp_halfopen = update.timers.tcp_halfopen;
        out.timers.tcp_halfclose = update.timers.tcp_halfclose;
        out.timers.tcp_timewait = update.timers.tcp_timewait;
        out.timers.udp_idle = update.timers.udp_idle;
    }
    if ((sections & section::session_ttl) != 0) {
        out.timers.session_ttl = update.timers.session_ttl;
    }
    return out;
}

std::vector<config_error> check_interfaces_kept(const config& running, const config& next)
{
    std::vector<config_error> errors;
    const auto& was = running.interfaces;
    const auto& now = next.interfaces;
    for (std::size_t i = 0; i < std::max(was.size(), now.size()); ++i) {
        if (i >= now.size()) {
            errors.push_back({now.empty() ? source_position{} : now.back().where,
                              fmt::format("interface {} cannot be removed while running (ports are bound at start)",
                                          was[i].name)});
        } else if (i >= was.size()) {
            errors.push_back({now[i].where, fmt::format("interface {} cannot be added while running (ports are bound "
                                                        "at start)",
                                                        now[i].name)});
        } else if (now[i].name != was[i].name) {
            errors.push_back({now[i].where, fmt::format("interface {} cannot become {} while running (the same "
                                                        "interfaces, in the same order)",
                                                        was[i].name, now[i].name)});
        } else if (now[i].dpdk_port != was[i].dpdk_port) {
            errors.push_back({now[i].where, fmt::format("interface {} cannot move from {} to {} while running",
                                                        now[i].name, was[i].dpdk_port, now[i].dpdk_port)});
        }
    }
    return errors;
}

load_result load_yaml_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        load_result result;
        result.errors.push_back({{}, fmt::format("cannot read configuration file '{}'", path)});
        return result;
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        load_result result;
        result.errors.push_back({{}, fmt::format("cannot read configuration file '{}'", path)});
        return result;
    }
    return load_yaml(text.str());
}

} // namespace sipalg::control
