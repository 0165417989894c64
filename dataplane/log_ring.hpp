#pragma once
// What a worker has to log (ARCHITECTURE.md "Logs"): records of fixed size in a ring of its own, which
// the control core drains, formats and sends. The worker never waits: a full ring loses the record and
// the worker counts it (log_records_lost). One producer (the worker), one consumer (the control core):
// a record is written in place, then published by one release store of the head; the consumer reads it
// in place and hands the slot back by one release store of the tail. Nothing allocates after
// construction, and nothing here calls into DPDK or the system.
#include <array>
#include <atomic>
#include <cstdint>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace sipalg::dp {

enum class log_kind : std::uint8_t {
    call_start,    // 44032: a call the ALG follows began (its INVITE passed)
    call_end,      // 44032: it ended (BYE, CANCEL, a failure, a timer, a clear)
    sip_block,     // 44033: a SIP message the ALG blocked (a method, a rate, max-dialogs)
    sip_malformed, // 44034: a SIP message a syntax check found fault with (whatever its action)
    traffic_close, // 13: a session ended, of a policy with logtraffic all (or utm, for the SIP ALG's)
};

// How a session ended (log_record::detail of traffic_close).
enum class log_session_end : std::uint8_t { expired, cleared, policy_gone, closed };

// Why a call ended (log_record::detail of call_end).
enum class call_end_reason : std::uint8_t { signalled, invite_expired, keepalive, idle_dialogs, cleared };

// Why a call ended (call_end), or what a violation was (sip_block: sip::drop_reason; sip_malformed: the
// sip::check, in `detail`).
struct alignas(64) log_record {
    std::uint64_t tsc = 0;        // when (the worker's TSC: the control core knows the wall clock of it)
    std::uint32_t session_id = 0; // the signalling session's slot
    std::uint32_t policy_id = 0;
    std::uint32_t src = 0;        // the signalling session's addresses and ports as the message travelled
    std::uint32_t dst = 0;
    std::uint16_t sport = 0;
    std::uint16_t dport = 0;
    std::uint32_t duration_s = 0; // call_end: from the INVITE
    std::uint64_t call_key = 0;   // the call (call_start and call_end of one call share it)
    std::int16_t voip_profile = -1;
    log_kind kind = log_kind::call_start;
    std::uint8_t proto = 17;
    std::uint8_t worker = 0;
    std::uint8_t reply = 0;       // the message went the session's reply way (dir="session_reply")
    std::uint8_t request = 1;     // a request (message_type), else a response
    std::uint8_t action = 0;      // sip_block, sip_malformed: 0 pass, 1 drop, 2 respond
    std::uint8_t detail = 0;      // call_end: why; sip_block: sip::drop_reason; sip_malformed: sip::check
    std::uint8_t method = 0;      // sip::method (request_name)
    std::uint16_t status = 0;     // a response's status; call_end: the status that ended it, if any
    std::uint32_t line = 0;       // sip_malformed: the line of the fault (1: the start line)
    std::uint32_t column = 0;     // and its column
    // traffic_close: what the session carried and how it was translated (`src` .. `dport`: the
    // originator's packets as they arrived).
    std::uint64_t sent_bytes = 0; // originator to responder
    std::uint64_t rcvd_bytes = 0;
    std::uint64_t sent_packets = 0;
    std::uint64_t rcvd_packets = 0;
    std::uint32_t trans_ip = 0;   // SNAT: the source it left with; DNAT: the destination it went to
    std::uint16_t trans_port = 0;
    std::uint16_t in_interface = 0;
    std::uint16_t out_interface = 0;
    std::uint8_t trandisp = 0;    // 0 none, 1 snat, 2 dnat, 3 both
    std::uint8_t tcp_closed = 0;  // a TCP session that closed (FIN both ways, or RST)
    std::uint8_t call_id_length = 0;
    std::uint8_t from_length = 0;
    std::uint8_t to_length = 0;
    std::uint8_t text_length = 0; // sip_malformed: what was found (malform_desc)
    std::array<char, 64> call_id{};
    std::array<char, 128> from{};
    std::array<char, 128> to{};
    std::array<char, 48> text{};

    // Every field before the texts to its initial value, and nothing else: a record crosses from the
    // worker's cache to the control core's and back, and each of its cache lines written costs that
    // trip; the texts are written only as far as they go, and read only as far as their lengths say.
    void clear_head() noexcept
    {
        std::memset(static_cast<void*>(this), 0, offsetof(log_record, call_id));
        voip_profile = -1;
        proto = 17;
        request = 1;
    }

    std::string_view call_id_text() const noexcept { return {call_id.data(), call_id_length}; }
    std::string_view from_text() const noexcept { return {from.data(), from_length}; }
    std::string_view to_text() const noexcept { return {to.data(), to_length}; }
    std::string_view detail_text() const noexcept { return {text.data(), text_length}; }

    // Copies `s` into `field` (cut to its size), setting `length`.
    template <std::size_t N>
    static void put(std::array<char, N>& field, std::uint8_t& length, std::string_view s) noexcept
    {
        const std::size_t n = s.size() < N ? s.size() : N;
        if (n != 0) {
            std::memcpy(field.data(), s.data(), n);
        }
        length = static_cast<std::uint8_t>(n);
    }
};

// Records of type T from one producer (a worker) to one consumer (the control core).
template <class T>
class record_ring {
public:
    // `capacity`: a power of two.
    explicit record_ring(std::uint32_t capacity)
        : mask_(capacity - 1), slots_(std::make_unique<T[]>(capacity))
    {
    }

    // The producer's next slot to fill, or null when the ring is full. commit() publishes it.
    T* reserve() noexcept
    {
        const std::uint32_t head = head_.load(std::memory_order_relaxed);
        if (head - tail_cache_ > mask_) {
            tail_cache_ = tail_.load(std::memory_order_acquire);
            if (head - tail_cache_ > mask_) {
                return nullptr;
            }
        }
        return &slots_[head & mask_];
    }
    void commit() noexcept
    {
        const std::uint32_t head = head_.load(std::memory_order_relaxed) + 1;
        head_.store(head, std::memory_order_release);
        // The next record's head, asked for with intent to write: its lines come back from the control
        // core's cache while the worker does other things.
        const auto* next = reinterpret_cast<const char*>(&slots_[head & mask_]);
        __builtin_prefetch(next, 1);
        __builtin_prefetch(next + 64, 1);
    }

    // The consumer: the oldest record not yet read, or null; release() hands it back.
    const T* peek() noexcept
    {
        const std::uint32_t tail = tail_.load(std::memory_order_relaxed);
        if (tail == head_cache_) {
            head_cache_ = head_.load(std::memory_order_acquire);
            if (tail == head_cache_) {
                return nullptr;
            }
        }
        return &slots_[tail & mask_];
    }
    void release() noexcept
    {
        tail_.store(tail_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    }

private:
    // Each side's index on its own cache line, with its cached copy of the other's.
    alignas(64) std::atomic<std::uint32_t> head_{0};
    std::uint32_t tail_cache_ = 0;
    alignas(64) std::atomic<std::uint32_t> tail_{0};
    std::uint32_t head_cache_ = 0;
    alignas(64) std::uint32_t mask_;
    std::unique_ptr<T[]> slots_;
};

using log_ring = record_ring<log_record>;

} // namespace sipalg::dp
