// control/metrics: the Prometheus exposition text (every counter a family with a worker label, the drop
// reasons one family, gauges, ports, logs) and the HTTP server that answers GET /metrics without waiting.
#include "control/metrics.hpp"
#include "dataplane/counters.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

using namespace sipalg;
using namespace sipalg::control;

TEST_CASE("the exposition text names every counter, the drop reasons as labels, and the gauges")
{
    metrics_input in;
    in.version = "9.9";
    in.tsc_hz = 1000;
    for (unsigned w = 0; w < 2; ++w) {
        metrics_input::worker m;
        m.counters.assign(dp::counter_count, 0);
        m.counters[static_cast<std::size_t>(dp::counter::sip_calls)] = 5 + w;
        m.counters[static_cast<std::size_t>(dp::counter::drop_no_policy)] = 7;
        m.counters[static_cast<std::size_t>(dp::counter::busy_cycles)] = 2500;
        m.calls = {1, 2, 3, 4};
        m.sessions = 10;
        in.workers.push_back(m);
    }
    in.ports.push_back({"port1", 100, 90, 6400, 5760, 1, 0, 0});
    in.logs.lines = 12;
    const std::string t = metrics_text(in);
    CHECK(t.find("sipalg_info{version=\"9.9\",workers=\"2\"} 1\n") != std::string::npos);
    CHECK(t.find("# TYPE sipalg_sip_calls_total counter\n") != std::string::npos);
    CHECK(t.find("sipalg_sip_calls_total{worker=\"1\"} 6\n") != std::string::npos);
    CHECK(t.find("sipalg_drops_total{reason=\"no_policy\",worker=\"0\"} 7\n") != std::string::npos);
    CHECK(t.find("sipalg_drop_no_policy") == std::string::npos); // drops are one family
    CHECK(t.find("sipalg_worker_busy_seconds_total{worker=\"0\"} 2.500000\n") != std::string::npos);
    CHECK(t.find("sipalg_calls{state=\"answered\",worker=\"1\"} 3\n") != std::string::npos);
    CHECK(t.find("sipalg_sessions{worker=\"0\"} 10\n") != std::string::npos);
    CHECK(t.find("sipalg_port_rx_bytes_total{port=\"port1\"} 6400\n") != std::string::npos);
    CHECK(t.find("sipalg_log_lines_total 12\n") != std::string::npos);
    // Every family has its HELP and TYPE before its samples.
    std::size_t families = 0;
    for (std::size_t at = t.find("# TYPE "); at != std::string::npos; at = t.find("# TYPE ", at + 1)) {
        ++families;
    }
    CHECK(families > dp::counter_count / 2);
}

namespace {

std::string http_get(std::uint16_t port, const std::string& path, metrics_server& server)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
    ::send(fd, request.data(), request.size(), 0);
    std::string reply;
    for (int i = 0; i < 200; ++i) {
        server.poll();
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 10) > 0) {
            char buf[65536];
            const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
            if (n <= 0) {
                break;
            }
            reply.append(buf, static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    return reply;
}

} // namespace

TEST_CASE("the server answers GET /metrics with the text and its length, anything else with 404")
{
    std::string error;
    const std::string body(100000, 'x'); // larger than one send takes
    auto server = metrics_server::create("127.0.0.1:0", [&] { return body; }, error);
    REQUIRE(server != nullptr);
    const std::string ok = http_get(server->port(), "/metrics", *server);
    CHECK(ok.starts_with("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4"));
    CHECK(ok.find("Content-Length: 100000\r\n") != std::string::npos);
    CHECK(ok.ends_with(body));
    CHECK(http_get(server->port(), "/other", *server).starts_with("HTTP/1.1 404 Not Found"));
    CHECK(server->scrapes() == 1);
    CHECK(metrics_server::create("localhost:9464", [] { return std::string(); }, error) == nullptr);
    CHECK(error.find("not ADDRESS:PORT") != std::string::npos);
}
