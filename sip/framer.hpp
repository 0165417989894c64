#pragma once
// SIP over a byte stream (RFC 3261 §18.3): messages end at the empty line after the headers plus
// Content-Length bytes of body. The scanner reads bytes as they come (one segment, or one byte, at a
// time) and looks at each byte once, keeping no bytes of its own: it says where each frame ends, and
// recognises RFC 5626 §3.5.1 keep-alives (CRLFCRLF ping, CRLF pong) between messages. Where a message
// must start and the bytes are not a SIP start line, it refuses the stream with a reason (the NAT
// Slipstreaming defence: a REGISTER in the middle of an HTTP body is not a message). The framer adds
// a buffer that holds back what is not yet a whole message and hands out whole frames; the TCP stream
// (tcp_stream.hpp) keeps its bytes in pages of its own and uses the scanner alone.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace sipalg::sip {

class message; // sip/message.hpp

#define SIPALG_SIP_FRAME_ERRORS(X)                                                                   \
    X(not_sip, "the stream does not start a SIP message where one must start")                     \
    X(too_large, "a message larger than the framer accepts")                                       \
    X(bad_content_length, "Content-Length missing its number, or two that differ")

enum class frame_error : std::uint8_t {
    none = 0,
#define SIPALG_X(id, text) id,
    SIPALG_SIP_FRAME_ERRORS(SIPALG_X)
#undef SIPALG_X
};

std::string_view frame_error_name(frame_error e) noexcept;

enum class frame_kind : std::uint8_t { message, ping, pong };

// Finds frame boundaries in a stream fed in pieces. feed() reads bytes until a frame completes, an
// error is found, or the piece is used up; a frame's bytes are the `length` bytes of the stream that
// end where the scanner stopped (it never reads past a frame's end). After an error every call returns
// the error.
class frame_scanner {
public:
    // A start line longer than this is refused (too_large) before it ends.
    static constexpr std::uint32_t max_start_line = 8192;

    explicit frame_scanner(std::uint32_t max_message = 65535) noexcept : max_message_(max_message) {}

    struct result {
        std::size_t used = 0;       // bytes of the piece read
        bool complete = false;      // a frame ends after them
        frame_kind kind = frame_kind::message;
        std::uint32_t length = 0;   // the complete frame's length
        frame_error error = frame_error::none;
    };
    result feed(std::string_view piece) noexcept;

    // Bytes of the frame being received so far.
    std::uint32_t pending() const noexcept
    {
        return size_;
    }
    frame_error error() const noexcept
    {
        return error_;
    }
    // Between frames, nothing of the next one seen yet.
    bool at_boundary() const noexcept
    {
        return phase_ == phase::boundary && error_ == frame_error::none;
    }
    // The frame a scanner at a boundary would find in the bytes `m` parsed, worked out from that parse
    // instead of by reading them again: its length, when it is all of the bytes and the parse shows
    // everything the scanner would look at (each line is one header, none folded; the start line; each
    // Content-Length line, read by the scanner's own rule; the empty line). Otherwise, or when the
    // scanner would refuse them, nothing: the scanner decides. fuzz_sip holds the two equal.
    static std::optional<std::uint32_t> frame_of(const message& m, std::uint32_t max_message) noexcept;
    // The frame being received ends after this many bytes in all (0: not known yet).
    std::uint32_t expected_length() const noexcept
    {
        return phase_ == phase::body ? total_ : 0;
    }

private:
    enum class phase : std::uint8_t { boundary, cr, crlf, crlfcr, start_line, headers, body };
    enum class line : std::uint8_t { start, start_cr, name, value, skip };
    result fail(frame_error e, std::size_t used) noexcept;
    result done(frame_kind k, std::size_t used) noexcept;
    bool start_line_byte(char c) noexcept; // false: not SIP
    enum class header_step : std::uint8_t { more, end, bad };
    header_step header_byte(char c) noexcept; // end: the header section ended with this byte
    static bool whole_start_line(std::string_view text) noexcept;
    header_step whole_header_line(std::string_view text) noexcept;
    // After a header line ending at `used`: more headers (within the size limit), or the blank line that
    // ends them, after which the message is whole or its body follows. A result when the frame ends or
    // fails there.
    std::optional<result> after_header(header_step step, std::size_t used) noexcept;

    std::uint32_t max_message_;
    std::uint32_t size_ = 0;
    std::uint32_t total_ = 0;
    phase phase_ = phase::boundary;
    frame_error error_ = frame_error::none;
    // Start line: "SIP/" matched from its start (4: a response), the first token's state, "SIP/"
    // matched after the last space (0xff: no longer).
    std::uint8_t response_match_ = 0;
    std::uint8_t token_ = 0; // 0: in the method, 1: after its space
    std::uint8_t version_match_ = 0xff;
    // Header lines: what the current one is, how much of "content-length" (or "l") its name matched,
    // whether LWS followed the name, and its value's digits.
    line line_ = line::start;
    std::uint8_t name_match_ = 0;  // characters of "content-length" matched; 0xff: not it
    bool name_is_l_ = false;
    bool name_ws_ = false;
    bool value_trailing_ = false;
    std::uint8_t digits_ = 0;
    bool value_bad_ = false;
    std::uint64_t value_ = 0;
    bool length_found_ = false;
    std::uint32_t length_ = 0;
};

struct frame {
    frame_kind kind;
    std::string_view bytes; // valid during the callback only
};

// The scanner with a buffer: whole frames handed out in order (the offline checker's framing).
class stream_framer {
public:
    static constexpr std::size_t max_start_line = frame_scanner::max_start_line;

    explicit stream_framer(std::size_t max_message = 65535)
        : scanner_(static_cast<std::uint32_t>(std::min<std::size_t>(max_message, 0xffffffffu)))
    {
    }

    // Appends `data` and calls on_frame(const frame&) for each complete frame, in order. After an
    // error the stream is refused: this and every later call return the error and frame nothing.
    template <class F>
    frame_error feed(std::string_view data, F&& on_frame)
    {
        if (scanner_.error() != frame_error::none) {
            return scanner_.error();
        }
        while (!data.empty()) {
            const frame_scanner::result r = scanner_.feed(data);
            buffer_.insert(buffer_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(r.used));
            data.remove_prefix(r.used);
            if (r.error != frame_error::none) {
                return r.error;
            }
            if (r.complete) {
                // A frame ends at the last byte read, and the buffer holds nothing from before it.
                on_frame(frame{r.kind, std::string_view(buffer_.data(), r.length)});
                buffer_.clear();
            }
        }
        return frame_error::none;
    }

    // Bytes received but not yet part of a complete frame.
    std::size_t pending() const noexcept
    {
        return scanner_.pending();
    }
    frame_error error() const noexcept
    {
        return scanner_.error();
    }

private:
    frame_scanner scanner_;
    std::vector<char> buffer_;
};

} // namespace sipalg::sip
