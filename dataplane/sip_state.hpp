#pragma once
// What a worker keeps for its SIP engines (dataplane/sip.cpp), allocated once at start: the message
// index, the edit list, and the buffers a payload is read into and written from.
#include "sip/edit.hpp"
#include "sip/message.hpp"

#include <array>

namespace sipalg::dp {

struct sip_state {
    sip::message message;
    sip::edit_list edits;
    std::array<char, 65536> in;
    std::array<char, 65536 + sip::edit_list::arena_size> out;
};

} // namespace sipalg::dp
