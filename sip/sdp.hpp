#pragma once
// Session descriptions (RFC 4566) as views over the body: every line with its type, the origin,
// session and media-level connection data, media descriptions with port and port count, RTCP ports
// (RFC 3605 a=rtcp), direction attributes and ICE candidates (RFC 8839, counted and exposed). Nothing is
// copied; the views point into the message buffer, so engines turn them into edits directly. Also the
// multipart/mixed walk (RFC 2046 §5.1) that finds the SDP part of a body.
#include "sip/message.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace sipalg::sip {

struct sdp_line {
    char type;              // the letter before '=', or 0 when the line is not "<letter>=..."
    std::string_view value; // after "x="
    std::string_view text;  // the line without its terminator
};

// c=<nettype> <addrtype> <connection-address> (RFC 4566 §5.7); address without /ttl/count.
struct sdp_connection {
    std::string_view nettype;
    std::string_view addrtype;
    std::string_view address;
    std::string_view suffix; // "/ttl[/count]" as written, may be empty
};
std::optional<sdp_connection> parse_connection(std::string_view value) noexcept;

// o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> (§5.2).
struct sdp_origin {
    std::string_view username;
    std::string_view sess_id;
    std::string_view sess_version;
    std::string_view nettype;
    std::string_view addrtype;
    std::string_view address;
};
std::optional<sdp_origin> parse_origin(std::string_view value) noexcept;

enum class sdp_direction : std::uint8_t { sendrecv, sendonly, recvonly, inactive };

struct sdp_media {
    std::string_view media;      // audio, video, image, application, ...
    std::string_view port_text;  // the port digits, for rewriting
    std::uint16_t port = 0;
    std::uint16_t port_count = 1; // m=audio 49170/2 (§5.14)
    std::string_view proto;
    std::string_view formats;
    bool well_formed = false;
    std::uint16_t first_line = 0; // index of the m= line
    std::uint16_t end_line = 0;   // one past the last line of the section
    std::int16_t connection = -1; // index of the media-level c= line, or -1
    std::int16_t rtcp = -1;       // index of a=rtcp, or -1
    sdp_direction direction = sdp_direction::sendrecv;
    std::uint16_t candidates = 0; // a=candidate lines
};

// a=rtcp:<port> [<nettype> <addrtype> <connection-address>] (RFC 3605 §2.1).
struct sdp_rtcp {
    std::string_view port_text;
    std::uint16_t port = 0;
    std::optional<sdp_connection> address;
};
std::optional<sdp_rtcp> parse_rtcp(std::string_view attribute_value) noexcept;

class sdp {
public:
    static constexpr unsigned max_lines = 256;
    static constexpr unsigned max_media = 16;

    // Splits the body into lines and finds the sections. Never fails: what does not fit the grammar
    // is for the checks to report; a body with more lines or media than the index holds is cut short
    // and says so.
    void parse(std::string_view body) noexcept;

    std::string_view body() const noexcept
    {
        return body_;
    }
    std::span<const sdp_line> lines() const noexcept
    {
        return {lines_.data(), n_lines_};
    }
    std::span<const sdp_media> media() const noexcept
    {
        return {media_.data(), n_media_};
    }
    // Index of the session-level o= and c= lines, or -1.
    int origin() const noexcept
    {
        return origin_;
    }
    int session_connection() const noexcept
    {
        return session_connection_;
    }
    sdp_direction session_direction() const noexcept
    {
        return session_direction_;
    }
    // Lines before the first m= (the session level).
    std::uint16_t session_end() const noexcept
    {
        return n_media_ == 0 ? n_lines_ : media_[0].first_line;
    }
    bool truncated() const noexcept
    {
        return truncated_;
    }

private:
    std::string_view body_;
    std::array<sdp_line, max_lines> lines_;
    std::array<sdp_media, max_media> media_;
    std::uint16_t n_lines_ = 0;
    std::uint16_t n_media_ = 0;
    int origin_ = -1;
    int session_connection_ = -1;
    sdp_direction session_direction_ = sdp_direction::sendrecv;
    bool truncated_ = false;
};

// The SDP of a message: the body when Content-Type is application/sdp, the first application/sdp part
// of a multipart body, or nothing.
std::optional<std::string_view> find_sdp(const message& m) noexcept;

} // namespace sipalg::sip
