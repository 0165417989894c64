#pragma once
// Which public ports of a worker's NAT slice its sessions use (ARCHITECTURE.md "Processes and cores":
// each worker owns a slice), so that a port is given out once: a pinhole, which any host outside may
// reach, only ever takes a port no session, pinhole or VIP holds; a SIP session, whose port may carry
// a registration pinhole, takes a port that only its own inside endpoint uses (the same public port
// for all that endpoint's SIP peers: endpoint-independent mapping, RFC 4787 REQ-1); other sessions
// may share a port between peers (endpoint-dependent reuse), but never a SIP endpoint's. Counts per
// protocol (UDP, TCP) and port; fixed size, allocation-free after construction.
#include "nat/headers.hpp"
#include "nat/ipv4.hpp"

#include <cstdint>
#include <vector>

namespace sipalg::nat {

class port_ledger {
public:
    port_ledger(std::uint16_t first, std::uint32_t span)
        : first_(first), udp_(span), tcp_(span), udp_owner_(span), tcp_owner_(span)
    {
    }

    // The owner key of an inside endpoint.
    static constexpr std::uint64_t owner_of(ipv4_address address, std::uint16_t port) noexcept
    {
        return std::uint64_t{address} << 16 | port;
    }

    // A session on `port`; `owner`: the inside endpoint that holds it alone (0: a shared use).
    void take(std::uint8_t proto, std::uint16_t port, std::uint64_t owner) noexcept
    {
        if (std::uint32_t* e = entry(proto, port)) {
            *e = (*e + 1) | (owner != 0 ? exclusive_bit : 0u);
            if (owner != 0) {
                owner_entry(proto, port) = owner;
            }
        }
    }
    // Whether the inside endpoint `owner` may hold `port` alone: nobody uses it, or only itself does.
    bool free_for(std::uint8_t proto, std::uint16_t port, std::uint64_t owner) const noexcept
    {
        const std::uint32_t* e = const_cast<port_ledger*>(this)->entry(proto, port);
        return e != nullptr && ((*e & ~exclusive_bit) == 0 ||
                                ((*e & exclusive_bit) != 0 && const_cast<port_ledger*>(this)->owner_entry(proto, port) == owner));
    }
    void give(std::uint8_t proto, std::uint16_t port) noexcept
    {
        if (std::uint32_t* e = entry(proto, port); e != nullptr && (*e & ~exclusive_bit) != 0) {
            *e = *e - 1;
            if ((*e & ~exclusive_bit) == 0) {
                *e = 0;
            }
        }
    }
    // Sessions on the port; whether one of them holds it alone.
    std::uint32_t users(std::uint8_t proto, std::uint16_t port) const noexcept
    {
        const std::uint32_t* e = const_cast<port_ledger*>(this)->entry(proto, port);
        return e == nullptr ? 0 : *e & ~exclusive_bit;
    }
    bool exclusive(std::uint8_t proto, std::uint16_t port) const noexcept
    {
        const std::uint32_t* e = const_cast<port_ledger*>(this)->entry(proto, port);
        return e != nullptr && (*e & exclusive_bit) != 0;
    }
    std::size_t bytes_allocated() const noexcept
    {
        return (udp_.size() + tcp_.size()) * (sizeof(std::uint32_t) + sizeof(std::uint64_t));
    }

private:
    static constexpr std::uint32_t exclusive_bit = 0x80000000u;
    std::uint32_t* entry(std::uint8_t proto, std::uint16_t port) noexcept
    {
        std::vector<std::uint32_t>& v = proto == ip_proto::udp ? udp_ : tcp_;
        if ((proto != ip_proto::udp && proto != ip_proto::tcp) || port < first_ || std::size_t{port} - first_ >= v.size()) {
            return nullptr;
        }
        return &v[port - first_];
    }

    std::uint64_t& owner_entry(std::uint8_t proto, std::uint16_t port) noexcept
    {
        return (proto == ip_proto::udp ? udp_owner_ : tcp_owner_)[port - first_];
    }

    std::uint16_t first_;
    std::vector<std::uint32_t> udp_;
    std::vector<std::uint32_t> tcp_;
    std::vector<std::uint64_t> udp_owner_;
    std::vector<std::uint64_t> tcp_owner_;
};

} // namespace sipalg::nat
