// libFuzzer target: the receive checks of nat/ipv4.hpp read only inside the bytes they are given, and a
// header they accept keeps a valid checksum through the TTL decrement.
#include "nat/ipv4.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    // A copy of exactly `size` bytes, so the sanitizer catches any read past them.
    std::vector<std::uint8_t> bytes(data, data + size);
    const auto r = sipalg::check_ipv4(bytes.data(), bytes.size());
    if (r.error == sipalg::ipv4_error::ok && r.header_length == 20) {
        sipalg::ipv4_header h;
        std::memcpy(&h, bytes.data(), sizeof h);
        if (h.ttl > 1) {
            sipalg::decrement_ttl(h);
            if (!sipalg::ipv4_header_csum20_ok(&h)) {
                std::abort();
            }
        }
    }
    return 0;
}
