// control/performance: get system performance status from one-second samples: the workers' busy share
// over the last second, averages and rates over 1, 10 and 30 minutes, the uptime.
#include "control/performance.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace sipalg::control;

TEST_CASE("performance status: busy share, network, sessions, setup rate and drops over their windows")
{
    performance p(1000); // a TSC of 1 kHz: busy cycles are milliseconds
    CHECK(p.status(0, 0) == "no samples yet (one a second)\n");
    // Two minutes: worker 0 busy a quarter of each second, worker 1 always; 1,000 bytes in and 2,000 out
    // a second; 10 sessions set up a second, 100 alive; 3 drops and one call a second.
    for (int t = 0; t <= 120; ++t) {
        performance_sample s;
        s.seconds = t;
        s.busy = {static_cast<std::uint64_t>(250 * t), static_cast<std::uint64_t>(1000 * t)};
        s.rx_bytes = 1000u * static_cast<unsigned>(t);
        s.tx_bytes = 2000u * static_cast<unsigned>(t);
        s.sessions = 100;
        s.sessions_created = 10u * static_cast<unsigned>(t);
        s.drops = 3u * static_cast<unsigned>(t);
        s.calls = static_cast<unsigned>(t);
        p.add(s);
    }
    const std::string text = p.status(1000, 250);
    CHECK(text.find("CPU states: 62% busy 38% polling") != std::string::npos);
    CHECK(text.find("Worker0 states: 25% busy 75% polling\n") != std::string::npos);
    CHECK(text.find("Worker1 states: 100% busy 0% polling\n") != std::string::npos);
    CHECK(text.find("Memory: 1000k total, 750k used (75.0%), 250k free (25.0%)\n") != std::string::npos);
    CHECK(text.find("Average network usage: 8 / 16 kbps in 1 minute, 8 / 16 kbps in 10 minutes") != std::string::npos);
    CHECK(text.find("Average sessions: 100 sessions in 1 minute") != std::string::npos);
    CHECK(text.find("Average session setup rate: 10 sessions per second in 1 minute") != std::string::npos);
    CHECK(text.find("Average SIP call setup rate: 1.0 calls per second in 1 minute") != std::string::npos);
    CHECK(text.find("Average drops: 3 packets per second in 1 minute") != std::string::npos);
    CHECK(text.find("Uptime: 0 days,  0 hours,  2 minutes\n") != std::string::npos);
}
