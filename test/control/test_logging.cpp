// control/logging: worker records become FortiOS's VoIP log lines (44032 start and end, 44033, 44034),
// rendered in the four syslog formats, kept in memory for execute log display, sent to a syslog server
// over UDP and over TCP with RFC 6587 octet counting, and written to a rotated disk log.
#include "control/config.hpp"
#include "control/logging.hpp"
#include "sip/checks.hpp"
#include "sip/engine.hpp"
#include "sip/message.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

using namespace sipalg;
using namespace sipalg::control;

namespace {

constexpr std::uint64_t hz = 1000000000; // a TSC of 1 GHz: ticks are nanoseconds

config two_interfaces()
{
    config c;
    policy_config p;
    p.id = 7;
    p.srcintf = {"port1"};
    p.dstintf = {"wan1"};
    c.policies.push_back(p);
    c.timers.hostname = "edge1";
    return c;
}

dp::log_record call(dp::log_kind kind, std::uint64_t tsc)
{
    dp::log_record r;
    r.kind = kind;
    r.tsc = tsc;
    r.session_id = kind == dp::log_kind::call_start ? 42 : 0;
    r.policy_id = 7;
    r.voip_profile = 0; // "default"
    r.src = 0x0a000102;
    r.dst = 0xc6336402;
    r.sport = 5060;
    r.dport = 5060;
    r.call_key = 99;
    r.duration_s = kind == dp::log_kind::call_end ? 12 : 0;
    dp::log_record::put(r.call_id, r.call_id_length, "abc@10.0.1.2");
    if (kind == dp::log_kind::call_start) {
        dp::log_record::put(r.from, r.from_length, "sip:alice@10.0.1.2");
        dp::log_record::put(r.to, r.to_length, "sip:bob@198.51.100.2");
    }
    return r;
}

std::string value(const log_line& l, std::string_view key)
{
    const log_field* f = l.find(key);
    REQUIRE(f != nullptr);
    return std::string(l.value(*f));
}

} // namespace

