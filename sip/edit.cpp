// See edit.hpp.
#include "sip/edit.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace sipalg::sip {

std::string_view edit_error_name(edit_error e) noexcept
{
    switch (e) {
    case edit_error::ok:
        return "ok";
#define SIPALG_X(id, text)                                                                           \
    case edit_error::id:                                                                             \
        return #id;
        SIPALG_SIP_EDIT_ERRORS(SIPALG_X)
#undef SIPALG_X
    }
    return "unknown";
}

edit_error edit_list::replace(std::uint32_t offset, std::uint32_t length, std::string_view text,
                              std::size_t message_size) noexcept
{
    if (std::uint64_t{offset} + length > message_size) {
        return edit_error::out_of_range;
    }
    if (n_ == max_edits) {
        return edit_error::too_many;
    }
    if (text.size() > arena_size - used_) {
        return edit_error::arena_full;
    }
    // Keep the list sorted by offset, an insertion before a replacement that starts where it is; two
    // edits may touch at a boundary but not share a byte, and two insertions at one offset would have
    // no defined order.
    const auto pos = std::upper_bound(edits_.begin(), edits_.begin() + n_, std::pair{offset, length},
                                      [](const std::pair<std::uint32_t, std::uint32_t>& k, const edit& e) {
                                          return k < std::pair{e.offset, e.length};
                                      });
    const auto overlaps = [&](const edit& e) {
        const std::uint64_t a0 = offset;
        const std::uint64_t a1 = std::uint64_t{offset} + length;
        const std::uint64_t b0 = e.offset;
        const std::uint64_t b1 = std::uint64_t{e.offset} + e.length;
        if (length == 0 && e.length == 0) {
            return a0 == b0;
        }
        if (length == 0) {
            return a0 > b0 && a0 < b1;
        }
        if (e.length == 0) {
            return b0 > a0 && b0 < a1;
        }
        return a0 < b1 && b0 < a1;
    };
    if ((pos != edits_.begin() + n_ && overlaps(*pos)) || (pos != edits_.begin() && overlaps(*(pos - 1)))) {
        return edit_error::overlap;
    }
    std::copy_backward(pos, edits_.begin() + n_, edits_.begin() + n_ + 1);
    *pos = edit{offset, length, static_cast<std::uint32_t>(used_), static_cast<std::uint32_t>(text.size())};
    std::memcpy(arena_.data() + used_, text.data(), text.size());
    used_ += text.size();
    ++n_;
    return edit_error::ok;
}

edit_error edit_list::replace(const message& m, std::string_view original, std::string_view text) noexcept
{
    const char* base = m.bytes().data();
    if (original.data() < base || original.data() + original.size() > base + m.bytes().size()) {
        return edit_error::out_of_range;
    }
    return replace(static_cast<std::uint32_t>(original.data() - base), static_cast<std::uint32_t>(original.size()),
                   text, m.bytes().size());
}

edit_error edit_list::placeholder(const message& m, std::string_view original, std::string_view fallback,
                                  std::uint8_t& id) noexcept
{
    if (holes_ == max_placeholders) {
        return edit_error::too_many;
    }
    if (original.empty()) {
        return edit_error::out_of_range;
    }
    if (const edit_error e = replace(m, original, fallback); e != edit_error::ok) {
        return e;
    }
    id = static_cast<std::uint8_t>(holes_);
    hole_offsets_[holes_++] = static_cast<std::uint32_t>(original.data() - m.bytes().data());
    return edit_error::ok;
}

