-- Pktgen-DPDK script: replays a capture through sipalgd and reports the throughput, for captures of SIP
-- calls (scripts/bench/pktgen/run makes one: INVITEs with SDP and their RTP) or any other traffic. Load
-- the capture on the sending port with Pktgen's -s option:
--
--   pktgen -l 0-2 -n 4 -a <nic0> -a <nic1> -- -P -m "[1].0,[2].1" -s 0:calls.pcap \
--       -f scripts/bench/pktgen/pcap-replay.lua
--
-- The capture's destination MACs must be sipalgd's inside interface (rewrite them with tcprewrite or
-- generate the capture for your MACs). From the environment (scripts/bench/pktgen/run sets them):
--   PKTGEN_SECONDS  how long to replay      PKTGEN_RATE  percent of the port's rate
--   PKTGEN_COUNT    set: report the packets sent and received (a functional run) instead of a rate
--   PKTGEN_QUIT     quit Pktgen at the end (a run without a console)
package.path = package.path .. ";?.lua;test/?.lua;app/?.lua;"
require "Pktgen"

local tx, rx = "0", "1"
local seconds = tonumber(os.getenv("PKTGEN_SECONDS") or "10")
local functional = os.getenv("PKTGEN_COUNT") ~= nil

pktgen.screen("off")
pktgen.set(tx, "rate", tonumber(os.getenv("PKTGEN_RATE") or "100"))
pktgen.pcap(tx, "on")
pktgen.clr()
local before = pktgen.portStats("all", "port")
pktgen.start(tx)
if not functional then
    pktgen.delay(2000)
    before = pktgen.portStats("all", "port")
end
pktgen.delay(seconds * 1000)
local after = pktgen.portStats("all", "port")
pktgen.stop(tx)
if functional then
    pktgen.delay(2000) -- the last packets through
    after = pktgen.portStats("all", "port")
end
local sent = after[tonumber(tx)].opackets - before[tonumber(tx)].opackets
local got = after[tonumber(rx)].ipackets - before[tonumber(rx)].ipackets
if functional then
    printf("result pktgen_replay_sent %d packets\n", sent)
    printf("result pktgen_replay_received %d packets\n", got)
else
    printf("result pktgen_replay_mpps %.3f Mpps\n", got / seconds / 1e6)
    printf("result pktgen_replay_loss %.4f %%\n", sent > 0 and 100 * (sent - got) / sent or 0)
end
io.stdout:flush()
if os.getenv("PKTGEN_QUIT") then
    pktgen.quit()
end
