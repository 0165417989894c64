// JSON strings from bytes that may not be UTF-8 (message text quoted in --json replies): well-formed
// UTF-8 stays as it is, anything else (overlong forms, surrogates, code points above U+10FFFF, cut
// sequences, stray continuation bytes) becomes U+FFFD, so every reply is valid JSON (RFC 8259 §8.1).
#include "control/json.hpp"

#include <catch2/catch.hpp>

using namespace sipalg::control;

TEST_CASE("well-formed UTF-8 is kept, control characters escaped")
{
    CHECK(json_string("J\xc3\xbcrgen") == "\"J\xc3\xbcrgen\"");
    CHECK(json_string("\xe2\x82\xac \xf0\x9f\x93\x9e") == "\"\xe2\x82\xac \xf0\x9f\x93\x9e\"");
    CHECK(json_string("\xed\x9f\xbf") == "\"\xed\x9f\xbf\""); // U+D7FF, the last before the surrogates
    CHECK(json_string("\xf4\x8f\xbf\xbf") == "\"\xf4\x8f\xbf\xbf\""); // U+10FFFF
    CHECK(json_string("a\"b\\c\n\x01") == "\"a\\\"b\\\\c\\n\\u0001\"");
}

TEST_CASE("what is not UTF-8 becomes the replacement character")
{
    CHECK(json_string("\xc0\xaf") == "\"\\ufffd\\ufffd\"");          // overlong '/'
    CHECK(json_string("\xe0\x80\xaf") == "\"\\ufffd\\ufffd\\ufffd\""); // overlong, three bytes
    CHECK(json_string("\xf0\x80\x80\xaf") == "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    CHECK(json_string("\xed\xa0\x80") == "\"\\ufffd\\ufffd\\ufffd\""); // a surrogate (U+D800)
    CHECK(json_string("\xf4\x90\x80\x80") == "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); // above U+10FFFF
    CHECK(json_string("ab\xe2\x82") == "\"ab\\ufffd\\ufffd\"");     // cut short
    CHECK(json_string("\x80x") == "\"\\ufffdx\"");                   // a stray continuation byte
    CHECK(json_string("\xff") == "\"\\ufffd\"");
    CHECK_FALSE(is_utf8("\xed\xa0\x80"));
    CHECK(is_utf8("J\xc3\xbcrgen"));
}

TEST_CASE("replies through the JSON library: one line, and bytes that are not UTF-8 replaced")
{
    CHECK(json_line({{"ok", true}, {"n", 3}}) == "{\"ok\":true,\"n\":3}\n");
    const std::string reply = json_line({{"ok", false}, {"error", std::string("bad \xff byte")}});
    CHECK(reply == "{\"ok\":false,\"error\":\"bad \xef\xbf\xbd byte\"}\n");
    CHECK(json::parse(reply)["error"] == "bad \xef\xbf\xbd byte");
}
