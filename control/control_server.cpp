// See control_server.hpp.
#include "control/control_server.hpp"

#include "control/json.hpp"
#include "control/request.hpp"

#include <fmt/format.h>

#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace sipalg::control {

namespace {

// Whether a server answers at `path` (then it is not ours to replace).
bool someone_listens(const std::string& path)
{
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return false;
    }
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    const bool live = connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
    close(fd);
    return live;
}

} // namespace

std::string error_reply(std::string_view message)
{
    return json_line({{"ok", false}, {"error", message}});
}

std::unique_ptr<control_server> control_server::create(const std::string& path, const std::string& group, handler h,
                                                       server_limits limits, server_counters& counters,
                                                       std::string& error)
{
    gid_t gid = static_cast<gid_t>(-1);
    if (!group.empty()) {
        const struct group* g = getgrnam(group.c_str());
        if (g == nullptr) {
            error = fmt::format("control group '{}' does not exist", group);
            return nullptr;
        }
        gid = g->gr_gid;
    }
    sockaddr_un a{};
    if (path.empty() || path.size() >= sizeof a.sun_path) {
        error = fmt::format("control socket path '{}' is empty or longer than {} bytes", path, sizeof a.sun_path - 1);
        return nullptr;
    }
    std::error_code ec;
    const auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty()) {
        std::filesystem::create_directories(dir, ec);
    }
    if (std::filesystem::exists(path, ec)) {
        if (someone_listens(path)) {
            error = fmt::format("control socket {} is in use by another process", path);
            return nullptr;
        }
        std::filesystem::remove(path, ec); // left behind by a process that is gone
    }
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        error = fmt::format("cannot create the control socket: {}", std::strerror(errno));
        return nullptr;
    }
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    // Created with 0660 from the start (no window with wider permissions), then listened on. The backlog
    // is the system's largest: a burst of clients waits in it rather than being turned away at connect
    // (the server itself caps how many it serves at once, with a clear refusal).
    const mode_t old = umask(0117);
    const int rc = bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a);
    umask(old);
    if (rc != 0 || chown(path.c_str(), static_cast<uid_t>(-1), gid) != 0 || chmod(path.c_str(), 0660) != 0 ||
        listen(fd, SOMAXCONN) != 0) {
        error = fmt::format("cannot listen on control socket {}: {}", path, std::strerror(errno));
        close(fd);
        return nullptr;
    }
    return std::unique_ptr<control_server>(new control_server(fd, path, std::move(h), limits, counters));
}

control_server::control_server(int fd, std::string path, handler h, server_limits limits, server_counters& counters)
    : listen_fd_(fd), path_(std::move(path)), handler_(std::move(h)), limits_(limits), counters_(counters)
{
}

control_server::~control_server()
{
    for (auto& c : clients_) {
        close(c.fd);
    }
    close(listen_fd_);
    std::error_code ec;
    std::filesystem::remove(path_, ec);
}

void control_server::poll(std::chrono::milliseconds timeout)
{
    std::vector<pollfd> fds;
    fds.reserve(clients_.size() + 1);
    fds.push_back({listen_fd_, POLLIN, 0});
    for (const auto& c : clients_) {
        fds.push_back({c.fd, static_cast<short>(c.replying ? POLLOUT : POLLIN), 0});
    }
    const int n = ::poll(fds.data(), fds.size(), static_cast<int>(timeout.count()));
    if (n < 0) {
        return; // EINTR (a signal): the caller's loop comes back
    }
    const auto now = std::chrono::steady_clock::now();
    std::vector<client> keep;
    keep.reserve(clients_.size());
    for (std::size_t i = 0; i < clients_.size(); ++i) {
        client& c = clients_[i];
        const short ev = fds[i + 1].revents;
        bool alive = true;
        if ((ev & (POLLERR | POLLNVAL)) != 0) {
            alive = false;
        } else if (c.replying && (ev & (POLLOUT | POLLHUP)) != 0) {
            alive = write_to(c);
        } else if (!c.replying && (ev & (POLLIN | POLLHUP)) != 0) {
            alive = read_from(c);
        }
        if (alive && now > c.deadline) {
            if (c.replying) {
                alive = false; // it does not take its reply: drop it
            } else {
                ++counters_.timed_out;
                refuse(c, "request not completed in time (its end is the command line's line feed, or for "
                          "apply, validate and cli a line with a single '.'); nothing was done");
                alive = write_to(c);
            }
        }
        if (alive) {
            keep.push_back(std::move(c));
        } else {
            close(c.fd);
        }
    }
    clients_ = std::move(keep);
    if ((fds[0].revents & POLLIN) != 0) {
        accept_all();
    }
}

