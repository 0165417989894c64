// FortiOS output filters (control/output_filter.hpp): `| grep` with each option FortiOS lists, parsed
// from a CLI line's words, and the refusals that name what is wrong.
#include "control/cli.hpp"
#include "control/output_filter.hpp"

#include <catch2/catch.hpp>

using namespace sipalg::control;

namespace {

const std::string text = "config system settings\n"
                         "    set default-voip-alg-mode proxy-based\n"
                         "    set sip-tcp-port 5060\n"
                         "    set sip-udp-port 5060\n"
                         "end\n"
                         "config voip profile\n"
                         "    edit \"default\"\n"
                         "        set comment \"SIP | RTP\"\n"
                         "    next\n"
                         "end\n";

// The line as an operator types it, run over `text`; "error: ..." when it is refused.
std::string run(std::string_view line)
{
    std::vector<std::string> words;
    REQUIRE(cli_words(line, words));
    std::vector<std::string> command;
    output_pipe pipe;
    std::string error;
    if (!split_output_pipe(words, command, pipe, error)) {
        return "error: " + error;
    }
    CHECK(command == std::vector<std::string>{"show"});
    return pipe.run(text);
}

} // namespace

TEST_CASE("grep keeps the matching lines, each option as grep has it")
{
    CHECK(run("show | grep sip") == "    set sip-tcp-port 5060\n    set sip-udp-port 5060\n");
    CHECK(run("show | grep -i SIP-UDP") == "    set sip-udp-port 5060\n");
    CHECK(run("show | grep SIP-UDP").empty());
    CHECK(run("show | grep -c end") == "2\n");
    CHECK(run("show | grep -v set | grep -c .") == "5\n"); // "settings" holds "set"
    CHECK(run("show | grep -n udp") == "4:    set sip-udp-port 5060\n");
    CHECK(run("show | grep -A 1 tcp") == "    set sip-tcp-port 5060\n    set sip-udp-port 5060\n");
    CHECK(run("show | grep -B1 -n \"voip p\"") == "5-end\n6:config voip profile\n");
    CHECK(run("show | grep -C=1 '\"default\"'") == "config voip profile\n    edit \"default\"\n        set comment \"SIP | RTP\"\n");
    CHECK(run("show | grep -A 0 -B 0 ^end") == "end\n--\nend\n");
    CHECK(run("show | grep -ic ^END$") == "2\n");
    CHECK(run("show | grep \"SIP | RTP\"") == "        set comment \"SIP | RTP\"\n");
    CHECK(run("show | grep -e -mode") == "    set default-voip-alg-mode proxy-based\n");
    CHECK(run("show | grep '5060$' | grep -v tcp") == "    set sip-udp-port 5060\n");
    CHECK(run("show | grep \"|\"") == "        set comment \"SIP | RTP\"\n");
}

TEST_CASE("what grep cannot take is refused, with the reason")
{
    CHECK(run("show | less").starts_with("error: only '| grep"));
    CHECK(run("show |").starts_with("error: only '| grep"));
    CHECK(run("show | grep") == "error: grep needs a pattern");
    CHECK(run("show | grep -x a").starts_with("error: grep: unknown option -x"));
    CHECK(run("show | grep -A a b").starts_with("error: grep -A needs a number"));
    CHECK(run("show | grep -A").starts_with("error: grep -A needs a number"));
    CHECK(run("show | grep set name").starts_with("error: grep takes one pattern"));
    CHECK(run("show | grep 'a\\{1'").starts_with("error: grep: pattern"));
    CHECK(run("show | grep " + std::string(1025, 'a')).starts_with("error: grep: the pattern is longer"));
    CHECK(run("show | grep '\\(a*\\)*\\1'").starts_with("error: grep: back-references"));
    CHECK(run("show | grep 'a\\\\1'").empty()); // an escaped backslash, then 1: no back-reference
}
