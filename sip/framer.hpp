#pragma once
// SIP over a byte stream (RFC 3261 §18.3): messages end at the empty line after the headers plus
// Content-Length bytes of body. The framer takes bytes as they come (one segment, or one byte, at a
// time), holds back what is not yet a whole message, hands out every complete message in order, and
// recognises RFC 5626 §3.5.1 keep-alives (CRLFCRLF ping, CRLF pong) between messages. Where a message
// must start and the bytes are not a SIP start line, it refuses the stream with a reason (the NAT
// Slipstreaming defence: a REGISTER in the middle of an HTTP body is not a message).
#include <cstdint>
#include <string_view>
#include <vector>

namespace sipalg::sip {

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

struct frame {
    frame_kind kind;
    std::string_view bytes; // valid during the callback only
};

class stream_framer {
public:
    // A start line longer than this is refused (too_large) before it ends.
    static constexpr std::size_t max_start_line = 8192;

    explicit stream_framer(std::size_t max_message = 65535) : max_message_(max_message) {}

    // Appends `data` and calls on_frame(const frame&) for each complete frame, in order. After an
    // error the stream is refused: this and every later call return the error and frame nothing.
    template <class F>
    frame_error feed(std::string_view data, F&& on_frame)
    {
        if (error_ != frame_error::none) {
            return error_;
        }
        buffer_.insert(buffer_.end(), data.begin(), data.end());
        for (;;) {
            const next n = cut();
            if (n.error != frame_error::none) {
                error_ = n.error;
                return error_;
            }
            if (n.length == 0) {
                break;
            }
            on_frame(frame{n.kind, std::string_view(buffer_.data() + start_, n.length)});
            start_ += n.length;
            start_line_checked_ = false;
            header_scan_ = 0;
            total_ = 0;
        }
        // Drop what was handed out once it is most of the buffer.
        if (start_ > 0 && start_ * 2 >= buffer_.size()) {
            buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start_));
            start_ = 0;
        }
        return frame_error::none;
    }

    // Bytes received but not yet part of a complete frame.
    std::size_t pending() const noexcept
    {
        return buffer_.size() - start_;
    }
    frame_error error() const noexcept
    {
        return error_;
    }

private:
    struct next {
        frame_error error = frame_error::none;
        frame_kind kind = frame_kind::message;
        std::size_t length = 0; // 0: nothing complete yet
    };
    next cut() noexcept;

    std::vector<char> buffer_;
    std::size_t start_ = 0;
    // Progress on the message being received, so bytes arriving one at a time cost linear work:
    // the start line is checked once, the search for the header end resumes where it stopped.
    bool start_line_checked_ = false;
    std::size_t header_scan_ = 0; // offset (from start_) the header-end search resumes at
    std::size_t total_ = 0;       // the whole message's length once its headers are complete
    std::size_t max_message_;
    frame_error error_ = frame_error::none;
};

} // namespace sipalg::sip
