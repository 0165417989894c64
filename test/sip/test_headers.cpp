// The header table and the header index of a parsed message: every name and compact form in any case,
// names that only look like table names, and the two paths by which message::parse reads a name (the
// sixteen-byte fast path and the general one) agreeing with each other.
#include "sip/headers.hpp"
#include "sip/message.hpp"
#include "sip/text.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <memory>
#include <string>
#include <vector>

using namespace sipalg::sip;

namespace {

struct known {
    std::string_view name;
    char compact;
    header_type type;
};

constexpr std::array table{
#define SIPALG_X(id, name, compact) known{name, compact, header_type::id},
    SIPALG_SIP_HEADERS(SIPALG_X)
#undef SIPALG_X
};

std::string with_case(std::string_view s, bool upper)
{
    std::string out(s);
    for (char& c : out) {
        if (c >= 'a' && c <= 'z' && upper) {
            c = static_cast<char>(c - 32);
        } else if (c >= 'A' && c <= 'Z' && !upper) {
            c = static_cast<char>(c + 32);
        }
    }
    return out;
}

// The type whose name equals `s` ignoring case, as a plain scan of the table says.
header_type reference_lookup(std::string_view s)
{
    for (const auto& k : table) {
        if (iequals(k.name, s) || (s.size() == 1 && k.compact != 0 && (s[0] | 0x20) == k.compact)) {
            return k.type;
        }
    }
    return header_type::unknown;
}

} // namespace

TEST_CASE("every header name and compact form is found in any case")
{
    for (const auto& k : table) {
        INFO(k.name);
        REQUIRE(lookup_header(k.name) == k.type);
        REQUIRE(lookup_header(with_case(k.name, true)) == k.type);
        REQUIRE(lookup_header(with_case(k.name, false)) == k.type);
        REQUIRE(header_name(k.type) == k.name);
        if (k.compact != 0) {
            const char lower[1] = {k.compact};
            const char upper[1] = {static_cast<char>(k.compact - 32)};
            REQUIRE(lookup_header(std::string_view(lower, 1)) == k.type);
            REQUIRE(lookup_header(std::string_view(upper, 1)) == k.type);
        }
    }
}

TEST_CASE("names that only resemble table names are unknown")
{
    for (const char* other : {"X-Custom", "Vias", "Vi", "Call-IE", "Call-XD", "Contac", "Contacts", "Content-Lengths",
                              "P-Asserted-Identit", "Max_Forwards", "g", "z", "0", "Accept-Resource-Priority-And-More"}) {
        INFO(other);
        REQUIRE(lookup_header(other) == header_type::unknown);
    }
    // Every table name with one character replaced by any other printable character is a table name
    // only when the reference scan says so: the word-wise case folding makes no false matches.
    for (const auto& k : table) {
        for (std::size_t i = 0; i < k.name.size(); ++i) {
            std::string name(k.name);
            for (int c = 0x21; c < 0x7f; ++c) {
                name[i] = static_cast<char>(c);
                INFO(name);
                REQUIRE(lookup_header(name) == reference_lookup(name));
            }
        }
    }
}

TEST_CASE("the header index: first of each type, both name paths, errors by line")
{
    const std::string bytes = "INVITE sip:bob@example.com SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\n"
                              "v: SIP/2.0/UDP b.example.com;branch=z9hG4bK2\r\n"
                              "Content-Disposition : session\r\n" // long name and a space: the general path
                              "X-Vendor-Thing: 1\r\n"
                              "Call-ID:abc\r\n"
                              "To: <sip:bob@example.com>\r\n"
                              "\r\n";
    auto m = std::make_unique<message>();
    REQUIRE(m->parse(bytes).ok());
    REQUIRE(m->headers().size() == 6);
    const header* via = m->find(header_type::via);
    REQUIRE(via == &m->headers()[0]);
    REQUIRE(m->find_next(header_type::via, via) == &m->headers()[1]);
    REQUIRE(m->name(m->headers()[1]) == "v");
    REQUIRE(m->headers()[2].type == header_type::content_disposition);
    REQUIRE(m->name(m->headers()[2]) == "Content-Disposition");
    REQUIRE(m->value(m->headers()[2]) == "session");
    REQUIRE(m->headers()[3].type == header_type::unknown);
    REQUIRE(m->name(m->headers()[3]) == "X-Vendor-Thing");
    REQUIRE(m->value_of(header_type::call_id) == "abc");
    REQUIRE(m->find(header_type::from) == nullptr);

    // Bytes that are not a token before the colon: refused whichever path reads the name.
    for (const char* line : {"Call\rID: x\r\n", "Fo(o: x\r\n", "Vi\x01" "a: x\r\n", "Caf\xc3\xa9: x\r\n",
                             "A-Much-Longer-Name-With(Paren): x\r\n"}) {
        INFO(line);
        const std::string bad = std::string("OPTIONS sip:a@b SIP/2.0\r\n") + line + "\r\n";
        const auto status = m->parse(bad);
        REQUIRE(status.error == parse_error::bad_header_name);
        REQUIRE(status.offset == 25);
    }
    const std::string no_colon = "OPTIONS sip:a@b SIP/2.0\r\nNo colon here at all\r\n\r\n";
    REQUIRE(m->parse(no_colon).error == parse_error::header_without_colon);
    // A parse that fails leaves no header index from the message before.
    REQUIRE(m->find(header_type::via) == nullptr);
}
