#pragma once
// get system performance status (FortiOS): the control core samples what the workers and ports publish
// once a second and keeps half an hour of it, for averages over the last 1, 10 and 30 minutes and their
// maxima: the workers' busy share (a poll-mode worker is never idle to the kernel: its own count of the
// polls that found work says how loaded it is), network usage, sessions, the session setup rate and the
// drops, with the host's memory and the uptime.
#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace sipalg::control {

struct performance_sample {
    double seconds = 0;                 // since start (monotonic)
    std::vector<std::uint64_t> busy;    // per worker: busy TSC cycles so far
    std::uint64_t rx_bytes = 0;         // every port, so far
    std::uint64_t tx_bytes = 0;
    std::uint64_t sessions = 0;         // now
    std::uint64_t sessions_created = 0; // so far
    std::uint64_t drops = 0;            // so far
    std::uint64_t calls = 0;            // SIP calls started, so far
};

class performance {
public:
    static constexpr std::size_t kept = 1801; // half an hour of one-second samples, and the one before

    explicit performance(std::uint64_t tsc_hz) : tsc_hz_(tsc_hz == 0 ? 1 : tsc_hz) {}
    void add(performance_sample s);
    // The status text; `memory_total_kb`, `memory_available_kb`: the host's (0: not shown).
    std::string status(std::uint64_t memory_total_kb, std::uint64_t memory_available_kb) const;

private:
    std::uint64_t tsc_hz_;
    std::deque<performance_sample> samples_;
};

// The host's memory from /proc/meminfo (kB): total and available; zeros when it cannot be read.
std::pair<std::uint64_t, std::uint64_t> host_memory_kb();

} // namespace sipalg::control
