#pragma once
// Sizing and timing of the data plane, set from sipalgd's command line (control/sipalgd.cpp).
#include <cstdint>

namespace sipalg::dp {

struct options {
    std::uint32_t mbufs = 16384;         // mbufs in the packet pool
    std::uint16_t mbuf_data_room = 2048; // bytes of packet data per mbuf (net_af_packet needs its frame size)
    std::uint16_t rx_descriptors = 1024; // per RX queue
    std::uint16_t tx_descriptors = 1024; // per TX queue
    std::uint32_t handoff_ring_size = 2048;
    std::uint32_t log_ring_size = 16384;   // log records a worker may hold for the control core (power of two)
    std::uint32_t arp_entries = 4096;      // neighbour entries per worker
    std::uint32_t arp_timeout_s = 300;     // an entry is re-probed (used) or dropped (idle) after this
    std::uint32_t arp_hold = 8;            // packets held per unresolved neighbour
    std::uint32_t frag_entries = 4096;     // datagrams in reassembly per worker
    std::uint32_t frag_timeout_ms = 5000;  // an incomplete datagram is dropped after this
    std::uint32_t sessions = 1u << 20;      // sessions per worker (memory is touched only as they are used)
    std::uint32_t pinholes = 1u << 16;     // SIP media and registration pinholes per worker
    std::uint32_t sip_connections = 16384; // SIP sessions with state beyond their slot (every SIP/TCP connection) per worker
    std::uint32_t sip_tcp_buffers = 1024;  // SIP/TCP directions holding bytes at once, per worker
    std::uint32_t sip_tcp_pages = 8192;    // 2 KiB pages for the bytes they hold, per worker
    std::uint32_t session_time_scale = 1;  // session clock speed-up (tests: timeouts in a fraction of the time)
    std::uint32_t icmp_rate = 100;         // ICMP errors per second per worker (token bucket)
    std::uint32_t idle_sleep_us = 0;       // sleep when a worker found no work; 0 = pure polling
    bool exit_when_drained = false;        // stop once every input is idle (pcap tests)
};

} // namespace sipalg::dp
