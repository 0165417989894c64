// The compiled policy classifier (dataplane/classifier) against the definition it replaces on the packet
// path: nat::firewall::match_policy, a walk over the policies in order. Random rule sets over a small
// universe of interfaces, addresses, ports, VIPs and schedules, so that flows hit policies, their
// edges and the gaps between them.
#include "dataplane/classifier.hpp"

#include <catch2/catch.hpp>
#include <rte_eal.h>

#include <random>
#include <string>
#include <unistd.h>
#include <vector>

using namespace sipalg;

namespace {

void start_eal()
{
    static const bool started = [] {
        std::string prefix = "sipalg-test-classifier-" + std::to_string(::getpid());
        std::vector<std::string> args = {"test_classifier", "-l",         "0",          "--no-huge", "--no-pci", "-m", "512",
                                         "--file-prefix",   prefix,       "--log-level", "lib.eal:error"};
        std::vector<char*> argv;
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        return rte_eal_init(static_cast<int>(argv.size()), argv.data()) >= 0;
    }();
    REQUIRE(started);
}

constexpr unsigned interfaces = 5;
constexpr unsigned vips = 6;
constexpr unsigned schedules = 40; // two 32-bit schedule words
constexpr ipv4_address base = 0x0a000000; // 10.0.0.0: the universe is 10.0.0.0-10.0.0.255

struct random_rules {
    std::mt19937 rng;
    explicit random_rules(unsigned seed) : rng(seed) {}

    unsigned below(unsigned n)
    {
        return std::uniform_int_distribution<unsigned>(0, n - 1)(rng);
    }
    bool chance(unsigned percent)
    {
        return below(100) < percent;
    }
    std::uint64_t interface_mask()
    {
        if (chance(20)) {
            return ~std::uint64_t{0};
        }
        std::uint64_t m = 0;
        while (m == 0) {
            m = below(1u << interfaces);
        }
        return m;
    }
    nat::address_set addresses(unsigned max_ranges)
    {
        nat::address_set s;
        if (chance(20)) {
            s.add({0, 0xffffffffu});
        } else {
            const unsigned n = below(max_ranges + 1);
            for (unsigned i = 0; i < n; ++i) {
                const ipv4_address a = base + below(256);
                s.add({a, std::min<ipv4_address>(base + 255, a + below(40))});
            }
        }
        s.finish();
        return s;
    }
    std::uint16_t port()
    {
        return static_cast<std::uint16_t>(below(24));
    }
    nat::service_entry service()
    {
        nat::service_entry e;
        const unsigned kind = below(100);
        if (kind < 10) {
            e.proto = 0;
        } else if (kind < 25) {
            e.proto = ip_proto::icmp;
            e.icmp_type = chance(40) ? std::int16_t{-1} : static_cast<std::int16_t>(below(10));
        } else {
            e.proto = chance(50) ? ip_proto::udp : ip_proto::tcp;
            if (!chance(20)) {
                e.dport_first = port();
                e.dport_last = static_cast<std::uint16_t>(e.dport_first + below(6));
            }
            if (chance(30)) {
                e.sport_first = port();
                e.sport_last = static_cast<std::uint16_t>(e.sport_first + below(6));
            }
        }
        return e;
    }
    nat::firewall firewall(unsigned policies)
    {
        nat::firewall fw;
        fw.vips.resize(vips);
        fw.schedules.resize(schedules);
        for (unsigned i = 0; i < policies; ++i) {
            nat::policy_rule p;
            p.id = i + 1;
            p.srcintf = interface_mask();
            p.dstintf = interface_mask();
            p.srcaddr = addresses(3);
            p.dstaddr = addresses(chance(30) ? 0 : 3);
            for (unsigned v = 0; v < vips; ++v) {
                if (chance(15)) {
                    p.vips.push_back(static_cast<std::int32_t>(v));
                }
            }
            const unsigned services = 1 + below(3);
            for (unsigned s = 0; s < services; ++s) {
                p.service.push_back(service());
            }
            p.schedule = chance(30) ? static_cast<std::int32_t>(below(schedules)) : -1;
            p.accept = chance(70);
            fw.policies.push_back(std::move(p));
        }
        return fw;
    }
    nat::flow_view flow()
    {
        nat::flow_view f;
        f.in_interface = static_cast<std::uint16_t>(below(interfaces));
        f.out_interface = static_cast<std::uint16_t>(below(interfaces));
        f.src = chance(5) ? static_cast<ipv4_address>(rng()) : base + below(256);
        f.dst = chance(5) ? static_cast<ipv4_address>(rng()) : base + below(256);
        const std::uint8_t protos[] = {ip_proto::udp, ip_proto::tcp, ip_proto::icmp, 47};
        f.proto = protos[below(4)];
        f.sport = port();
        f.dport = port();
        f.icmp_type = f.proto == ip_proto::icmp ? static_cast<std::int16_t>(below(12)) : std::int16_t{-1};
        return f;
    }
    nat::schedule_set active()
    {
        nat::schedule_set s;
        for (unsigned i = 0; i < schedules; ++i) {
            if (chance(50)) {
                s.set(i);
            }
        }
        return s;
    }
};

} // namespace

