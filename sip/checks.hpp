#pragma once
// The syntax checks of the FortiOS SIP ALG (research §1.3.3): each finding names the profile option that
// decides what happens to the message (pass, discard, respond), where it is (offset, so line and
// column), and why. The checks only report; the engines map findings to actions.
#include "sip/message.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <new>
#include <span>
#include <type_traits>
#include <string_view>

namespace sipalg::sip {

// X(id, FortiOS option name)
#define SIPALG_SIP_CHECKS(X)                                                                         \
    X(malformed_request_line, "malformed-request-line")                                            \
    X(malformed_header_via, "malformed-header-via")                                                \
    X(malformed_header_from, "malformed-header-from")                                              \
    X(malformed_header_to, "malformed-header-to")                                                  \
    X(malformed_header_call_id, "malformed-header-call-id")                                        \
    X(malformed_header_cseq, "malformed-header-cseq")                                              \
    X(malformed_header_rack, "malformed-header-rack")                                              \
    X(malformed_header_rseq, "malformed-header-rseq")                                              \
    X(malformed_header_contact, "malformed-header-contact")                                        \
    X(malformed_header_record_route, "malformed-header-record-route")                              \
    X(malformed_header_route, "malformed-header-route")                                            \
    X(malformed_header_expires, "malformed-header-expires")                                        \
    X(malformed_header_content_type, "malformed-header-content-type")                              \
    X(malformed_header_content_length, "malformed-header-content-length")                          \
    X(malformed_header_max_forwards, "malformed-header-max-forwards")                              \
    X(malformed_header_allow, "malformed-header-allow")                                            \
    X(malformed_header_p_asserted_identity, "malformed-header-p-asserted-identity")                \
    X(malformed_header_no_require, "malformed-header-no-require")                                  \
    X(malformed_header_no_proxy_require, "malformed-header-no-proxy-require")                      \
    X(malformed_header_sdp_v, "malformed-header-sdp-v")                                            \
    X(malformed_header_sdp_o, "malformed-header-sdp-o")                                            \
    X(malformed_header_sdp_s, "malformed-header-sdp-s")                                            \
    X(malformed_header_sdp_i, "malformed-header-sdp-i")                                            \
    X(malformed_header_sdp_c, "malformed-header-sdp-c")                                            \
    X(malformed_header_sdp_b, "malformed-header-sdp-b")                                            \
    X(malformed_header_sdp_z, "malformed-header-sdp-z")                                            \
    X(malformed_header_sdp_k, "malformed-header-sdp-k")                                            \
    X(malformed_header_sdp_a, "malformed-header-sdp-a")                                            \
    X(malformed_header_sdp_t, "malformed-header-sdp-t")                                            \
    X(malformed_header_sdp_r, "malformed-header-sdp-r")                                            \
    X(malformed_header_sdp_m, "malformed-header-sdp-m")                                            \
    X(max_line_length, "max-line-length")                                                          \
    X(max_body_length, "max-body-length")                                                          \
    X(unknown_method, "block-unknown")                                                             \
    X(unknown_header, "unknown-header")

enum class check : std::uint8_t {
#define SIPALG_X(id, option) id,
    SIPALG_SIP_CHECKS(SIPALG_X)
#undef SIPALG_X
        count_
};

inline constexpr std::size_t check_count = static_cast<std::size_t>(check::count_);

// The FortiOS option name of a check ("malformed-header-via").
std::string_view check_name(check c) noexcept;

struct finding {
    check id;
    std::uint32_t offset;   // where in the message (line and column: message::position_of)
    std::string_view field; // the header name or SDP line as written, or the start line
    std::string_view detail;
};

// What the profile asks for (config voip profile / config sip).
struct check_options {
    std::uint32_t max_line_length = 998; // 0: no limit (FortiOS default 998, range 78-4096)
    std::uint32_t max_body_length = 0;   // 0: no limit
    bool require_require = false;        // report requests without Require
    bool require_proxy_require = false;  // report requests without Proxy-Require
    // The checks to run (a bit per check): the ALG runs those whose action is not pass, and the work of
    // the others (a header's value parsed, the SDP's lines) is not done.
    std::uint64_t only = ~std::uint64_t{0};
    bool wants(check c) const noexcept
    {
        return (only >> static_cast<unsigned>(c) & 1u) != 0;
    }
};

class findings {
public:
    static constexpr unsigned capacity = 64;

    void add(check id, std::uint32_t offset, std::string_view field, std::string_view detail) noexcept
    {
        seen_ |= std::uint64_t{1} << static_cast<unsigned>(id);
        if (n_ < capacity) {
            new (storage_ + n_ * sizeof(finding)) finding{id, offset, field, detail};
            ++n_;
        }
        ++total_;
    }
    std::span<const finding> list() const noexcept
    {
        return {std::launder(reinterpret_cast<const finding*>(storage_)), n_};
    }
    // Findings beyond the first `capacity` are counted, not kept.
    unsigned total() const noexcept
    {
        return total_;
    }
    bool has(check id) const noexcept
    {
        return (seen_ >> static_cast<unsigned>(id) & 1u) != 0;
    }
    bool empty() const noexcept
    {
        return total_ == 0;
    }
    // Drops the findings of checks not in `mask` (a bit per check).
    void keep_only(std::uint64_t mask) noexcept
    {
        if ((seen_ & ~mask) == 0) {
            return;
        }
        finding* list = std::launder(reinterpret_cast<finding*>(storage_));
        unsigned kept = 0;
        for (unsigned i = 0; i < n_; ++i) {
            if ((mask >> static_cast<unsigned>(list[i].id) & 1u) != 0) {
                list[kept++] = list[i];
            }
        }
        total_ -= n_ - kept;
        n_ = kept;
        seen_ &= mask;
    }

private:
    // Raw storage, not std::array<finding>: the views in a finding zero themselves when constructed,
    // and a clean message (the usual case) must not pay for clearing sixty-four of them.
    static_assert(std::is_trivially_copyable_v<finding> && std::is_trivially_destructible_v<finding>);
    alignas(finding) std::byte storage_[capacity * sizeof(finding)];
    unsigned n_ = 0;
    unsigned total_ = 0;
    std::uint64_t seen_ = 0;
};
static_assert(check_count <= 64);

// Every check over a parsed message and its SDP (when the body is or holds one).
findings check_message(const message& m, const check_options& options) noexcept;

} // namespace sipalg::sip
