-- Pktgen-DPDK script: replays a capture through sipalgd and reports the throughput, for captures of SIP
-- calls (a generator for them comes with scripts/bench/calls) or any other traffic. Load the capture
-- on the sending port with Pktgen's -s option:
--
--   pktgen -l 0-2 -n 4 -a <nic0> -a <nic1> -- -P -m "[1].0,[2].1" -s 0:calls.pcap \
--       -f scripts/bench/pktgen/pcap-replay.lua
--
-- The capture's destination MACs must be sipalgd's inside interface (rewrite them with tcprewrite or
-- generate the capture for your MACs).
package.path = package.path .. ";?.lua;test/?.lua;app/?.lua;"
require "Pktgen"

local tx, rx = "0", "1"
local seconds = 10

pktgen.screen("off")
pktgen.set(tx, "rate", 100)
pktgen.set_pcap(tx, "on")
pktgen.clr()
pktgen.start(tx)
pktgen.delay(2000)
local before = pktgen.portStats("all", "port")
pktgen.delay(seconds * 1000)
local after = pktgen.portStats("all", "port")
pktgen.stop(tx)
local sent = after[tonumber(tx)].opackets - before[tonumber(tx)].opackets
local got = after[tonumber(rx)].ipackets - before[tonumber(rx)].ipackets
printf("result pktgen_replay_mpps %.3f Mpps\n", got / seconds / 1e6)
printf("result pktgen_replay_loss %.4f %%\n", sent > 0 and 100 * (sent - got) / sent or 0)
