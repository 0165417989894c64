"""Fixtures of the pcap tests: sipalgd runs over net_pcap ports fed from captures made here with scapy
and exits once they are drained; tshark reads what it sent."""
import contextlib
import os
import time

import pytest

from sipalg_tools import tshark

PORT1_MAC = '02:00:00:00:00:01'
WAN1_MAC = '02:00:00:00:01:01'
INSIDE_MAC = '02:00:00:00:00:02'      # 10.0.1.2, an inside host
OUTSIDE_MAC = '02:00:00:00:01:02'     # 198.51.100.2, a static neighbour on wan1
GATEWAY_MAC = '02:00:00:00:01:fe'     # 198.51.100.254, learned by ARP

# Two interfaces on net_pcap0 and net_pcap1 with fixed MACs; a static neighbour; a gateway route; one
# policy that lets everything through unchanged (routing tests; the NAT tests bring their own).
CONFIG = f"""
system:
  interface:
    port1: {{dpdk-port: net_pcap0, ip: 10.0.1.1/24, macaddr: "{PORT1_MAC}", allowaccess: ping}}
    wan1: {{dpdk-port: net_pcap1, ip: 198.51.100.1/24, macaddr: "{WAN1_MAC}"{{wan1_extra}}}}
  arp-table:
    1: {{interface: wan1, ip: 198.51.100.2, mac: "{OUTSIDE_MAC}"}}
router:
  static:
    1: {{dst: 203.0.113.0/24, gateway: 198.51.100.254}}
    2: {{dst: 192.0.2.128/25, blackhole: enable}}
firewall:
  policy:
    1: {{name: routed, srcintf: any, dstintf: any, srcaddr: all, dstaddr: all, action: accept}}
"""

# The SIP tests' appliance: the inside subnet out through wan1 with source NAT, two static neighbours
# (the phone 10.0.1.2 and the far end 198.51.100.2); more arp-table entries go before `firewall:`.
SIP_BASE = f"""
system:
  interface:
    port1: {{dpdk-port: net_pcap0, ip: 10.0.1.1/24, macaddr: "{PORT1_MAC}"}}
    wan1: {{dpdk-port: net_pcap1, ip: 198.51.100.1/24, macaddr: "{WAN1_MAC}"}}
  arp-table:
    1: {{interface: wan1, ip: 198.51.100.2, mac: "{OUTSIDE_MAC}"}}
    2: {{interface: port1, ip: 10.0.1.2, mac: "{INSIDE_MAC}"}}
firewall:
  policy:
    1: {{name: voip-out, srcintf: port1, dstintf: wan1, srcaddr: all, dstaddr: all, action: accept,
        service: ALL, nat: enable}}
"""
# The session helper for SIP over UDP and TCP: FortiOS's factory entry 13 is UDP only.
HELPER_UDP_TCP = ('system:\n  settings: {default-voip-alg-mode: kernel-helper-based}\n'
                  '  session-helper: {13: {name: sip, protocol: 17, port: 5060}, 14: {name: sip, protocol: 6, port: 5060}}\n')


def sip_config(engine, more_arp=''):
    """SIP_BASE under the ALG ('alg') or the session helper, with `more_arp` arp-table lines."""
    text = SIP_BASE.replace('firewall:\n', more_arp + 'firewall:\n', 1)
    return text if engine == 'alg' else text.replace('system:\n', HELPER_UDP_TCP, 1)


def sip(text, body=''):
    """A SIP message written with \\n line ends (as in the tests), with CRLF and its Content-Length."""
    head = text.strip('\n').replace('\n', '\r\n') + '\r\n'
    b = body.strip('\n').replace('\n', '\r\n') + '\r\n' if body else ''
    return (head + f'Content-Length: {len(b)}\r\n\r\n' + b).encode()


def config(wan1_extra=''):
    return CONFIG.replace('{wan1_extra}', wan1_extra)


