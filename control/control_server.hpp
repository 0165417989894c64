#pragma once
// The Unix control socket, served by the control core (ARCHITECTURE.md "Processes and cores"), never by a
// worker. One request per connection, as `socat` sends it: the text up to the client's end of writing
// (shutdown, or EOF of socat's standard input). The first line is the command, the rest its body; the
// reply is one JSON object with "ok" true or false, then the server closes. Every client is non-blocking
// and bounded (request size, time to send it, clients at once), so a slow, silent or vanishing client
// costs the others nothing.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sipalg::control {

struct server_limits {
    std::size_t max_request = 16u << 20;          // bytes; beyond it the request is refused
    std::size_t max_clients = 256;                // connections at once; beyond it a new one is refused
    std::chrono::milliseconds request_timeout{10000}; // to send a whole request
    std::chrono::milliseconds reply_timeout{10000};   // to take the whole reply
};

class control_server {
public:
    // Handles one request (command line and body) and returns the reply (a JSON object).
    using handler = std::function<std::string(std::string_view command, std::string_view body)>;

    // Creates the socket at `path` (its directory too; a stale socket file is replaced, a live one is an
    // error) with mode 0660. Returns null and sets `error` when it cannot.
    static std::unique_ptr<control_server> create(const std::string& path, handler h, server_limits limits,
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
        std::string out;
        std::size_t sent = 0;
        bool replying = false;
        std::chrono::steady_clock::time_point deadline;
    };

    control_server(int fd, std::string path, handler h, server_limits limits);
    void accept_all();
    // Returns false when the client is done (closed).
    bool read_from(client& c);
    bool write_to(client& c);
    void answer(client& c);
    void refuse(client& c, std::string_view why);

    int listen_fd_ = -1;
    std::string path_;
    handler handler_;
    server_limits limits_;
    std::vector<client> clients_;
};

// A JSON reply: {"ok":false,"error":"..."}.
std::string error_reply(std::string_view message);

} // namespace sipalg::control
