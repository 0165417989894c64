// See bpf_prefilter.hpp.
#include "control/bpf_prefilter.hpp"

#include <array>
#include <optional>
#include <utility>
#include <vector>

namespace sipalg::control {

namespace {

// Whether a classic BPF program can accept any frame whose only known bytes are `known` (offset, value),
// every other byte and the length being anything: its paths explored with each value known or not, a
// branch on an unknown value taking both ways (cBPF jumps only forward, so every path ends). True when
// some path may return non-zero, or when the exploration is too long to finish.
class may_accept {
public:
    may_accept(const bpf_program& p, std::vector<std::pair<std::uint32_t, std::uint8_t>> known)
        : p_(p), known_(std::move(known))
    {
    }
    bool operator()()
    {
        return walk(0, {}, {}, {});
    }

private:
    struct val {
        bool known = false;
        std::uint32_t v = 0;
    };
    std::optional<std::uint8_t> byte(std::uint32_t at) const
    {
        for (const auto& [o, b] : known_) {
            if (o == at) {
                return b;
            }
        }
        return std::nullopt;
    }
    val load(std::uint32_t at, unsigned size) const
    {
        std::uint32_t v = 0;
        for (unsigned i = 0; i < size; ++i) {
            const auto b = byte(at + i);
            if (!b) {
                return {};
            }
            v = v << 8 | *b;
        }
        return {true, v};
    }
    bool walk(std::uint32_t pc, val a, val x, std::array<val, BPF_MEMWORDS> mem)
    {
        while (pc < p_.bf_len) {
            if (++steps_ > 100000) {
                return true; // too many paths to be sure: run the filter
            }
            const bpf_insn& i = p_.bf_insns[pc];
            const unsigned size = BPF_SIZE(i.code) == BPF_W ? 4 : BPF_SIZE(i.code) == BPF_H ? 2 : 1;
            switch (BPF_CLASS(i.code)) {
            case BPF_LD:
                switch (BPF_MODE(i.code)) {
                case BPF_ABS: a = load(i.k, size); break;
                case BPF_IND: a = x.known ? load(x.v + i.k, size) : val{}; break;
                case BPF_IMM: a = {true, i.k}; break;
                case BPF_MEM: a = i.k < BPF_MEMWORDS ? mem[i.k] : val{}; break;
                default: a = {}; break; // BPF_LEN
                }
                break;
            case BPF_LDX:
                switch (BPF_MODE(i.code)) {
                case BPF_IMM: x = {true, i.k}; break;
                case BPF_MEM: x = i.k < BPF_MEMWORDS ? mem[i.k] : val{}; break;
                case BPF_MSH: {
                    const auto b = byte(i.k);
                    x = b ? val{true, static_cast<std::uint32_t>(*b & 0x0f) * 4} : val{};
                    break;
                }
                default: x = {}; break;
                }
                break;
            case BPF_ST:
                if (i.k < BPF_MEMWORDS) {
                    mem[i.k] = a;
                }
                break;
            case BPF_STX:
                if (i.k < BPF_MEMWORDS) {
                    mem[i.k] = x;
                }
                break;
            case BPF_ALU: {
                const val s = BPF_SRC(i.code) == BPF_X ? x : val{true, i.k};
                if (BPF_OP(i.code) == BPF_NEG) {
                    a = a.known ? val{true, 0u - a.v} : val{};
                    break;
                }
                if (!a.known || !s.known) {
                    a = {};
                    break;
                }
                switch (BPF_OP(i.code)) {
                case BPF_ADD: a.v += s.v; break;
                case BPF_SUB: a.v -= s.v; break;
                case BPF_MUL: a.v *= s.v; break;
                case BPF_DIV:
                case BPF_MOD:
                    if (s.v == 0) {
                        return false; // the program ends, taking nothing
                    }
                    a.v = BPF_OP(i.code) == BPF_DIV ? a.v / s.v : a.v % s.v;
                    break;
                case BPF_AND: a.v &= s.v; break;
                case BPF_OR: a.v |= s.v; break;
                case BPF_XOR: a.v ^= s.v; break;
                case BPF_LSH: a.v = s.v < 32 ? a.v << s.v : 0; break;
                case BPF_RSH: a.v = s.v < 32 ? a.v >> s.v : 0; break;
                default: a = {}; break;
                }
                break;
            }
            case BPF_JMP: {
                if (BPF_OP(i.code) == BPF_JA) {
                    pc += 1 + i.k;
                    continue;
                }
                const val s = BPF_SRC(i.code) == BPF_X ? x : val{true, i.k};
                const std::uint32_t yes = pc + 1 + i.jt;
                const std::uint32_t no = pc + 1 + i.jf;
                if (!a.known || !s.known) {
                    if (walk(yes, a, x, mem)) {
                        return true;
                    }
                    pc = no;
                    continue;
                }
                bool taken = false;
                switch (BPF_OP(i.code)) {
                case BPF_JEQ: taken = a.v == s.v; break;
                case BPF_JGT: taken = a.v > s.v; break;
                case BPF_JGE: taken = a.v >= s.v; break;
                case BPF_JSET: taken = (a.v & s.v) != 0; break;
                default: return true;
                }
                pc = taken ? yes : no;
                continue;
            }
            case BPF_RET: {
                const val r = BPF_RVAL(i.code) == BPF_K ? val{true, i.k} : BPF_RVAL(i.code) == BPF_A ? a : x;
                return !r.known || r.v != 0;
            }
            case BPF_MISC:
                if (BPF_MISCOP(i.code) == BPF_TAX) {
                    x = a;
                } else {
                    a = x;
                }
                break;
            default:
                return true;
            }
            ++pc;
        }
        return true; // fell off the end: not a valid program, run it as it is
    }

    const bpf_program& p_;
    std::vector<std::pair<std::uint32_t, std::uint8_t>> known_;
    unsigned steps_ = 0;
};

} // namespace

sniff_prefilter prefilter_of(const bpf_program& p)
{
    sniff_prefilter f;
    f.active = true;
    for (unsigned proto = 0; proto < 256; ++proto) {
        if (may_accept(p, {{12, 0x08}, {13, 0x00}, {23, static_cast<std::uint8_t>(proto)}})()) {
            f.ipv4[proto >> 6] |= std::uint64_t{1} << (proto & 63);
        }
    }
    f.arp = may_accept(p, {{12, 0x08}, {13, 0x06}})();
    f.ipv6 = may_accept(p, {{12, 0x86}, {13, 0xdd}})();
    return f;
}


} // namespace sipalg::control
