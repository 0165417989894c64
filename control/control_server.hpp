#pragma once
// The Unix control socket, served by the control core (ARCHITECTURE.md "Processes and cores"), never by a
// worker. One request per connection, framed (control/request.hpp): the command line, and for apply,
// validate and cli a body up to a line with a single ".". It is answered as soon as its frame is
// complete; a connection that ends before that gets nothing done, and is counted. The reply is one
// JSON object with "ok" true or false, then the server closes. Every client is non-blocking and bounded
// (request size, time to send it, clients at once), so a slow, silent or vanishing client costs the
// others nothing.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sipalg::control {

struct server_limits {
    std::size_t max_request = 16u << 20;          // bytes; beyond it the request is refused
    // Connections at once. When they are all taken, a newcomer makes room by dropping the oldest
    // connection of the user that holds the most (unless that is its own user, and it is not root):
    // no one client locks the operators out, and root always gets in.
    std::size_t max_clients = 256;
    std::size_t max_per_user = 32;                // connections at once of one user other than root
    std::chrono::milliseconds request_timeout{10000}; // to send a whole request
    std::chrono::milliseconds reply_timeout{10000};   // to take the whole reply
};

// What the server itself counts (the `stats` reply's "control" member).
struct server_counters {
    std::uint64_t requests = 0;   // complete requests handed to the handler
    std::uint64_t incomplete = 0; // the connection ended before the request's end: nothing done
    std::uint64_t bad_frames = 0; // oversized, an over-long command line, bytes after the end
    std::uint64_t timed_out = 0;  // not sent within the request timeout
    std::uint64_t refused_clients = 0; // turned away at connect (too many at once, or of its user)
    std::uint64_t dropped_clients = 0; // dropped to make room for a newcomer
};

class control_server {
public:
    // Handles one request (command line and body) and returns the reply (a JSON object).
    using handler = std::function<std::string(std::string_view command, std::string_view body)>;

    // Creates the socket at `path` (its directory too; a stale socket file is replaced, a live one is an
    // error) with mode 0660, owned by `group` when that is not empty (so that an operators' group can use
    // it). Returns null and sets `error` when it cannot.
    static std::unique_ptr<control_server> create(const std::string& path, const std::string& group, handler h,
                                                  server_limits limits, server_counters& counters,
                                                  std::string& error);
    ~control_server();
    control_server(const control_server&) = delete;
    control_server& operator=(const control_server&) = delete;

    // Accepts, reads, answers and closes, waiting at most `timeout` for something to happen.
    void poll(std::chrono::milliseconds timeout);

private:
    struct client {
        int fd = -1;
        std::string in;
        std::size_t resume = 0; // where the search for the request's end line goes on
        std::string out;
        std::size_t sent = 0;
        bool replying = false;
        unsigned uid = 0; // the peer's user (SO_PEERCRED)
        std::chrono::steady_clock::time_point deadline;
        std::chrono::steady_clock::time_point since; // connected
    };

    control_server(int fd, std::string path, handler h, server_limits limits, server_counters& counters);
    void accept_all();
    // Whether a newcomer of user `uid` may stay; drops the connection that makes room for it when that
    // is what it takes.
    bool admit(unsigned uid);
    // The connections of user `uid` still sending their request.
    std::size_t held_by(unsigned uid) const;
    // Returns false when the client is done (closed).
    bool read_from(client& c);
    bool write_to(client& c);
    // Answers the request when its frame is complete (or refuses a bad one); false while it is not.
    bool answer_if_complete(client& c);
    void refuse(client& c, std::string_view why);

    int listen_fd_ = -1;
    std::string path_;
    handler handler_;
    server_limits limits_;
    server_counters& counters_;
    std::vector<client> clients_;
};

// A JSON reply: {"ok":false,"error":"..."}.
std::string error_reply(std::string_view message);

} // namespace sipalg::control
