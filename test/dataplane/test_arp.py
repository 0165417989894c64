"""ARP (RFC 826) on sipalgd's interfaces: replies for our addresses, resolution with retries, learning
rules, conflicts and malformed packets."""
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from pcap_env import INSIDE_MAC, OUTSIDE_MAC, PORT1_MAC, WAN1_MAC, config, from_inside, inside_arp_request
from sipalg_tools import tshark
from sipalg_tools.daemon import run_pcap


def test_request_for_our_address_gets_a_reply_from_our_mac():
    run = run_pcap(config(), [[inside_arp_request()], None])
    assert run.returncode == 0, run.stderr
    rows = tshark.fields(run.outputs[0], ['eth.src', 'eth.dst', 'arp.opcode', 'arp.src.hw_mac', 'arp.src.proto_ipv4',
                                          'arp.dst.hw_mac', 'arp.dst.proto_ipv4'])
    assert rows == [{'eth.src': PORT1_MAC, 'eth.dst': INSIDE_MAC, 'arp.opcode': '2', 'arp.src.hw_mac': PORT1_MAC,
                     'arp.src.proto_ipv4': '10.0.1.1', 'arp.dst.hw_mac': INSIDE_MAC,
                     'arp.dst.proto_ipv4': '10.0.1.2'}]
    assert run.counter('arp_requests_in') == 1
    assert run.counter('arp_replies_sent') == 1
    assert run.counter('arp_learned') == 1


def test_request_for_another_address_is_not_answered_and_not_learned():
    other = Ether(src=INSIDE_MAC, dst='ff:ff:ff:ff:ff:ff') / ARP(op=1, hwsrc=INSIDE_MAC, psrc='10.0.1.2',
                                                                 pdst='10.0.1.77')
    # A packet to 10.0.1.2 afterwards must still need resolution: nothing was learned.
    later = Ether(src=OUTSIDE_MAC, dst=WAN1_MAC) / IP(src='198.51.100.2', dst='10.0.1.2') / UDP() / Raw(b'x')
    run = run_pcap(config(), [[other], [later]], extra=['--arp-timeout', '300'])
    assert run.counter('arp_replies_sent') == 0
    assert run.counter('arp_learned') == 0
    assert run.counter('arp_requests_sent') >= 1
    assert run.counter('drop_arp_unresolved') == 1


def test_unanswered_resolution_sends_three_requests_then_drops_the_held_packets():
    packets = [from_inside(IP(src='10.0.1.2', dst='198.51.100.9') / UDP(sport=1, dport=2)) for _ in range(3)]
    run = run_pcap(config(), [packets, None])
    assert run.returncode == 0, run.stderr
    requests = tshark.fields(run.outputs[1], ['arp.opcode', 'arp.dst.proto_ipv4'], 'arp')
    assert requests == [{'arp.opcode': '1', 'arp.dst.proto_ipv4': '198.51.100.9'}] * 3
    assert run.counter('arp_held') == 3
    assert run.counter('drop_arp_unresolved') == 3
    assert tshark.count(run.outputs[1], 'udp') == 0


def test_hold_queue_is_bounded():
    packets = [from_inside(IP(src='10.0.1.2', dst='198.51.100.9') / UDP(sport=i, dport=2)) for i in range(6)]
    run = run_pcap(config(), [packets, None], extra=['--arp-hold', '4'])
    assert run.counter('arp_held') == 4
    assert run.counter('drop_arp_hold_full') == 2
    assert run.counter('drop_arp_unresolved') == 4


def test_someone_else_claiming_our_address_is_a_conflict():
    claim = Ether(src='02:66:66:66:66:66', dst='ff:ff:ff:ff:ff:ff') / ARP(
        op=2, hwsrc='02:66:66:66:66:66', psrc='10.0.1.1', pdst='10.0.1.1')
    run = run_pcap(config(), [[claim], None])
    assert run.counter('drop_arp_conflict') == 1
    assert tshark.count(run.outputs[0]) == 0


def test_malformed_arp_is_dropped():
    bad_len = Ether(src=INSIDE_MAC, dst='ff:ff:ff:ff:ff:ff') / ARP(op=1, hwsrc=INSIDE_MAC, psrc='10.0.1.2',
                                                                   pdst='10.0.1.1', plen=16)
    bad_op = Ether(src=INSIDE_MAC, dst='ff:ff:ff:ff:ff:ff') / ARP(op=9, hwsrc=INSIDE_MAC, psrc='10.0.1.2',
                                                                  pdst='10.0.1.1')
    short = Ether(src=INSIDE_MAC, dst='ff:ff:ff:ff:ff:ff', type=0x0806) / Raw(b'\x00\x01\x08\x00\x06\x04')
    run = run_pcap(config(), [[bad_len, bad_op, short], None])
    assert run.counter('drop_arp_malformed') == 3
    assert run.counter('arp_replies_sent') == 0


def test_off_link_sender_is_answered_but_not_learned():
    # RFC 1812 §3.3.2: learn only senders on the interface's subnet.
    stray = Ether(src=INSIDE_MAC, dst='ff:ff:ff:ff:ff:ff') / ARP(op=1, hwsrc=INSIDE_MAC, psrc='172.31.0.9',
                                                                 pdst='10.0.1.1')
    run = run_pcap(config(), [[stray], None])
    assert run.counter('arp_replies_sent') == 1
    assert run.counter('arp_learned') == 0


def test_two_workers_both_learn_from_one_reply():
    # Sources hash to both workers; the one ARP reply reaches only the polling worker, which copies it.
    packets = [from_inside(IP(src=f'10.0.1.{2 + i}', dst='198.51.100.7') / UDP(sport=i, dport=2)) for i in range(8)]
    reply = Ether(src='02:00:00:00:01:07', dst=WAN1_MAC) / ARP(op=2, hwsrc='02:00:00:00:01:07', psrc='198.51.100.7',
                                                               hwdst=WAN1_MAC, pdst='198.51.100.1')
    run = run_pcap(config(), [packets, [reply]], workers=2)
    assert run.returncode == 0, run.stderr
    udp = tshark.fields(run.outputs[1], ['eth.dst'], 'udp')
    assert len(udp) == 8
    assert all(r['eth.dst'] == '02:00:00:00:01:07' for r in udp)
    assert [w['arp_learned'] for w in run.stats['workers']] == [1, 1]
    assert run.counter('handoff_out') >= 1
