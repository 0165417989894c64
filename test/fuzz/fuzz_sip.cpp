// libFuzzer target for sip/: any bytes through parse, the checks, NAT-style edits and the stream
// framer. Nothing may read outside the input (the copy below is exactly its size, so AddressSanitizer
// sees every stray byte), crash, or leave an edited message inconsistent with its Content-Length.
#include "sip/checks.hpp"
#include "sip/edit.hpp"
#include "sip/fields.hpp"
#include "sip/framer.hpp"
#include "sip/message.hpp"
#include "sip/nat.hpp"
#include "sip/sdp.hpp"

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace sipalg::sip;

namespace {

void edit_and_recheck(const message& m)
{
    edit_list e;
    if (const header* via = m.find(header_type::via)) {
        for_each_element(m.value(*via), [&](std::string_view el) {
            if (const auto v = parse_via(el)) {
                (void)e.replace(m, v->sent_by.text, "203.0.113.5:40000");
            }
        });
    }
    if (const auto a = parse_address(m.value_of(header_type::contact)); a && a->target.host.text.data() != nullptr) {
        (void)e.replace(m, a->target.host.text, "203.0.113.5:40001");
    }
    if (const auto body = find_sdp(m)) {
        auto s = std::make_unique<sdp>();
        s->parse(*body);
        for (const auto& md : s->media()) {
            if (md.port_text.data() != nullptr) {
                (void)e.replace(m, md.port_text, "40002");
            }
        }
        if (s->session_connection() >= 0) {
            if (const auto c = parse_connection(s->lines()[static_cast<std::size_t>(s->session_connection())].value)) {
                (void)e.replace(m, c->address, "203.0.113.5");
            }
        }
    }
    std::vector<char> out(m.bytes().size() + edit_list::arena_size + 32);
    const auto r = e.apply(m, out);
    if (r.error != edit_error::ok) {
        return;
    }
    auto again = std::make_unique<message>();
    if (!again->parse(std::string_view(out.data(), r.length)).ok()) {
        return;
    }
    // A body whose length the list recounted must match its new Content-Length.
    if (again->has_content_length() && m.has_content_length() && !m.body_truncated() &&
        again->content_length() != again->body().size() && !again->body_truncated() &&
        m.content_length() == m.body().size()) {
        std::abort();
    }
}

// sip/nat both ways: whatever it records applies and the result is still consistent.
void translate_both_ways(const message& m)
{
    const translation t{{0x0a000102, 5060}, {0xc6336401, 40000}};
    std::uint16_t next = 40000;
    for (const bool from_inside : {true, false}) {
        edit_list e;
        nat_summary s;
        pinhole_asks asks;
        if (translate(m, t, from_inside, &asks, e, s) != edit_error::ok) {
            continue;
        }
        // Every pinhole granted, every other refused: both must apply.
        for (unsigned k = 0; k < asks.n; k += 2) {
            if (grant(e, asks.list[k], next += 2) != edit_error::ok) {
                return;
            }
        }
        std::vector<char> out(m.bytes().size() + edit_list::arena_size + 32);
        const auto r = e.apply(m, out);
        if (r.error != edit_error::ok) {
            continue;
        }
        auto again = std::make_unique<message>();
        if (!again->parse(std::string_view(out.data(), r.length)).ok()) {
            std::abort(); // translating addresses must not break a message that parsed
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::vector<char> bytes(data, data + size);
    const std::string_view input(bytes.data(), bytes.size());

    auto m = std::make_unique<message>();
    if (m->parse(input).ok()) {
        (void)check_message(*m, check_options{});
        edit_and_recheck(*m);
        translate_both_ways(*m);
    }

    // The same bytes as a stream, in two segments split by the first byte's value; and one byte at a
    // time, which must give the same frames and the same verdict (the scanner's whole-line shortcuts
    // against its byte-by-byte rules).
    stream_framer f(4096);
    const std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
    std::vector<std::pair<frame_kind, std::string>> frames;
    frame_error error = frame_error::none;
    for (const auto part : {input.substr(0, cut), input.substr(cut)}) {
        error = f.feed(part, [&](const frame& fr) {
            frames.emplace_back(fr.kind, std::string(fr.bytes));
            auto framed = std::make_unique<message>();
            if (fr.kind == frame_kind::message && framed->parse(fr.bytes).ok()) {
                (void)check_message(*framed, check_options{});
            }
        });
        if (error != frame_error::none) {
            break;
        }
    }
    stream_framer bytewise(4096);
    std::size_t next = 0;
    frame_error bytewise_error = frame_error::none;
    for (std::size_t i = 0; i < size && bytewise_error == frame_error::none; ++i) {
        bytewise_error = bytewise.feed(input.substr(i, 1), [&](const frame& fr) {
            if (next >= frames.size() || frames[next].first != fr.kind || frames[next].second != fr.bytes) {
                std::abort(); // framed differently one byte at a time
            }
            ++next;
        });
    }
    if (bytewise_error != error || next != frames.size()) {
        std::abort();
    }
    // A frame worked out from the parse (a TCP segment that holds one whole message) must be the one
    // frame the scanner finds in the same bytes.
    auto parsed = std::make_unique<message>();
    if (parsed->parse(input).ok()) {
        if (const auto length = frame_scanner::frame_of(*parsed, 4096)) {
            if (*length != size || error != frame_error::none || frames.size() != 1 ||
                frames[0].first != frame_kind::message || frames[0].second != input) {
                std::abort();
            }
        }
    }
    return 0;
}