void control_server::accept_all()
{
    for (;;) {
        const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            return; // EAGAIN, or a client that went away before we took it
        }
        client c;
        c.fd = fd;
        c.since = std::chrono::steady_clock::now();
        c.deadline = c.since + limits_.request_timeout;
        ucred cred{};
        socklen_t len = sizeof cred;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
            c.uid = cred.uid;
        } else {
            c.uid = static_cast<unsigned>(-1); // unknown: not root
        }
        if (!admit(c.uid)) {
            ++counters_.refused_clients;
            refuse(c, c.uid != 0 && held_by(c.uid) >= limits_.max_per_user
                          ? fmt::format("too many connections of user {} at once (at most {}); try again", c.uid,
                                        limits_.max_per_user)
                          : std::string("too many clients at once; try again"));
            if (!write_to(c)) {
                close(fd);
                continue;
            }
        }
        clients_.push_back(std::move(c));
    }
}

std::size_t control_server::held_by(unsigned uid) const
{
    return static_cast<std::size_t>(
        std::count_if(clients_.begin(), clients_.end(), [uid](const client& c) { return c.uid == uid && !c.replying; }));
}

bool control_server::admit(unsigned uid)
{
    if (uid != 0 && held_by(uid) >= limits_.max_per_user) {
        return false;
    }
    std::size_t open = 0;
    for (const auto& c : clients_) {
        open += c.replying ? 0u : 1u;
    }
    if (open < limits_.max_clients) {
        return true;
    }
    // Full: the user holding the most gives up its oldest connection that is still sending.
    std::vector<std::pair<unsigned, std::size_t>> held;
    for (const auto& c : clients_) {
        if (c.replying) {
            continue;
        }
        auto it = std::find_if(held.begin(), held.end(), [&](const auto& h) { return h.first == c.uid; });
        if (it == held.end()) {
            held.emplace_back(c.uid, 1);
        } else {
            ++it->second;
        }
    }
    const auto most = std::max_element(held.begin(), held.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    if (most == held.end() || (most->first == uid && uid != 0)) {
        return false;
    }
    client* oldest = nullptr;
    for (auto& c : clients_) {
        if (!c.replying && c.uid == most->first && (oldest == nullptr || c.since < oldest->since)) {
            oldest = &c;
        }
    }
    ++counters_.dropped_clients;
    refuse(*oldest, "dropped to make room for another client (too many connections at once)");
    return true;
}

bool control_server::read_from(client& c)
{
    char buf[65536];
    for (;;) {
        const ssize_t n = recv(c.fd, buf, sizeof buf, 0);
        if (n > 0) {
            if (c.in.size() + static_cast<std::size_t>(n) > limits_.max_request) {
                ++counters_.bad_frames;
                refuse(c, fmt::format("request larger than {} bytes", limits_.max_request));
                return write_to(c);
            }
            c.in.append(buf, static_cast<std::size_t>(n));
            if (answer_if_complete(c)) {
                return write_to(c);
            }
            continue;
        }
        if (n == 0) {
            // The client finished writing before its request's end: a truncated request, never applied.
            if (c.in.empty()) {
                return false; // connected and left (someone_listens, for one): nothing to say
            }
            ++counters_.incomplete;
            refuse(c, incomplete_request_error(c.in));
            return write_to(c);
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return true;
        }
        if (errno == EINTR) {
            continue;
        }
        return false; // reset by the client
    }
}

bool control_server::write_to(client& c)
{
    while (c.sent < c.out.size()) {
        const ssize_t n = send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
        if (n > 0) {
            c.sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return true; // the rest when it can take it
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        return false; // gone
    }
    return false; // all sent: close
}

bool control_server::answer_if_complete(client& c)
{
    std::string command;
    std::string body;
    std::string error;
    switch (scan_request(c.in, c.resume, command, body, error)) {
    case frame_state::incomplete:
        return false;
    case frame_state::bad:
        ++counters_.bad_frames;
        refuse(c, error);
        return true;
    case frame_state::complete:
        break;
    }
    c.in.clear();
    c.in.shrink_to_fit();
    if (command.find('\0') != std::string::npos) {
        refuse(c, "the request is not text");
        return true;
    }
    ++counters_.requests;
    try {
        c.out = handler_(command, body);
    } catch (const std::exception& e) {
        c.out = error_reply(fmt::format("internal error: {}", e.what()));
    }
    c.replying = true;
    c.deadline = std::chrono::steady_clock::now() + limits_.reply_timeout;
    shutdown(c.fd, SHUT_RD); // one request per connection: what else it sends is not read
    return true;
}

void control_server::refuse(client& c, std::string_view why)
{
    c.out = error_reply(why);
    c.sent = 0;
    c.replying = true;
    c.deadline = std::chrono::steady_clock::now() + limits_.reply_timeout;
    shutdown(c.fd, SHUT_RD);
}

} // namespace sipalg::control
