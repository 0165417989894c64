// Reads the configuration model from YAML (yaml-cpp). yaml-cpp throws; the exceptions stay in this file
// and become errors with positions (STYLE.md item 18). Every problem is collected, so an operator fixes a
// file in one pass.
#include "control/config.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

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

namespace {

source_position position_of(const YAML::Node& n)
{
    const auto m = n.Mark();
    if (m.is_null()) {
        return {};
    }
    return {m.line + 1, m.column + 1};
}

// Walks YAML nodes and records errors instead of throwing.
class reader {
public:
    explicit reader(std::vector<config_error>& errors) : errors_(errors) {}

    void error(const YAML::Node& at, std::string message)
    {
        error_at(position_of(at), std::move(message));
    }
    void error_at(source_position where, std::string message)
    {
        errors_.push_back({where, std::move(message)});
    }

    using entry_fn = std::function<void(const std::string& key, const YAML::Node& key_node, const YAML::Node& value)>;

    // Calls f for every entry of a map node, in document order; duplicate keys are errors.
    void each_entry(const YAML::Node& n, std::string_view what, const entry_fn& f)
    {
        if (n.IsNull()) {
            return;
        }
        if (!n.IsMap()) {
            error(n, fmt::format("{} must be a mapping", what));
            return;
        }
        std::set<std::string> seen;
        // yaml-cpp's iterator yields a temporary pair: the entry lives for one loop body, and the nodes
        // are held by value (handles), never by reference into the iterator.
        for (const auto& entry : n) {
            const YAML::Node key = entry.first;
            const YAML::Node value = entry.second;
            if (!key.IsScalar()) {
                error(key, fmt::format("{}: keys must be scalars", what));
                continue;
            }
            const auto k = key.Scalar();
            if (!seen.insert(k).second) {
                error(key, fmt::format("{}: duplicate key '{}'", what, k));
                continue;
            }
            f(k, key, value);
        }
    }

    // Keys of one object: each known key has a handler; any other key is an error.
    void object(const YAML::Node& n, std::string_view what,
                const std::map<std::string, std::function<void(const YAML::Node&)>, std::less<>>& handlers)
    {
        each_entry(n, what, [&](const std::string& k, const YAML::Node& key, const YAML::Node& value) {
            const auto h = handlers.find(k);
            if (h == handlers.end()) {
                error(key, fmt::format("unknown key '{}' in {}", k, what));
                return;
            }
            h->second(value);
        });
    }

    std::optional<std::string> scalar(const YAML::Node& n, std::string_view what)
    {
        if (!n.IsScalar()) {
            error(n, fmt::format("{} must be a scalar", what));
            return std::nullopt;
        }
        return n.Scalar();
    }

