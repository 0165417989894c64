// libFuzzer target: the NAT path of a packet the receive checks accept. The lookup key (ICMP errors by
// their quote) reads only inside the packet; a rewrite to other addresses and ports, applied by
// checksum deltas, keeps every checksum that was right before right after (RFC 1624), and the reverse
// rewrite gives the original bytes back.
#include "nat/flow.hpp"
#include "nat/ipv4.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

namespace {

using namespace sipalg;

bool l4_checksum_ok(const std::vector<std::uint8_t>& p, unsigned ihl, std::uint16_t total)
{
    const auto& ip = *reinterpret_cast<const ipv4_header*>(p.data());
    const auto l4 = std::span(p.data() + ihl, total - ihl);
    const auto bytes = std::as_bytes(l4);
    switch (ip.protocol) {
    case ip_proto::udp:
        if (l4.size() < sizeof(udp_header)) {
            return false;
        }
        if (l4[6] == 0 && l4[7] == 0) {
            return true; // no checksum (RFC 768)
        }
        return internet_checksum(bytes, pseudo_header_sum(ip.src, ip.dst, ip.protocol, static_cast<std::uint16_t>(l4.size()))).raw == 0;
    case ip_proto::tcp:
        return l4.size() >= sizeof(tcp_header) &&
               internet_checksum(bytes, pseudo_header_sum(ip.src, ip.dst, ip.protocol, static_cast<std::uint16_t>(l4.size()))).raw == 0;
    case ip_proto::icmp:
        return l4.size() >= sizeof(icmp_header) && internet_checksum(bytes).raw == 0;
    default:
        return false;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    // The first 12 bytes choose the translation; the rest is the packet, copied to exactly its size.
    if (size < 12) {
        return 0;
    }
    flow_key to;
    std::memcpy(&to.src, data, 4);
    std::memcpy(&to.dst, data + 4, 4);
    std::memcpy(&to.sport, data + 8, 2);
    std::memcpy(&to.dport, data + 10, 2);
    std::vector<std::uint8_t> p(data + 12, data + size);
    const auto chk = check_ipv4(p.data(), p.size());
    if (chk.error != ipv4_error::ok || chk.header_length != 20) {
        return 0;
    }
    auto& ip = *reinterpret_cast<ipv4_header*>(p.data());
    const unsigned ihl = chk.header_length;
    std::uint8_t* l4 = p.data() + ihl;
    const std::size_t l4_len = chk.total_length - ihl;
    const lookup_key k = lookup_key_of(ip, l4, l4_len);
    if (!k.ok || k.icmp_error ||
        (ip.protocol == ip_proto::icmp && l4[0] != icmp_type::echo_request && l4[0] != icmp_type::echo_reply)) {
        return 0;
    }
    to.proto = k.key.proto;
    if (to.proto == ip_proto::icmp) {
        to.dport = to.sport; // the identifier stands for both ports
    }
    if (!has_ports(to.proto)) {
        to.sport = k.key.sport;
        to.dport = k.key.dport;
    }
    const bool l4_ok = l4_checksum_ok(p, ihl, chk.total_length);
    const std::vector<std::uint8_t> before = p;
    apply_rewrite(ip, l4, l4_len, make_rewrite(k.key, to));
    if (internet_checksum(std::as_bytes(std::span(p.data(), ihl))).raw != 0) {
        std::abort(); // the IPv4 header checksum went wrong
    }
    if (l4_ok && !l4_checksum_ok(p, ihl, chk.total_length)) {
        std::abort(); // the UDP/TCP/ICMP checksum went wrong
    }
    const auto again = key_of(ip, l4, l4_len);
    if (!again || !(*again == to)) {
        std::abort(); // the packet does not carry the key it was translated to
    }
    // And back: the same bytes, except checksum fields, where one's complement arithmetic may give
    // the other representation of zero (0x0000 and 0xffff).
    apply_rewrite(ip, l4, l4_len, make_rewrite(to, k.key));
    const std::size_t l4_csum = ip.protocol == ip_proto::udp ? 6 : ip.protocol == ip_proto::tcp ? 16 : 2;
    for (std::size_t i = 0; i < p.size(); ++i) {
        const bool csum = i == 10 || i == 11 || i == ihl + l4_csum || i == ihl + l4_csum + 1;
        if (p[i] != before[i] && !csum) {
            std::abort();
        }
    }
    return 0;
}
