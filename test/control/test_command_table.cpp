// The one command table (control/command_table.hpp): lines find their command by its words and the
// number of arguments, the longest words winning; the framing's bodies and every surface's help come
// from it.
#include "control/command_table.hpp"
#include "control/request.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>

using namespace sipalg::control;

namespace {

command_id id_of(unsigned where, std::string_view line)
{
    const command_spec* c = find_command(where, line);
    REQUIRE(c != nullptr);
    return c->id;
}

} // namespace

TEST_CASE("a line finds its command by words and arguments")
{
    CHECK(id_of(surface::socket, "stats") == command_id::stats);
    CHECK(id_of(surface::socket, "show config") == command_id::show_config);
    CHECK(id_of(surface::socket, "show") == command_id::show_config);
    CHECK(id_of(surface::socket, "sessions dport=5060 proto=17") == command_id::sessions);
    CHECK(find_command(surface::socket, "stats now") == nullptr);   // takes no argument
    CHECK(find_command(surface::socket, "reboot") == nullptr);
    CHECK(find_command(surface::socket, "diagnose sys session list") == nullptr); // a CLI line, not a request
    CHECK(id_of(surface::cli, "diagnose sys session filter clear") == command_id::session_filter_clear);
    CHECK(id_of(surface::cli, "diagnose sys session filter sport 5060") == command_id::session_filter);
    CHECK(find_command(surface::cli, "diagnose sys session filter sport") == nullptr);
    CHECK(id_of(surface::cli, "show firewall policy 3") == command_id::show);
    CHECK(id_of(surface::cli, "diagnose  sys sip   mapping list") == command_id::mappings);
    CHECK(id_of(surface::telemetry, "/sipalg/worker_stats 0") == command_id::telemetry_worker_stats);
}

TEST_CASE("the request framing's bodies come from the table")
{
    CHECK(takes_body("apply"));
    CHECK(takes_body("validate"));
    CHECK(takes_body("cli"));
    CHECK_FALSE(takes_body("stats"));
    CHECK_FALSE(takes_body("show config"));
    CHECK_FALSE(takes_body("unknown"));
}

TEST_CASE("every command has help, and names are not given twice on one surface")
{
    for (const unsigned where : {surface::socket, surface::cli, surface::sipalgctl, surface::telemetry}) {
        std::set<std::string> seen;
        for (const auto& c : command_table()) {
            if ((c.surfaces & where) == 0) {
                continue;
            }
            INFO(std::string(c.words));
            CHECK_FALSE(c.help.empty());
            CHECK(c.min_arguments <= c.max_arguments);
            CHECK(seen.insert(std::string(c.words)).second);
        }
    }
}