    std::optional<std::uint64_t> integer(const YAML::Node& n, std::string_view what, std::uint64_t min,
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

    std::optional<bool> enable_disable(const YAML::Node& n, std::string_view what)
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
    auto parsed(const YAML::Node& n, std::string_view what, Parse parse, std::string_view expected)
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

    std::optional<ipv4_address> address(const YAML::Node& n, std::string_view what)
    {
        return parsed(n, what, parse_ipv4, "an IPv4 address");
    }

    std::optional<ipv4_prefix> prefix(const YAML::Node& n, std::string_view what)
    {
        return parsed(n, what, parse_ipv4_prefix, "'address/length' or 'address netmask'");
    }

    std::optional<mac_address> mac(const YAML::Node& n, std::string_view what)
    {
        return parsed(n, what, parse_mac, "a MAC address like 02:00:00:00:00:01");
    }

    // A space-separated FortiOS list ("ping https") or a YAML sequence of words.
    std::vector<std::string> words(const YAML::Node& n, std::string_view what)
    {
        std::vector<std::string> out;
        if (n.IsSequence()) {
            for (const auto& item : n) {
                if (const auto s = scalar(item, what)) {
                    out.push_back(*s);
                }
            }
            return out;
        }
        if (const auto s = scalar(n, what)) {
            std::istringstream in(*s);
            for (std::string w; in >> w;) {
                out.push_back(w);
            }
        }
        return out;
    }

private:
    std::vector<config_error>& errors_;
};

void read_interfaces(reader& r, const YAML::Node& n, config& cfg)
{
    r.each_entry(n, "system interface", [&](const std::string& name, const YAML::Node& key, const YAML::Node& v) {
        interface_config i;
        i.name = name;
        i.where = position_of(key);
        const auto what = fmt::format("system interface {}", name);
        bool has_ip = false;
        bool has_port = false;
        r.object(v, what,
                 {
                     {"dpdk-port",
                      [&](const YAML::Node& x) {
                          if (auto s = r.scalar(x, what + " dpdk-port")) {
                              i.dpdk_port = *s;
                              has_port = true;
                          }
                      }},
                     {"ip",
                      [&](const YAML::Node& x) {
                          if (auto p = r.prefix(x, what + " ip")) {
                              if (p->length == 0 || p->length == 32) {
                                  r.error(x, fmt::format("{} ip needs a prefix length from 1 to 31", what));
                              } else {
                                  i.ip = *p;
                                  has_ip = true;
                              }
                          }
                      }},
                     {"macaddr",
                      [&](const YAML::Node& x) {
                          if (auto m = r.mac(x, what + " macaddr")) {
                              if ((*m)[0] & 1u) {
                                  r.error(x, fmt::format("{} macaddr must be a unicast address", what));
                              } else {
                                  i.macaddr = *m;
                              }
                          }
                      }},
                     {"mtu",
                      [&](const YAML::Node& x) {
                          if (auto m = r.integer(x, what + " mtu", 576, 9216)) {
                              i.mtu = static_cast<std::uint16_t>(*m);
                          }
                      }},
                     {"allowaccess",
                      [&](const YAML::Node& x) {
                          static const std::set<std::string, std::less<>> known{
                              "ping", "https", "ssh", "http", "telnet", "snmp", "fgfm", "fabric"};
                          i.allowaccess = r.words(x, what + " allowaccess");
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

void read_arp_table(reader& r, const YAML::Node& n, config& cfg)
{
    r.each_entry(n, "system arp-table", [&](const std::string& id, const YAML::Node& key, const YAML::Node& v) {
        arp_entry_config a;
        a.where = position_of(key);
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
                      [&](const YAML::Node& x) {
                          if (auto s = r.scalar(x, what + " interface")) {
                              a.interface = *s;
                              has_if = true;
                          }
                      }},
                     {"ip",
                      [&](const YAML::Node& x) {
                          if (auto ip = r.address(x, what + " ip")) {
                              a.ip = *ip;
                              has_ip = true;
                          }
                      }},
                     {"mac",
                      [&](const YAML::Node& x) {
                          if (auto m = r.mac(x, what + " mac")) {
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

void read_static_routes(reader& r, const YAML::Node& n, config& cfg)
{
    r.each_entry(n, "router static", [&](const std::string& id, const YAML::Node& key, const YAML::Node& v) {
        static_route_config s;
        s.where = position_of(key);
        const auto what = fmt::format("router static {}", id);
        if (const auto i = r.integer(key, "router static id", 1, 4294967295u)) {
            s.id = static_cast<std::uint32_t>(*i);
        }
        bool has_dst = false;
        r.object(v, what,
                 {
                     {"dst",
                      [&](const YAML::Node& x) {
                          if (auto p = r.prefix(x, what + " dst")) {
                              if (p->address != p->network()) {
                                  r.error(x, fmt::format("{} dst {} has host bits set", what, format_prefix(*p)));
                              } else {
                                  s.dst = *p;
                                  has_dst = true;
                              }
                          }
                      }},
                     {"gateway",
                      [&](const YAML::Node& x) {
                          if (auto a = r.address(x, what + " gateway")) {
                              s.gateway = *a;
                          }
                      }},
                     {"device",
                      [&](const YAML::Node& x) {
                          if (auto d = r.scalar(x, what + " device")) {
                              s.device = *d;
                          }
                      }},
                     {"distance",
                      [&](const YAML::Node& x) {
                          if (auto d = r.integer(x, what + " distance", 1, 255)) {
                              s.distance = static_cast<std::uint8_t>(*d);
                          }
                      }},
                     {"status",
                      [&](const YAML::Node& x) {
                          if (auto b = r.enable_disable(x, what + " status")) {
                              s.enabled = *b;
                          }
                      }},
                     {"blackhole",
                      [&](const YAML::Node& x) {
                          if (auto b = r.enable_disable(x, what + " blackhole")) {
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

load_result load_yaml(std::string_view text)
{
    load_result result;
    reader r(result.errors);
    YAML::Node root;
    try {
        root = YAML::Load(std::string(text));
    } catch (const YAML::ParserException& e) {
        result.errors.push_back({{e.mark.line + 1, e.mark.column + 1}, e.msg});
        return result;
    }
    if (root.IsNull()) {
        return result; // an empty document: no interfaces, no routes
    }
    r.object(root, "the configuration",
             {
                 {"system",
                  [&](const YAML::Node& sys) {
                      r.object(sys, "system",
                               {
                                   {"interface", [&](const YAML::Node& x) { read_interfaces(r, x, result.cfg); }},
                                   {"arp-table", [&](const YAML::Node& x) { read_arp_table(r, x, result.cfg); }},
                               });
                  }},
                 {"router",
                  [&](const YAML::Node& router) {
                      r.object(router, "router",
                               {
                                   {"static", [&](const YAML::Node& x) { read_static_routes(r, x, result.cfg); }},
                               });
                  }},
             });
    check_references(r, result.cfg);
    return result;
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
