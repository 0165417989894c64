// Engine selection: the seed's table (ARCHITECTURE.md), the profile's sip status, and the ports the ALG
// and the session helper listen on.
#include "nat/voip.hpp"

#include <catch2/catch.hpp>

using namespace sipalg;
using namespace sipalg::nat;

namespace {

sip_engine engine(bool profile, bool ips, bool proxy, bool sip_enabled = true, std::uint16_t dport = 5060,
                  std::uint8_t proto = ip_proto::udp)
{
    const sip_listeners l;
    return l.choose(resolve_voip(profile, ips, proxy, sip_enabled, true, 0), proto, dport);
}

} // namespace

TEST_CASE("the seed's table: voip-profile x ips-voip-filter x default-voip-alg-mode")
{
    for (const bool proxy : {false, true}) {
        CHECK(engine(true, true, proxy) == sip_engine::alg);
        CHECK(resolve_voip(true, true, proxy, true, true, 0).ips);
        CHECK(engine(true, false, proxy) == sip_engine::alg);
        CHECK_FALSE(resolve_voip(true, false, proxy, true, true, 0).ips);
        CHECK(engine(false, true, proxy) == sip_engine::alg);
        CHECK(resolve_voip(false, true, proxy, true, true, 0).ips);
    }
    CHECK(engine(false, false, false) == sip_engine::helper);
    CHECK(engine(false, false, true) == sip_engine::alg); // the default profile, implicitly
    CHECK(resolve_voip(false, false, true, true, true, 3).profile == 3);
    CHECK(resolve_voip(false, false, false, true, true, 3).profile == -1);
}

TEST_CASE("a profile with SIP disabled hands SIP to the session helper; without the helper entry, nothing")
{
    CHECK(engine(true, false, true, false) == sip_engine::helper);
    CHECK(engine(false, false, true, false) == sip_engine::helper); // the default profile disabled
    sip_listeners none;
    none.helpers.clear();
    CHECK(none.choose(resolve_voip(false, false, false, false, false, 0), ip_proto::udp, 5060) == sip_engine::none);
    CHECK(none.choose(resolve_voip(true, false, true, false, false, 0), ip_proto::udp, 5060) == sip_engine::none);
}

TEST_CASE("the ALG listens on sip-udp-port and sip-tcp-port, the helper on its entries")
{
    sip_listeners l;
    l.udp = {5061, 5065};
    l.tcp = {5060, 5064};
    l.helpers = {{17, 5065}, {0, 5064}};
    const voip_policy alg = resolve_voip(false, false, true, true, true, 0);
    const voip_policy helper = resolve_voip(false, false, false, true, true, 0);
    CHECK(l.choose(alg, ip_proto::udp, 5065) == sip_engine::alg);
    CHECK(l.choose(alg, ip_proto::udp, 5061) == sip_engine::alg);
    CHECK(l.choose(alg, ip_proto::tcp, 5064) == sip_engine::alg);
    CHECK(l.choose(alg, ip_proto::udp, 5060) == sip_engine::none);
    CHECK(l.choose(helper, ip_proto::udp, 5065) == sip_engine::helper);
    CHECK(l.choose(helper, ip_proto::tcp, 5064) == sip_engine::helper); // an entry without protocol: both
    CHECK(l.choose(helper, ip_proto::udp, 5064) == sip_engine::helper);
    CHECK(l.choose(helper, ip_proto::tcp, 5065) == sip_engine::none);
    CHECK(l.choose(helper, ip_proto::icmp, 5065) == sip_engine::none);
    // An ALG port that the policy does not give the ALG may still be a helper port.
    l.helpers.push_back({17, 5061});
    CHECK(l.choose(helper, ip_proto::udp, 5061) == sip_engine::helper);
}
