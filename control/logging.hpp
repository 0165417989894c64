#pragma once
// The control core's side of the logs (ARCHITECTURE.md "Logs"): the workers' records (dataplane/
// log_ring.hpp) become FortiOS log lines (the VoIP log IDs 44032-44034, their field names and types, as
// the FortiOS Log Message Reference gives them), in the format `config log syslogd setting` asks for,
// and go to the syslog server (UDP, or TCP with RFC 6587 octet counting and a bounded queue), to the
// local file (`config log disk setting`), and to memory, where `execute log display` and `sipalgctl log`
// read them. Nothing here blocks: a send that would wait is queued, a full queue drops and counts.
#include "control/config.hpp"
#include "dataplane/log_ring.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sipalg::control {

// One log line as ordered fields, rendered by each format. The values lie one after another in one
// buffer: a line is made without an allocation once its object has been used before.
struct log_field {
    std::string_view key;
    std::uint32_t begin = 0; // the value: values[begin, end)
    std::uint32_t end = 0;
    bool quoted = false;     // a string field ("..." in the default format)
};
struct log_line {
    std::uint64_t epoch_ns = 0;
    std::string_view logid;    // "0814044032"
    std::string_view category; // FortiOS's execute log filter category: "utm-voip", "traffic"
    unsigned severity = 6;     // syslog severity (RFC 5424 §6.2.1): 5 notice, 6 information
    std::string date;          // epoch_ns in local time, as the default format writes it
    std::string time;
    std::string tz;
    std::string values;
    std::vector<log_field> fields;

    std::string_view value(const log_field& f) const noexcept
    {
        return std::string_view(values).substr(f.begin, f.end - f.begin);
    }
    const log_field* find(std::string_view key) const noexcept;
    std::string_view value_of(std::string_view key) const noexcept; // empty when absent
};

// execute log filter: which lines execute log display shows.
struct log_filter {
    std::string category;                                    // empty: every category
    std::vector<std::pair<std::string, std::string>> fields; // every one must match (the value as logged)
    unsigned view_lines = 1000;                              // the newest this many
};

struct logger_counters {
    std::uint64_t lines = 0;          // lines made from the workers' records
    std::uint64_t syslog_sent = 0;    // lines the syslog server was sent (UDP) or given (TCP)
    std::uint64_t syslog_dropped = 0; // lines not sent: queue full, no connection for long, send error
    std::uint64_t syslog_connects = 0;
    std::uint64_t syslog_send_ns = 0; // time in the system calls that send UDP lines (the kernel's part of a line)
    std::uint64_t disk_written = 0;
    std::uint64_t disk_errors = 0;
    std::uint64_t disk_rotations = 0;
};

class logger;

// execute log filter's words (category C | field NAME VALUE | view-lines N) applied to `f`; an error text
// or empty.
std::string set_log_filter(log_filter& f, const std::vector<std::string>& args);
// execute log display's text: "N logs found.", "M logs returned.", then each line numbered.
std::string format_log_display(const logger& log, const log_filter& f);

class logger {
public:
    // `log_dir`: where the disk log goes (sipalg.log, rotated to sipalg.log.1); `tsc_hz`, `tsc_now`: the
    // workers' clock, to turn their stamps into wall-clock time.
    logger(std::string log_dir, std::uint64_t tsc_hz, std::uint64_t tsc_now);
    ~logger();
    logger(const logger&) = delete;
    logger& operator=(const logger&) = delete;

    // The configuration in force (after each apply): destinations, formats, the names fields carry.
    void configure(const config& cfg);
    // One worker record: its line made, kept in memory, and sent where the configuration says.
    void take(const dp::log_record& r);
    // Flushes what waits for the syslog server (TCP), reconnecting when due; call often.
    void poll();

    // The line in a format: "default" (key=value), "csv", "cef" or "rfc5424" (the syslog message part
    // for rfc5424 is the default line), appended to `out`.
    static void render(const log_line& l, std::string_view format, std::string_view devname, std::string& out);
    static std::string render(const log_line& l, std::string_view format, std::string_view devname)
    {
        std::string out;
        render(l, format, devname, out);
        return out;
    }
    // The newest lines that match `f`, oldest first, in the default format; `found`: how many matched.
    std::vector<std::string> display(const log_filter& f, std::size_t& found) const;
    const logger_counters& counters() const noexcept
    {
        return counters_;
    }
    // A worker's TSC stamp as wall-clock time (nanoseconds since the epoch).
    std::uint64_t wall_of(std::uint64_t tsc) const noexcept
    {
        const auto since = static_cast<std::int64_t>(tsc - tsc_base_);
        return wall_base_ns_ + static_cast<std::uint64_t>(static_cast<double>(since) * 1e9 / static_cast<double>(tsc_hz_));
    }
    // The line a record makes, into `l` (its buffers reused).
    void fill(const dp::log_record& r, log_line& l);
    log_line line_of(const dp::log_record& r)
    {
        log_line l;
        fill(r, l);
        return l;
    }

private:
    struct call_start {
        std::uint32_t session_id = 0;
        std::uint8_t proto = 17;
        std::string from;
        std::string to;
    };
    // A line kept in memory: its category and its text in the default format.
    struct kept {
        std::string_view category;
        std::string text;
    };
    void send_syslog(const log_line& l, std::string_view text);
    void syslog_message(const log_line& l, std::string_view text, std::string& out) const;
    void flush_syslog();
    void write_disk(std::string_view text);
    void open_syslog();
    void close_syslog();
    std::string_view interface_name(std::uint32_t policy_id, bool source) const;
    std::string_view interface_at(std::uint16_t index) const;
    void local_time(std::uint64_t epoch_ns, log_line& l);
    void traffic_fields(const dp::log_record& r, log_line& l);

    std::string log_dir_;
    std::uint64_t tsc_hz_;
    std::uint64_t tsc_base_;
    std::uint64_t wall_base_ns_;
    config cfg_;
    bool configured_ = false;
    logger_counters counters_;
    std::uint64_t event_id_ = 0;
    std::deque<kept> memory_;
    log_line line_;             // the line being made (its buffers kept)
    std::string text_;          // its text
    std::int64_t time_second_ = -1; // the second date/time/tz were made for
    std::string time_date_, time_time_, time_tz_;
    // UDP: messages waiting for one sendmmsg (a syscall per line would cost more than making it).
    std::string batch_;
    std::string message_; // TCP: the message being framed
    std::vector<std::pair<std::uint32_t, std::uint32_t>> batch_spans_;
    std::map<std::pair<unsigned, std::uint64_t>, call_start> calls_; // worker, call key: its start
    // syslog
    int fd_ = -1;
    bool tcp_ = false;
    bool connected_ = false;
    std::string queue_;                 // TCP: framed lines not yet written
    std::deque<std::uint32_t> frames_;  // their sizes
    std::size_t head_sent_ = 0;         // bytes of the first already written
    std::chrono::steady_clock::time_point retry_at_{};
    // disk
    int disk_fd_ = -1;
    std::uint64_t disk_size_ = 0;
};

} // namespace sipalg::control