TEST_CASE("a call's start and end are 44032 lines with FortiOS's fields; the end carries the start's session and addresses")
{
    logger log("/nonexistent", hz, 0);
    log.configure(two_interfaces());
    const log_line start = log.line_of(call(dp::log_kind::call_start, 5'000'000'000));
    CHECK(start.logid == "0814044032");
    CHECK(value(start, "type") == "utm");
    CHECK(value(start, "subtype") == "voip");
    CHECK(value(start, "kind") == "call");
    CHECK(value(start, "action") == "permit");
    CHECK(value(start, "status") == "start");
    CHECK(value(start, "session_id") == "42");
    CHECK(value(start, "srcip") == "10.0.1.2");
    CHECK(value(start, "dstip") == "198.51.100.2");
    CHECK(value(start, "src_int") == "port1");
    CHECK(value(start, "dst_int") == "wan1");
    CHECK(value(start, "policy_id") == "7");
    CHECK(value(start, "profile") == "default");
    CHECK(value(start, "from") == "sip:alice@10.0.1.2");
    const log_line end = log.line_of(call(dp::log_kind::call_end, 17'000'000'000));
    CHECK(value(end, "status") == "end");
    CHECK(value(end, "duration") == "12");
    CHECK(value(end, "session_id") == "42");
    CHECK(value(end, "to") == "sip:bob@198.51.100.2");
    CHECK(end.epoch_ns - start.epoch_ns == 12'000'000'000u);
    CHECK(std::stoul(value(end, "event_id")) == std::stoul(value(start, "event_id")) + 1);
    // The default format: key=value, strings quoted (and their quotes escaped).
    const std::string text = logger::render(end, "default", "edge1");
    CHECK(std::regex_search(text, std::regex(R"(^date=\d{4}-\d\d-\d\d time=\d\d:\d\d:\d\d devname="edge1" eventtime=\d+ tz="[+-]\d{4}" )")));
    CHECK(text.find(R"( logid="0814044032" type="utm" subtype="voip" eventtype="voip" level="information" vd="root" )") != std::string::npos);
    CHECK(text.find(R"( srcip=10.0.1.2 src_port=5060 dstip=198.51.100.2 dst_port=5060 proto=17 )") != std::string::npos);
    CHECK(text.find(R"( call_id="abc@10.0.1.2" from="sip:alice@10.0.1.2" to="sip:bob@198.51.100.2")") != std::string::npos);
    CHECK(logger::render(end, "csv", "edge1").find(R"(,logid="0814044032",type="utm",)") != std::string::npos);
    const std::string cef = logger::render(end, "cef", "edge1");
    CHECK(cef.starts_with("CEF:0|sipalg|sipalgd|1|44032|utm:voip voip permit end|2|"));
    CHECK(cef.find(" src=10.0.1.2 spt=5060 dst=198.51.100.2 dpt=5060 ") != std::string::npos);
    CHECK(cef.find(" suser=sip:alice@10.0.1.2 duser=sip:bob@198.51.100.2") != std::string::npos);
    CHECK(cef.find(" FTNTFGTlogid=0814044032") != std::string::npos);
}

TEST_CASE("blocked and malformed messages are 44033 and 44034 lines")
{
    logger log("/nonexistent", hz, 0);
    log.configure(two_interfaces());
    dp::log_record b = call(dp::log_kind::sip_block, 0);
    b.detail = static_cast<std::uint8_t>(sip::drop_reason::rate);
    b.method = static_cast<std::uint8_t>(sip::method::invite);
    b.action = 1;
    const log_line block = log.line_of(b);
    CHECK(block.logid == "0814044033");
    CHECK(value(block, "level") == "notice");
    CHECK(value(block, "reason") == "rate limit");
    CHECK(value(block, "action") == "block");
    CHECK(value(block, "message_type") == "request");
    CHECK(value(block, "request_name") == "INVITE");
    CHECK(value(block, "count") == "1");
    dp::log_record m = call(dp::log_kind::sip_malformed, 0);
    m.detail = static_cast<std::uint8_t>(sip::check::malformed_header_cseq);
    m.method = static_cast<std::uint8_t>(sip::method::options);
    m.line = 6;
    m.column = 7;
    m.action = 0; // passed
    dp::log_record::put(m.text, m.text_length, "not a number below 2^31 and a method");
    const log_line bad = log.line_of(m);
    CHECK(bad.logid == "0814044034");
    CHECK(value(bad, "action") == "permit");
    CHECK(value(bad, "malform_desc").starts_with("malformed-header-cseq: not a number"));
    CHECK(value(bad, "malform_desc").size() <= 47);
    CHECK(value(bad, "line") == "6");
    CHECK(value(bad, "column") == "7");
    CHECK(value(bad, "request_name") == "OPTIONS");
}

TEST_CASE("execute log display shows the newest lines the filter selects, oldest first")
{
    logger log("/nonexistent", hz, 0);
    log.configure(two_interfaces());
    for (std::uint64_t k = 1; k <= 5; ++k) {
        dp::log_record r = call(dp::log_kind::call_start, k);
        r.call_key = k;
        r.policy_id = k % 2 == 0 ? 7 : 8;
        log.take(r);
    }
    std::size_t found = 0;
    log_filter all;
    CHECK(log.display(all, found).size() == 5);
    log_filter f;
    REQUIRE(set_log_filter(f, {"category", "voip"}).empty());
    REQUIRE(set_log_filter(f, {"field", "policy_id", "8"}).empty());
    REQUIRE(set_log_filter(f, {"view-lines", "2"}).empty());
    const auto lines = log.display(f, found);
    CHECK(found == 3);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].find("event_id=3 ") != std::string::npos); // the newest two, oldest first
    CHECK(lines[1].find("event_id=5 ") != std::string::npos);
    REQUIRE(set_log_filter(f, {"category", "traffic"}).empty());
    CHECK(log.display(f, found).empty());
    CHECK(!set_log_filter(f, {"category", "virus"}).empty());
    CHECK(!set_log_filter(f, {"view-lines", "0"}).empty());
    const std::string text = format_log_display(log, all);
    CHECK(text.starts_with("5 logs found.\n5 logs returned.\n\n1: date="));
}

namespace {

// A local receiver: a UDP socket, or a TCP listener, on 127.0.0.1 at a port of the kernel's choice.
struct receiver {
    int fd = -1;
    std::uint16_t port = 0;
    explicit receiver(int type)
    {
        fd = ::socket(AF_INET, type, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
        socklen_t n = sizeof(a);
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
        port = ntohs(a.sin_port);
        if (type == SOCK_STREAM) {
            ::listen(fd, 1);
        }
    }
    ~receiver() { ::close(fd); }
    static std::string read_some(int from, int timeout_ms = 2000)
    {
        pollfd p{from, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0) {
            return {};
        }
        char buf[65536];
        const ssize_t n = ::recv(from, buf, sizeof(buf), 0);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    }
};

config to_syslog(std::uint16_t port, std::string mode, std::string format)
{
    config c = two_interfaces();
    c.syslogd.status = true;
    c.syslogd.server = 0x7f000001;
    c.syslogd.port = port;
    c.syslogd.mode = std::move(mode);
    c.syslogd.format = std::move(format);
    c.syslogd.facility = "local0";
    return c;
}

} // namespace

TEST_CASE("lines reach a syslog server over UDP, one datagram each (sent together), with their priority")
{
    receiver server(SOCK_DGRAM);
    logger log("/nonexistent", hz, 0);
    log.configure(to_syslog(server.port, "udp", "default"));
    log.take(call(dp::log_kind::call_start, 1));
    CHECK(log.counters().syslog_sent == 0); // batched until the control core flushes
    log.poll();
    const std::string got = receiver::read_some(server.fd);
    CHECK(got.starts_with("<134>date=")); // local0 (16) * 8 + information (6)
    CHECK(got.find(R"(logid="0814044032")") != std::string::npos);
    CHECK(log.counters().syslog_sent == 1);
    // RFC 5424: version, timestamp, host, app, procid, msgid, no structured data, then the line.
    log.configure(to_syslog(server.port, "udp", "rfc5424"));
    log.take(call(dp::log_kind::call_end, 2));
    log.poll();
    const std::string r5424 = receiver::read_some(server.fd);
    CHECK(std::regex_search(r5424, std::regex(R"(^<134>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z edge1 sipalgd \d+ 0814044032 - date=)")));
}

TEST_CASE("over TCP (reliable) each line is framed by its length (RFC 6587), and lines wait for the server")
{
    receiver server(SOCK_STREAM);
    logger log("/nonexistent", hz, 0);
    log.configure(to_syslog(server.port, "reliable", "default"));
    log.take(call(dp::log_kind::call_start, 1));
    log.take(call(dp::log_kind::call_end, 2));
    const int conn = ::accept(server.fd, nullptr, nullptr);
    REQUIRE(conn >= 0);
    std::string got;
    for (int i = 0; i < 50 && std::count(got.begin(), got.end(), '<') < 2; ++i) {
        log.poll();
        got += receiver::read_some(conn, 100);
    }
    ::close(conn);
    // MSG-LEN SP MSG, twice, each length exact.
    std::size_t at = 0;
    for (int k = 0; k < 2; ++k) {
        const std::size_t sp = got.find(' ', at);
        REQUIRE(sp != std::string::npos);
        const std::size_t n = std::stoul(got.substr(at, sp - at));
        const std::string message = got.substr(sp + 1, n);
        CHECK(message.starts_with("<134>date="));
        CHECK(message.find(k == 0 ? R"(status="start")" : R"(status="end")") != std::string::npos);
        at = sp + 1 + n;
    }
    CHECK(at == got.size());
}

TEST_CASE("the disk log is appended to, and rotated beyond maxlogfilesize")
{
    const std::string dir = (std::filesystem::temp_directory_path() / "sipalg-test-logging").string();
    std::filesystem::remove_all(dir);
    logger log(dir, hz, 0);
    config c = two_interfaces();
    c.log_disk.status = true;
    c.log_disk.maxlogfilesize = 1; // MB
    log.configure(c);
    for (int i = 0; i < 4000; ++i) { // about 400 bytes each: 1.6 MB in all
        log.take(call(dp::log_kind::call_start, static_cast<std::uint64_t>(i)));
    }
    CHECK(log.counters().disk_rotations == 1);
    CHECK(std::filesystem::file_size(dir + "/sipalg.log.1") <= 1u << 20);
    std::ifstream in(dir + "/sipalg.log");
    std::string first;
    std::getline(in, first);
    CHECK(first.starts_with("date="));
    CHECK(log.counters().disk_written == 4000);
    std::filesystem::remove_all(dir);
}

TEST_CASE("a session's end is a forward traffic line (13) with its addresses before and after NAT and its counts")
{
    logger log("/nonexistent", hz, 0);
    config c = two_interfaces();
    c.interfaces.resize(2);
    c.interfaces[0].name = "port1";
    c.interfaces[1].name = "wan1";
    log.configure(c);
    dp::log_record r;
    r.kind = dp::log_kind::traffic_close;
    r.session_id = 5;
    r.policy_id = 7;
    r.proto = 17;
    r.src = 0x0a000102;
    r.dst = 0xc6336402;
    r.sport = 4000;
    r.dport = 6000;
    r.in_interface = 0;
    r.out_interface = 1;
    r.trandisp = 1;
    r.trans_ip = 0xc6336401;
    r.trans_port = 1024;
    r.duration_s = 30;
    r.sent_bytes = 2000;
    r.rcvd_bytes = 3000;
    r.sent_packets = 10;
    r.rcvd_packets = 15;
    r.detail = static_cast<std::uint8_t>(dp::log_session_end::expired);
    const log_line l = log.line_of(r);
    CHECK(l.logid == "0000000013");
    CHECK(l.category == "traffic");
    CHECK(value(l, "type") == "traffic");
    CHECK(value(l, "subtype") == "forward");
    CHECK(value(l, "srcintf") == "port1");
    CHECK(value(l, "dstintf") == "wan1");
    CHECK(value(l, "action") == "accept"); // UDP ends by timing out
    CHECK(value(l, "service") == "udp/6000");
    CHECK(value(l, "trandisp") == "snat");
    CHECK(value(l, "transip") == "198.51.100.1");
    CHECK(value(l, "transport") == "1024");
    CHECK(value(l, "sentbyte") == "2000");
    CHECK(value(l, "rcvdpkt") == "15");
    CHECK(value(l, "duration") == "30");
    r.proto = 6;
    CHECK(value(log.line_of(r), "action") == "timeout");
    r.tcp_closed = 1;
    CHECK(value(log.line_of(r), "action") == "close");
    r.detail = static_cast<std::uint8_t>(dp::log_session_end::cleared);
    CHECK(value(log.line_of(r), "action") == "clear_session");
    CHECK(logger::render(log.line_of(r), "cef", "edge1").starts_with("CEF:0|sipalg|sipalgd|1|00013|traffic:forward clear_session|3|"));
}