TEST_CASE("the compiled classifier gives every flow the policy the ordered walk gives")
{
    start_eal();
    std::size_t hits = 0;
    std::size_t checked = 0;
    for (unsigned seed = 1; seed <= 60; ++seed) {
        random_rules gen(seed);
        const nat::firewall fw = gen.firewall(1 + gen.below(40));
        std::string error;
        const auto c = dp::policy_classifier::build(fw, error);
        REQUIRE(error.empty());
        REQUIRE(c != nullptr);
        for (unsigned k = 0; k < 3000; ++k) {
            const nat::flow_view f = gen.flow();
            const std::int32_t vip = gen.chance(60) ? -1 : static_cast<std::int32_t>(gen.below(vips));
            const nat::schedule_set active = gen.chance(20) ? nat::schedule_set::all() : gen.active();
            const std::int32_t want = fw.match_policy(f, vip, active);
            const std::int32_t got = c->match(f, vip, active);
            if (want != got) {
                INFO("seed " << seed << " flow " << k << ": in " << f.in_interface << " out " << f.out_interface << " src "
                             << std::hex << f.src << " dst " << f.dst << std::dec << " proto " << int(f.proto) << " "
                             << f.sport << " > " << f.dport << " icmp " << f.icmp_type << " vip " << vip);
                CHECK(got == want);
            }
            hits += want >= 0 ? 1 : 0;
            ++checked;
        }
    }
    // The universe is small enough that a good share of the flows meet a policy, and the rest do not.
    CHECK(hits > checked / 10);
    CHECK(hits < checked);
}

TEST_CASE("no policy: every flow is the implicit deny")
{
    start_eal();
    nat::firewall fw;
    std::string error;
    const auto c = dp::policy_classifier::build(fw, error);
    REQUIRE(c != nullptr);
    random_rules gen(7);
    CHECK(c->match(gen.flow(), -1, nat::schedule_set::all()) == -1);
}

TEST_CASE("ten thousand policies: the last one is found, and one beyond the rule limit is refused by its id")
{
    start_eal();
    nat::firewall fw;
    for (std::uint32_t i = 0; i < 10'000; ++i) {
        nat::policy_rule p;
        p.id = i + 1;
        p.srcintf = 1;
        p.dstintf = 2;
        // Each of the first 9,999 a /32 that the flow is not; the last every address.
        const ipv4_address a = i + 1 < 10'000 ? 0xc0a80000 + i : 0;
        p.srcaddr.add({a, i + 1 < 10'000 ? a : 0xffffffffu});
        p.srcaddr.finish();
        p.dstaddr.add({0, 0xffffffffu});
        p.dstaddr.finish();
        p.service.push_back({});
        p.accept = true;
        fw.policies.push_back(std::move(p));
    }
    std::string error;
    const auto c = dp::policy_classifier::build(fw, error);
    REQUIRE(c != nullptr);
    CHECK(c->rules() == 10'000);
    nat::flow_view f;
    f.in_interface = 0;
    f.out_interface = 1;
    f.src = 0x0a000001;
    f.dst = 0x08080808;
    f.proto = ip_proto::udp;
    CHECK(c->match(f, -1, nat::schedule_set::all()) == 9'999);
    f.src = 0xc0a80005;
    CHECK(c->match(f, -1, nat::schedule_set::all()) == 5);
    f.in_interface = 2;
    CHECK(c->match(f, -1, nat::schedule_set::all()) == -1);

    // One policy whose address ranges and services multiply past the limit.
    nat::policy_rule wide;
    wide.id = 77;
    wide.srcintf = ~std::uint64_t{0};
    wide.dstintf = ~std::uint64_t{0};
    for (std::uint32_t i = 0; i < 1000; ++i) {
        wide.srcaddr.add({0x0b000000 + 2 * i, 0x0b000000 + 2 * i});
        wide.dstaddr.add({0x0c000000 + 2 * i, 0x0c000000 + 2 * i});
    }
    wide.srcaddr.finish();
    wide.dstaddr.finish();
    wide.service.push_back({});
    fw.policies.insert(fw.policies.begin() + 3, wide);
    error.clear();
    CHECK(dp::policy_classifier::build(fw, error) == nullptr);
    CHECK(error.find("firewall policy 77:") == 0);
}

TEST_CASE("the previous classifier serves when the policies make the same rules, and only then")
{
    start_eal();
    random_rules gen(11);
    nat::firewall fw = gen.firewall(30);
    std::string error;
    const auto first = dp::policy_classifier::build(fw, error);
    REQUIRE(first != nullptr);
    fw.policies[3].nat = !fw.policies[3].nat; // what a policy does is not in the rules
    CHECK(dp::policy_classifier::build(fw, error, first) == first);
    nat::policy_rule last;
    last.id = 99;
    last.srcintf = last.dstintf = ~std::uint64_t{0};
    last.srcaddr.add({0, 0xffffffffu});
    last.dstaddr.add({0, 0xffffffffu});
    last.service.push_back({});
    fw.policies.push_back(last);
    const auto changed = dp::policy_classifier::build(fw, error, first);
    REQUIRE(changed != nullptr);
    CHECK(changed != first);
}