@pytest.fixture(scope='session', autouse=True)
def need_tshark():
    if not tshark.available():
        pytest.fail('tshark is missing: run scripts/setup')


def inside_arp_request():
    """The inside host asks for its gateway first, as a real host does; sipalgd answers and learns it."""
    from scapy.layers.l2 import ARP, Ether
    return Ether(src=INSIDE_MAC, dst='ff:ff:ff:ff:ff:ff') / ARP(
        op=1, hwsrc=INSIDE_MAC, psrc='10.0.1.2', pdst='10.0.1.1')


def from_inside(l3, dst_mac=PORT1_MAC):
    from scapy.layers.l2 import Ether
    return Ether(src=INSIDE_MAC, dst=dst_mac) / l3


def from_outside(l3, src_mac=OUTSIDE_MAC):
    from scapy.layers.l2 import Ether
    return Ether(src=src_mac, dst=WAN1_MAC) / l3


@contextlib.contextmanager
def replaying_daemon(tmp_path, packets, config_text, tag, extra=(), sock=None, cfg=None, outside=None):
    """sipalgd replaying `packets` from memory (net_pcap0, infinite_rx) into net_null0, so it forwards
    all along, with a control socket of its own (`sock`, or one in tmp_path) and the configuration file
    `cfg` (or one in tmp_path; written with config_text); stopped on leaving. With `outside`, the second
    port is net_pcap1 replaying those packets too (the far side answering, over and over). The daemon
    carries `sock`, `cfg`, `eal`, `opts` and `tmp` for tests that talk to it or start it again."""
    from scapy.utils import wrpcap
    from sipalg_tools.daemon import Daemon, eal_args, unique_prefix
    rx = tmp_path / 'loop.pcap'
    wrpcap(str(rx), packets)
    second = 'net_null0,no-rx=1'
    if outside is not None:
        wrpcap(str(tmp_path / 'loop1.pcap'), outside)
        second = f'net_pcap1,rx_pcap={tmp_path / "loop1.pcap"},infinite_rx=1,tx_pcap=/dev/null'
    cfg = cfg or tmp_path / 'sipalg.yaml'
    cfg.write_text(config_text)
    sock = sock or str(tmp_path / 'ctl.sock')
    eal = eal_args(unique_prefix(tag), [f'net_pcap0,rx_pcap={rx},infinite_rx=1', second])
    opts = ['--config', str(cfg), '--mbufs', '8192', '--control-socket', sock] + list(extra)
    d = Daemon(eal, opts, log_path=tmp_path / 'sipalgd.log')
    d.cfg, d.sock, d.eal, d.opts, d.tmp = cfg, sock, eal, opts, tmp_path
    try:
        d.wait_ready()
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        yield d
    finally:
        d.stop()


def filler(inside=True):
    """A frame for another MAC: dropped (drop_l2_other_host), it only takes a place in a burst."""
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    return Ether(src=INSIDE_MAC if inside else OUTSIDE_MAC, dst='02:00:00:00:00:99') / IP() / UDP()


def sequenced(steps):
    """The two ports' inputs for `steps`, a list of (0 or 1, packet) meaning "this packet arrives on port 0
    (inside) or 1 (outside) now": a worker polls port 0 then port 1, 32 frames each, so each change back
    from port 1 to port 0 starts a new round, and every round but the last is filled to 32 frames a port."""
    rounds = [[[], []]]
    side_now = 0
    for side, packet in steps:
        r = rounds[-1]
        if side < side_now or len(r[side]) == 32:
            rounds.append([[], []])
            r = rounds[-1]
        side_now = side
        r[side].append(packet)
    inputs = [[], []]
    for i, r in enumerate(rounds):
        for side in (0, 1):
            inputs[side] += r[side]
            if i != len(rounds) - 1:
                inputs[side] += [filler(side == 0) for _ in range(32 - len(r[side]))]
    return inputs
