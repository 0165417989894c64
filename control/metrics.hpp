#pragma once
// Metrics for Prometheus (ARCHITECTURE.md "Metrics"): the control core serves the Prometheus text
// exposition format (version 0.0.4) at GET /metrics on a local address (sipalgd --metrics-listen,
// off by default). Every worker counter (drop reasons as one family with a reason label), the
// sessions, pinholes and calls by state of each worker, each worker's busy time, the ports' own
// counters and the logs'. The server is one non-blocking socket polled from the control core's loop:
// a scrape never reaches a worker, it reads what they publish.
#include "control/logging.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sipalg::control {

// What one scrape reports, gathered by the caller from the appliance (control/sipalgd.cpp).
struct metrics_input {
    struct worker {
        std::vector<std::uint64_t> counters; // by dp::counter
        std::uint32_t sessions = 0;
        std::uint32_t pinholes = 0;
        std::array<std::uint32_t, 4> calls{}; // by nat::call_state
    };
    struct port {
        std::string name;
        std::uint64_t rx_packets = 0, tx_packets = 0, rx_bytes = 0, tx_bytes = 0, rx_missed = 0, rx_errors = 0, tx_errors = 0;
    };
    struct policy {
        std::uint32_t id = 0; // 0: the policies beyond a worker's table
        std::uint64_t hits = 0;
        std::int64_t sessions = 0;
        std::array<std::uint64_t, 2> packets{}; // original, reply
        std::array<std::uint64_t, 2> bytes{};
    };
    std::vector<worker> workers;
    std::vector<port> ports;
    std::vector<policy> policies; // summed over the workers
    std::uint64_t tsc_hz = 1;
    logger_counters logs;
    std::string version;
};

// The exposition text of `in`.
std::string metrics_text(const metrics_input& in);

class metrics_server {
public:
    using render_fn = std::function<std::string()>;
    // Listens on "ADDRESS:PORT" (an IPv4 address); null and `error` set when it cannot.
    static std::unique_ptr<metrics_server> create(std::string_view listen, render_fn render, std::string& error);
    ~metrics_server();
    metrics_server(const metrics_server&) = delete;
    metrics_server& operator=(const metrics_server&) = delete;

    // Accepts, reads and answers what is ready, without waiting.
    void poll();
    std::uint16_t port() const noexcept
    {
        return port_;
    }
    std::uint64_t scrapes() const noexcept
    {
        return scrapes_;
    }

private:
    metrics_server() = default;
    struct client {
        int fd = -1;
        std::string in;
        std::string out;
        std::size_t sent = 0;
        std::chrono::steady_clock::time_point deadline;
    };
    void answer(client& c);

    int fd_ = -1;
    std::uint16_t port_ = 0;
    render_fn render_;
    std::vector<client> clients_;
    std::uint64_t scrapes_ = 0;
};

} // namespace sipalg::control
