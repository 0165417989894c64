// See metrics.hpp.
#include "control/metrics.hpp"

#include "dataplane/counters.hpp"
#include "nat/call_table.hpp"
#include "nat/ipv4.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <cerrno>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>

namespace sipalg::control {

namespace {

constexpr std::size_t max_clients = 16;
constexpr std::size_t max_request = 8192;

// HELP text: backslash and line feed escaped (exposition format 0.0.4).
std::string help_text(std::string_view s)
{
    std::string out;
    for (char c : s) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help)
{
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help_text(help), name, type);
}

} // namespace

std::string metrics_text(const metrics_input& in)
{
    std::string out;
    out.reserve(64 * 1024);
    family(out, "sipalg_info", "gauge", "sipalgd's version and workers (the value is always 1)");
    fmt::format_to(std::back_inserter(out), "sipalg_info{{version=\"{}\",workers=\"{}\"}} 1\n", in.version, in.workers.size());

    // Every counter but the drop reasons and the busy cycles, one family each, a sample per worker.
    const auto busy = static_cast<std::size_t>(dp::counter::busy_cycles);
    for (std::size_t c = 0; c < dp::counter_count; ++c) {
        const std::string_view name = dp::counter_names[c];
        if (name.starts_with("drop_") || c == busy) {
            continue;
        }
        const std::string metric = fmt::format("sipalg_{}_total", name);
        family(out, metric, "counter", dp::counter_help[c]);
        for (std::size_t w = 0; w < in.workers.size(); ++w) {
            fmt::format_to(std::back_inserter(out), "{}{{worker=\"{}\"}} {}\n", metric, w, in.workers[w].counters[c]);
        }
    }
    family(out, "sipalg_drops_total", "counter", "packets and SIP messages refused, by reason (dataplane/counters.hpp)");
    for (std::size_t c = 0; c < dp::counter_count; ++c) {
        const std::string_view name = dp::counter_names[c];
        if (!name.starts_with("drop_")) {
            continue;
        }
        for (std::size_t w = 0; w < in.workers.size(); ++w) {
            fmt::format_to(std::back_inserter(out), "sipalg_drops_total{{reason=\"{}\",worker=\"{}\"}} {}\n", name.substr(5), w,
                           in.workers[w].counters[c]);
        }
    }
    family(out, "sipalg_worker_busy_seconds_total", "counter",
           "time a worker spent on polls that found packets (its rate is the worker's busy share)");
    for (std::size_t w = 0; w < in.workers.size(); ++w) {
        fmt::format_to(std::back_inserter(out), "sipalg_worker_busy_seconds_total{{worker=\"{}\"}} {:.6f}\n", w,
                       static_cast<double>(in.workers[w].counters[busy]) / static_cast<double>(std::max<std::uint64_t>(1, in.tsc_hz)));
    }

    family(out, "sipalg_sessions", "gauge", "sessions in a worker's table now");
    for (std::size_t w = 0; w < in.workers.size(); ++w) {
        fmt::format_to(std::back_inserter(out), "sipalg_sessions{{worker=\"{}\"}} {}\n", w, in.workers[w].sessions);
    }
    family(out, "sipalg_pinholes", "gauge", "pinholes open now (media, Contact, registration)");
    for (std::size_t w = 0; w < in.workers.size(); ++w) {
        fmt::format_to(std::back_inserter(out), "sipalg_pinholes{{worker=\"{}\"}} {}\n", w, in.workers[w].pinholes);
    }
    family(out, "sipalg_calls", "gauge", "calls the SIP engines follow now, by state (ended: still listed)");
    for (std::size_t w = 0; w < in.workers.size(); ++w) {
        for (std::size_t s = 0; s < in.workers[w].calls.size(); ++s) {
            fmt::format_to(std::back_inserter(out), "sipalg_calls{{state=\"{}\",worker=\"{}\"}} {}\n",
                           nat::call_state_name(static_cast<nat::call_state>(s)), w, in.workers[w].calls[s]);
        }
    }

    // The ports' own counters (rte_eth_stats).
    const std::pair<std::string_view, std::uint64_t metrics_input::port::*> port_counters[] = {
        {"rx_packets", &metrics_input::port::rx_packets}, {"tx_packets", &metrics_input::port::tx_packets},
        {"rx_bytes", &metrics_input::port::rx_bytes},     {"tx_bytes", &metrics_input::port::tx_bytes},
        {"rx_missed", &metrics_input::port::rx_missed},   {"rx_errors", &metrics_input::port::rx_errors},
        {"tx_errors", &metrics_input::port::tx_errors},
    };
    for (const auto& [what, member] : port_counters) {
        const std::string metric = fmt::format("sipalg_port_{}_total", what);
        family(out, metric, "counter", fmt::format("the port's {} (its PMD's counters)", what));
        for (const auto& p : in.ports) {
            fmt::format_to(std::back_inserter(out), "{}{{port=\"{}\"}} {}\n", metric, p.name, p.*member);
        }
    }

    // Per firewall policy, summed over the workers.
    family(out, "sipalg_policy_hits_total", "counter", "sessions a firewall policy accepted (FortiOS's hit count)");
    for (const auto& p : in.policies) {
        fmt::format_to(std::back_inserter(out), "sipalg_policy_hits_total{{policy=\"{}\"}} {}\n", p.id, p.hits);
    }
    family(out, "sipalg_policy_sessions", "gauge", "sessions of a firewall policy now");
    for (const auto& p : in.policies) {
        fmt::format_to(std::back_inserter(out), "sipalg_policy_sessions{{policy=\"{}\"}} {}\n", p.id, std::max<std::int64_t>(0, p.sessions));
    }
    family(out, "sipalg_policy_packets_total", "counter", "packets of a firewall policy's sessions, by direction");
    for (const auto& p : in.policies) {
        fmt::format_to(std::back_inserter(out), "sipalg_policy_packets_total{{direction=\"original\",policy=\"{}\"}} {}\n"
                                                 "sipalg_policy_packets_total{{direction=\"reply\",policy=\"{}\"}} {}\n",
                       p.id, p.packets[0], p.id, p.packets[1]);
    }
    family(out, "sipalg_policy_bytes_total", "counter", "bytes (IP) of a firewall policy's sessions, by direction");
    for (const auto& p : in.policies) {
        fmt::format_to(std::back_inserter(out), "sipalg_policy_bytes_total{{direction=\"original\",policy=\"{}\"}} {}\n"
                                                 "sipalg_policy_bytes_total{{direction=\"reply\",policy=\"{}\"}} {}\n",
                       p.id, p.bytes[0], p.id, p.bytes[1]);
    }

    // The logs (control/logging.hpp).
    const std::pair<std::string_view, std::uint64_t> logs[] = {
        {"log_lines", in.logs.lines},           {"syslog_sent", in.logs.syslog_sent},
        {"syslog_dropped", in.logs.syslog_dropped}, {"syslog_connects", in.logs.syslog_connects},
        {"disk_log_written", in.logs.disk_written}, {"disk_log_errors", in.logs.disk_errors},
        {"disk_log_rotations", in.logs.disk_rotations},
    };
    for (const auto& [what, value] : logs) {
        const std::string metric = fmt::format("sipalg_{}_total", what);
        family(out, metric, "counter", fmt::format("the control core's logging: {}", what));
        fmt::format_to(std::back_inserter(out), "{} {}\n", metric, value);
    }
    family(out, "sipalg_syslog_send_seconds_total", "counter", "the control core's time in the system calls that send syslog lines over UDP");
    fmt::format_to(std::back_inserter(out), "sipalg_syslog_send_seconds_total {:.9f}\n", static_cast<double>(in.logs.syslog_send_ns) / 1e9);
    return out;
}

