-- Pktgen-DPDK script: the forwarding benchmark of scripts/bench/forwarding on real NICs.
--
-- Pktgen port 0 is cabled to sipalgd's inside interface (port1), Pktgen port 1 to its outside interface
-- (wan1). Port 0 sends UDP flows (sources walk 10.1.0.2.., source ports walk 1024..) to destinations in
-- 203.0.113.0/24, routed by sipalgd to its default gateway on wan1; port 1 counts what arrives.
-- Configure sipalgd with conf/bench-pktgen.yaml (set the MACs and DPDK ports of your machine).
--
--   pktgen -l 0-2 -n 4 -a <nic0> -a <nic1> -- -P -m "[1].0,[2].1" -f scripts/bench/pktgen/forwarding.lua
--
-- Edit the settings below, or set them in the environment (scripts/bench/pktgen/run does); results
-- print as the `result <name> <value> <unit>` lines of scripts/bench.
--   SIPALGD_PORT1_MAC  sipalgd's inside interface's MAC     PKTGEN_SIZES  frame sizes, e.g. "64,512"
--   PKTGEN_SECONDS     seconds measured per size            PKTGEN_RATE   percent of the port's rate
--   PKTGEN_COUNT       send this many packets per size and report sent and received (a functional
--                      run: every packet sent must come through) instead of a rate
--   PKTGEN_QUIT        quit Pktgen at the end (a run without a console)
package.path = package.path .. ";?.lua;test/?.lua;app/?.lua;"
require "Pktgen"

local tx, rx = "0", "1"
local sipalgd_port1_mac = os.getenv("SIPALGD_PORT1_MAC") or "02:00:00:00:00:01"
local flows_src_ips = 4096                      -- distinct source addresses
local flows_src_ports = 16                      -- distinct source ports per address
local sizes = {}
for size in string.gmatch(os.getenv("PKTGEN_SIZES") or "64,512,1518", "%d+") do
    sizes[#sizes + 1] = tonumber(size)
end
local seconds = tonumber(os.getenv("PKTGEN_SECONDS") or "10")
local rate = tonumber(os.getenv("PKTGEN_RATE") or "100")
local count = tonumber(os.getenv("PKTGEN_COUNT") or "0")

local function configure(size)
    pktgen.set(tx, "count", count)
    pktgen.set(tx, "rate", rate)
    pktgen.range.ip_proto(tx, "udp")
    pktgen.range.dst_mac(tx, "start", sipalgd_port1_mac)
    pktgen.range.src_ip(tx, "start", "10.1.0.2")
    pktgen.range.src_ip(tx, "inc", "0.0.0.1")
    pktgen.range.src_ip(tx, "min", "10.1.0.2")
    pktgen.range.src_ip(tx, "max", string.format("10.1.%d.%d", (flows_src_ips + 1) // 256, (flows_src_ips + 1) % 256))
    pktgen.range.dst_ip(tx, "start", "203.0.113.1")
    pktgen.range.dst_ip(tx, "inc", "0.0.0.1")
    pktgen.range.dst_ip(tx, "min", "203.0.113.1")
    pktgen.range.dst_ip(tx, "max", "203.0.113.250")
    pktgen.range.src_port(tx, "start", 1024)
    pktgen.range.src_port(tx, "inc", 1)
    pktgen.range.src_port(tx, "min", 1024)
    pktgen.range.src_port(tx, "max", 1024 + flows_src_ports - 1)
    pktgen.range.dst_port(tx, "start", 5000)
    pktgen.range.dst_port(tx, "inc", 0)
    pktgen.range.dst_port(tx, "min", 5000)
    pktgen.range.dst_port(tx, "max", 5000)
    pktgen.range.pkt_size(tx, "start", size)
    pktgen.range.pkt_size(tx, "inc", 0)
    pktgen.range.pkt_size(tx, "min", size)
    pktgen.range.pkt_size(tx, "max", size)
    pktgen.set_range(tx, "on")
end

pktgen.screen("off")
for _, size in ipairs(sizes) do
    configure(size)
    pktgen.clr()
    if count > 0 then
        -- Functional: a fixed number of packets, then time for the last ones to come through. A short
        -- burst first, not counted: until Pktgen's receiving port has polled once, its virtio ring may
        -- refuse sipalgd's first burst (sipalgd counts those in drop_tx_full).
        pktgen.set(tx, "count", 64)
        pktgen.start(tx)
        pktgen.delay(1000)
        pktgen.stop(tx)
        pktgen.set(tx, "count", count)
        local before = pktgen.portStats("all", "port")
        pktgen.start(tx)
        local waited = 0
        repeat
            pktgen.delay(500)
            waited = waited + 500
            local now = pktgen.portStats("all", "port")
            local got = now[tonumber(rx)].ipackets - before[tonumber(rx)].ipackets
        until got >= count or waited >= (seconds + 10) * 1000
        pktgen.delay(1000)
        local after = pktgen.portStats("all", "port")
        pktgen.stop(tx)
        printf("result pktgen_fwd_sent_%d %d packets\n", size, after[tonumber(tx)].opackets - before[tonumber(tx)].opackets)
        printf("result pktgen_fwd_received_%d %d packets\n", size, after[tonumber(rx)].ipackets - before[tonumber(rx)].ipackets)
        goto next_size
    end
    pktgen.start(tx)
    pktgen.delay(2000) -- warm-up: ARP for the gateway, caches
    local before = pktgen.portStats("all", "port")
    pktgen.delay(seconds * 1000)
    local after = pktgen.portStats("all", "port")
    pktgen.stop(tx)
    local sent = after[tonumber(tx)].opackets - before[tonumber(tx)].opackets
    local got = after[tonumber(rx)].ipackets - before[tonumber(rx)].ipackets
    printf("result pktgen_fwd_mpps_%d %.3f Mpps\n", size, got / seconds / 1e6)
    printf("result pktgen_fwd_loss_%d %.4f %%\n", size, sent > 0 and 100 * (sent - got) / sent or 0)
    pktgen.delay(2000)
    ::next_size::
end
io.stdout:flush()
if os.getenv("PKTGEN_QUIT") then
    pktgen.quit()
end
