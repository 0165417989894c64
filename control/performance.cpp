// See performance.hpp.
#include "control/performance.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace sipalg::control {

void performance::add(performance_sample s)
{
    samples_.push_back(std::move(s));
    while (samples_.size() > kept) {
        samples_.pop_front();
    }
}

namespace {

// A per-second rate between two samples (0 when they are the same moment).
double rate(std::uint64_t from, std::uint64_t to, double seconds)
{
    return seconds > 0 ? static_cast<double>(to - std::min(from, to)) / seconds : 0.0;
}

} // namespace

std::string performance::status(std::uint64_t memory_total_kb, std::uint64_t memory_available_kb) const
{
    std::string out;
    if (samples_.size() < 2) {
        return "no samples yet (one a second)\n";
    }
    const performance_sample& now = samples_.back();
    // The sample `minutes` ago (or the oldest kept).
    const auto back = [&](double minutes) -> const performance_sample& {
        for (auto it = samples_.rbegin(); it != samples_.rend(); ++it) {
            if (now.seconds - it->seconds >= minutes * 60) {
                return *it;
            }
        }
        return samples_.front();
    };
    const performance_sample& last = samples_[samples_.size() - 2];
    // Workers: the share of the last second's TSC cycles their polls found work in.
    const double second = now.seconds - last.seconds;
    double total = 0;
    std::string per_worker;
    for (std::size_t w = 0; w < now.busy.size() && w < last.busy.size(); ++w) {
        const double share = std::min(1.0, rate(last.busy[w], now.busy[w], second) / static_cast<double>(tsc_hz_));
        total += share;
        fmt::format_to(std::back_inserter(per_worker), "Worker{} states: {:.0f}% busy {:.0f}% polling\n", w, 100 * share,
                       100 * (1 - share));
    }
    fmt::format_to(std::back_inserter(out), "CPU states: {:.0f}% busy {:.0f}% polling (the workers, over the last second)\n",
                   now.busy.empty() ? 0.0 : 100 * total / static_cast<double>(now.busy.size()),
                   now.busy.empty() ? 0.0 : 100 - 100 * total / static_cast<double>(now.busy.size()));
    out += per_worker;
    if (memory_total_kb != 0) {
        const std::uint64_t used = memory_total_kb - std::min(memory_total_kb, memory_available_kb);
        fmt::format_to(std::back_inserter(out), "Memory: {}k total, {}k used ({:.1f}%), {}k free ({:.1f}%)\n", memory_total_kb, used,
                       100.0 * static_cast<double>(used) / static_cast<double>(memory_total_kb), memory_available_kb,
                       100.0 * static_cast<double>(memory_available_kb) / static_cast<double>(memory_total_kb));
    }
    // Averages over the last 1, 10 and 30 minutes, and the busiest second of each window.
    const std::array<double, 3> windows{1, 10, 30};
    // "Average WHAT: V UNIT in 1 minute, V UNIT in 10 minutes, V UNIT in 30 minutes".
    const auto line = [&](std::string_view what, auto value, std::string_view unit) {
        std::string avg = fmt::format("Average {}: ", what);
        for (std::size_t i = 0; i < windows.size(); ++i) {
            fmt::format_to(std::back_inserter(avg), "{}{}{} in {} minute{}", i == 0 ? "" : ", ", value(back(windows[i]), now), unit,
                           windows[i], windows[i] == 1 ? "" : "s");
        }
        return avg + "\n";
    };
    const auto network = [&](const performance_sample& a, const performance_sample& b) {
        const double t = b.seconds - a.seconds;
        return fmt::format("{:.0f} / {:.0f}", rate(a.rx_bytes, b.rx_bytes, t) * 8 / 1000, rate(a.tx_bytes, b.tx_bytes, t) * 8 / 1000);
    };
    const auto sessions = [&](const performance_sample& a, const performance_sample& b) {
        // The sessions at each sample of the window, averaged.
        double sum = 0;
        std::size_t n = 0;
        for (const auto& s : samples_) {
            if (s.seconds >= a.seconds && s.seconds <= b.seconds) {
                sum += static_cast<double>(s.sessions);
                ++n;
            }
        }
        return fmt::format("{:.0f}", n == 0 ? 0.0 : sum / static_cast<double>(n));
    };
    const auto setup = [&](const performance_sample& a, const performance_sample& b) {
        return fmt::format("{:.0f}", rate(a.sessions_created, b.sessions_created, b.seconds - a.seconds));
    };
    const auto drops = [&](const performance_sample& a, const performance_sample& b) {
        return fmt::format("{:.0f}", rate(a.drops, b.drops, b.seconds - a.seconds));
    };
    const auto calls = [&](const performance_sample& a, const performance_sample& b) {
        return fmt::format("{:.1f}", rate(a.calls, b.calls, b.seconds - a.seconds));
    };
    out += line("network usage", network, " kbps");
    out += line("sessions", sessions, " sessions");
    out += line("session setup rate", setup, " sessions per second");
    out += line("SIP call setup rate", calls, " calls per second");
    out += line("drops", drops, " packets per second");
    const auto up = static_cast<std::uint64_t>(now.seconds);
    fmt::format_to(std::back_inserter(out), "Uptime: {} days, {:2} hours, {:2} minutes\n", up / 86400, up / 3600 % 24, up / 60 % 60);
    return out;
}

std::pair<std::uint64_t, std::uint64_t> host_memory_kb()
{
    std::ifstream in("/proc/meminfo");
    std::string key;
    std::uint64_t value = 0;
    std::string unit;
    std::uint64_t total = 0;
    std::uint64_t available = 0;
    while (in >> key >> value >> unit) {
        if (key == "MemTotal:") {
            total = value;
        } else if (key == "MemAvailable:") {
            available = value;
        }
    }
    return {total, available};
}

} // namespace sipalg::control