std::unique_ptr<metrics_server> metrics_server::create(std::string_view listen, render_fn render, std::string& error)
{
    const std::size_t colon = listen.rfind(':');
    const auto address = colon == std::string_view::npos ? std::nullopt : parse_ipv4(listen.substr(0, colon));
    unsigned port = 0;
    const std::string_view port_text = colon == std::string_view::npos ? std::string_view{} : listen.substr(colon + 1);
    const bool port_ok = !port_text.empty() && port_text.size() <= 5 &&
                         std::all_of(port_text.begin(), port_text.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
                         (port = static_cast<unsigned>(std::stoul(std::string(port_text)))) <= 65535;
    if (!address || !port_ok) {
        error = fmt::format("--metrics-listen {}: not ADDRESS:PORT (an IPv4 address)", listen);
        return nullptr;
    }
    std::unique_ptr<metrics_server> s(new metrics_server());
    s->render_ = std::move(render);
    s->fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(s->fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(*address);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    socklen_t len = sizeof(a);
    if (s->fd_ < 0 || ::bind(s->fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(s->fd_, 16) != 0 ||
        ::getsockname(s->fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        error = fmt::format("--metrics-listen {}: {}", listen, std::strerror(errno));
        return nullptr;
    }
    s->port_ = ntohs(a.sin_port);
    return s;
}

metrics_server::~metrics_server()
{
    for (auto& c : clients_) {
        ::close(c.fd);
    }
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

void metrics_server::answer(client& c)
{
    // GET /metrics (anything after it on the line ignored), or 404; one request per connection.
    const std::string_view request(c.in);
    const bool get = request.starts_with("GET /metrics ") || request.starts_with("GET /metrics?") || request.starts_with("GET / ");
    const std::string body = get ? render_() : std::string("not found: GET /metrics\n");
    c.out = fmt::format("HTTP/1.1 {}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\n"
                        "Connection: close\r\n\r\n",
                        get ? "200 OK" : "404 Not Found", body.size());
    c.out += body;
    scrapes_ += get ? 1 : 0;
}

void metrics_server::poll()
{
    const auto now = std::chrono::steady_clock::now();
    while (clients_.size() < max_clients) {
        const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            break;
        }
        clients_.push_back({fd, {}, {}, 0, now + std::chrono::seconds(5)});
    }
    for (auto& c : clients_) {
        if (c.out.empty()) {
            char buf[2048];
            ssize_t n = 0;
            while ((n = ::recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0 && c.in.size() < max_request) {
                c.in.append(buf, static_cast<std::size_t>(n));
            }
            if (c.in.find("\r\n\r\n") != std::string::npos || c.in.find("\n\n") != std::string::npos) {
                answer(c);
            } else if (n == 0 || c.in.size() >= max_request || now >= c.deadline) {
                ::close(c.fd);
                c.fd = -1;
                continue;
            }
        }
        while (!c.out.empty() && c.sent < c.out.size()) {
            const ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n <= 0) {
                break;
            }
            c.sent += static_cast<std::size_t>(n);
        }
        if ((!c.out.empty() && c.sent == c.out.size()) || now >= c.deadline) {
            ::close(c.fd);
            c.fd = -1;
        }
    }
    clients_.erase(std::remove_if(clients_.begin(), clients_.end(), [](const client& c) { return c.fd < 0; }), clients_.end());
}

} // namespace sipalg::control