edit_error edit_list::fill(std::uint8_t id, std::string_view text) noexcept
{
    if (id >= holes_) {
        return edit_error::out_of_range;
    }
    if (text.size() > arena_size - used_) {
        return edit_error::arena_full;
    }
    const std::uint32_t offset = hole_offsets_[id];
    edit* e = std::lower_bound(edits_.begin(), edits_.begin() + n_, offset,
                               [](const edit& x, std::uint32_t o) { return x.offset < o || (x.offset == o && x.length == 0); });
    if (e == edits_.begin() + n_ || e->offset != offset) {
        return edit_error::out_of_range;
    }
    std::memcpy(arena_.data() + used_, text.data(), text.size());
    e->text_start = static_cast<std::uint32_t>(used_);
    e->text_length = static_cast<std::uint32_t>(text.size());
    used_ += text.size();
    return edit_error::ok;
}

edit_list::applied edit_list::apply(const message& m, std::span<char> out) const noexcept
{
    const std::string_view src = m.bytes();
    const std::uint64_t body_start = m.body_offset();
    const std::uint64_t body_end = body_start + m.body().size();

    // The body's length after the edits that fall inside it.
    std::int64_t body_delta = 0;
    for (unsigned i = 0; i < n_; ++i) {
        const edit& e = edits_[i];
        const std::uint64_t end = std::uint64_t{e.offset} + e.length;
        if ((e.offset < body_start && end > body_start) || (e.offset < body_end && end > body_end)) {
            return {edit_error::straddles_body};
        }
        if (e.offset >= body_start && e.offset <= body_end) {
            body_delta += static_cast<std::int64_t>(e.text_length) - e.length;
        }
    }

    // Content-Length becomes one more edit, merged in order while copying.
    const header* cl = m.find(header_type::content_length);
    std::array<char, 20> cl_text{};
    std::size_t cl_len = 0;
    std::uint32_t cl_offset = 0;
    std::uint32_t cl_old = 0;
    if (cl != nullptr && m.has_content_length() && body_delta != 0) {
        cl_offset = cl->value_start;
        cl_old = cl->value_len;
        for (unsigned i = 0; i < n_; ++i) {
            const edit& e = edits_[i];
            if (e.offset < cl_offset + cl_old && cl_offset < e.offset + std::max<std::uint32_t>(e.length, 1)) {
                return {edit_error::edits_content_length};
            }
        }
        const auto new_length = static_cast<std::uint64_t>(static_cast<std::int64_t>(m.body().size()) + body_delta);
        const auto [p, ec] = std::to_chars(cl_text.data(), cl_text.data() + cl_text.size(), new_length);
        cl_len = static_cast<std::size_t>(p - cl_text.data());
        (void)ec;
    }

    applied r;
    std::size_t w = 0;
    std::size_t from = 0;
    const auto copy = [&](const char* p, std::size_t n) {
        if (n > out.size() - w) {
            return false;
        }
        std::memcpy(out.data() + w, p, n);
        w += n;
        return true;
    };
    // The original bytes up to `offset`, then `text` in place of `length` bytes.
    const auto emit = [&](std::uint32_t offset, std::uint32_t length, const char* text, std::size_t text_len) {
        if (!copy(src.data() + from, offset - from) || !copy(text, text_len)) {
            return false;
        }
        from = offset + length;
        return true;
    };
    bool cl_done = cl_len == 0;
    for (unsigned i = 0; i < n_; ++i) {
        const edit& e = edits_[i];
        if (!cl_done && cl_offset < e.offset) {
            if (!emit(cl_offset, cl_old, cl_text.data(), cl_len)) {
                return {edit_error::output_too_small};
            }
            cl_done = true;
        }
        if (!emit(e.offset, e.length, arena_.data() + e.text_start, e.text_length)) {
            return {edit_error::output_too_small};
        }
    }
    if (!cl_done && !emit(cl_offset, cl_old, cl_text.data(), cl_len)) {
        return {edit_error::output_too_small};
    }
    if (!copy(src.data() + from, src.size() - from)) {
        return {edit_error::output_too_small};
    }
    r.length = w;
    r.delta = static_cast<std::int64_t>(w) - static_cast<std::int64_t>(src.size());
    return r;
}

} // namespace sipalg::sip
