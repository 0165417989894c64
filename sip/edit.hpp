#pragma once
// The edit list (STYLE.md item 5): rewrites recorded against the original offsets of a message,
// checked for overlap when they are added, applied once into an output buffer. Applying also sets
// Content-Length from the body as it is after the edits (RFC 3261 §20.14) and reports the change in
// length, which TCP sequence adjustment needs. Bytes outside the edits are copied unchanged: a message
// is never re-serialised. Replacement text is copied into a fixed arena, so building and applying an
// edit list allocates nothing.
#include "sip/message.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace sipalg::sip {

#define SIPALG_SIP_EDIT_ERRORS(X)                                                                    \
    X(overlap, "the edit overlaps another one")                                                    \
    X(out_of_range, "the edit is outside the message")                                             \
    X(too_many, "more edits than the list holds")                                                  \
    X(arena_full, "the replacement text does not fit the arena")                                   \
    X(straddles_body, "an edit crosses the start of the body")                                     \
    X(edits_content_length, "an edit touches Content-Length, which applying sets")                 \
    X(output_too_small, "the output buffer is too small")

enum class edit_error : std::uint8_t {
    ok = 0,
#define SIPALG_X(id, text) id,
    SIPALG_SIP_EDIT_ERRORS(SIPALG_X)
#undef SIPALG_X
};

std::string_view edit_error_name(edit_error e) noexcept;

struct edit {
    std::uint32_t offset; // in the original message
    std::uint32_t length; // bytes replaced (0: an insertion)
    std::uint32_t text_start;
    std::uint32_t text_length;
};

class edit_list {
public:
    static constexpr unsigned max_edits = 64;
    static constexpr std::size_t arena_size = 4096;

    // Replace `length` bytes at `offset` of a message `message_size` long with `text`.
    edit_error replace(std::uint32_t offset, std::uint32_t length, std::string_view text,
                       std::size_t message_size) noexcept;
    // The same for a view into the message's bytes (a field found by fields.hpp or sdp.hpp).
    edit_error replace(const message& m, std::string_view original, std::string_view text) noexcept;
    edit_error insert(const message& m, std::uint32_t offset, std::string_view text) noexcept
    {
        return replace(offset, 0, text, m.bytes().size());
    }

    // A placeholder (ARCHITECTURE.md "The SIP engine"): `original` is to be replaced by text known only
    // when the data path commits the engine's decision (the public port a pinhole gets). Until fill(id,
    // text) it reads `fallback` (what the message says when the pinhole is refused). `id` names it.
    static constexpr unsigned max_placeholders = 32;
    edit_error placeholder(const message& m, std::string_view original, std::string_view fallback, std::uint8_t& id) noexcept;
    // Gives placeholder `id` its text (arena_full when it does not fit: the decision is then not
    // committed).
    edit_error fill(std::uint8_t id, std::string_view text) noexcept;
    unsigned placeholders() const noexcept
    {
        return holes_;
    }

    std::span<const edit> edits() const noexcept
    {
        return {edits_.data(), n_};
    }
    std::string_view text(const edit& e) const noexcept
    {
        return {arena_.data() + e.text_start, e.text_length};
    }
    bool empty() const noexcept
    {
        return n_ == 0;
    }
    void clear() noexcept
    {
        n_ = 0;
        used_ = 0;
        holes_ = 0;
    }

    struct applied {
        edit_error error = edit_error::ok;
        std::size_t length = 0;  // bytes written
        std::int64_t delta = 0;  // length - original length
    };
    // Writes the edited message (the one the edits were made against) into `out`.
    applied apply(const message& m, std::span<char> out) const noexcept;

private:
    std::array<edit, max_edits> edits_;
    std::array<char, arena_size> arena_;
    unsigned n_ = 0;
    std::size_t used_ = 0;
    // Placeholders by id: the offset of their edit (edits move as others are added; a placeholder
    // replaces at least one byte, so its offset names it among the replacements).
    std::array<std::uint32_t, max_placeholders> hole_offsets_;
    unsigned holes_ = 0;
};

} // namespace sipalg::sip
