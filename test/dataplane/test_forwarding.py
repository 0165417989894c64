"""Routed forwarding through sipalgd over net_pcap: TTL, MACs, checksums, routes, and the drops that
routing owes a name (RFC 1812 §5.3)."""
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from pcap_env import (GATEWAY_MAC, INSIDE_MAC, OUTSIDE_MAC, PORT1_MAC, WAN1_MAC, config, from_inside, from_outside,
                      inside_arp_request)
from sipalg_tools import tshark
from sipalg_tools.daemon import run_pcap


def udp_flows(n, dst='198.51.100.2'):
    return [from_inside(IP(src=f'10.0.1.{2 + i % 200}', dst=dst, ttl=64, id=i) /
                        UDP(sport=10000 + i, dport=5060) / Raw(b'flow-%d' % i)) for i in range(n)]


def test_routed_udp_leaves_with_ttl_minus_one_new_macs_and_valid_checksums():
    run = run_pcap(config(), [udp_flows(50), None])
    assert run.returncode == 0, run.stderr
    rows = tshark.fields(run.outputs[1], ['eth.src', 'eth.dst', 'ip.src', 'ip.dst', 'ip.ttl', 'ip.id',
                                          'ip.checksum.status', 'udp.srcport', 'udp.checksum.status', 'data.data'])
    assert len(rows) == 50
    for i, r in enumerate(rows):
        assert r['eth.src'] == WAN1_MAC
        assert r['eth.dst'] == OUTSIDE_MAC
        assert r['ip.src'] == f'10.0.1.{2 + i % 200}'
        assert r['ip.ttl'] == '63'
        assert r['ip.checksum.status'] == '1', r
        assert r['udp.srcport'] == str(10000 + i)
        assert r['udp.checksum.status'] == '1', r
        assert bytes.fromhex(r['data.data']) == b'flow-%d' % i
    assert run.counter('forwarded') == 50
    assert run.counter('rx_packets') == 50
    assert run.counter('tx_packets') == 50
    assert tshark.count(run.outputs[0]) == 0


def test_reply_direction_is_routed_to_the_inside_host_after_arp():
    # The inside host announces itself with an ARP request; the outside replies to it.
    inside = [inside_arp_request()]
    outside = [from_outside(IP(src='198.51.100.2', dst='10.0.1.2', ttl=30) / UDP(sport=5060, dport=10000) /
                            Raw(b'reply'))]
    run = run_pcap(config(), [inside, outside])
    assert run.returncode == 0, run.stderr
    rows = tshark.fields(run.outputs[0], ['eth.src', 'eth.dst', 'ip.ttl', 'ip.checksum.status'], 'udp')
    assert rows == [{'eth.src': PORT1_MAC, 'eth.dst': INSIDE_MAC, 'ip.ttl': '29', 'ip.checksum.status': '1'}]


def test_gateway_route_resolves_the_gateway_and_holds_the_packet_meanwhile():
    # Port 0 is polled before port 1 in each loop: the UDP is held, then the gateway's reply arrives.
    inside = [from_inside(IP(src='10.0.1.2', dst='203.0.113.9') / UDP(sport=1, dport=2) / Raw(b'via-gw'))]
    outside = [Ether(src=GATEWAY_MAC, dst=WAN1_MAC) /
               ARP(op=2, hwsrc=GATEWAY_MAC, psrc='198.51.100.254', hwdst=WAN1_MAC, pdst='198.51.100.1')]
    run = run_pcap(config(), [inside, outside])
    assert run.returncode == 0, run.stderr
    arp = tshark.fields(run.outputs[1], ['eth.dst', 'arp.opcode', 'arp.src.hw_mac', 'arp.src.proto_ipv4',
                                         'arp.dst.proto_ipv4'], 'arp')
    assert arp == [{'eth.dst': 'ff:ff:ff:ff:ff:ff', 'arp.opcode': '1', 'arp.src.hw_mac': WAN1_MAC,
                    'arp.src.proto_ipv4': '198.51.100.1', 'arp.dst.proto_ipv4': '198.51.100.254'}]
    udp = tshark.fields(run.outputs[1], ['eth.dst', 'ip.dst', 'ip.ttl'], 'udp')
    assert udp == [{'eth.dst': GATEWAY_MAC, 'ip.dst': '203.0.113.9', 'ip.ttl': '63'}]
    assert run.counter('arp_held') == 1
    assert run.counter('arp_learned') == 1


def test_no_route_drops_and_answers_net_unreachable():
    packets = [inside_arp_request(), from_inside(IP(src='10.0.1.2', dst='192.0.2.1') / UDP(sport=7, dport=9))]
    run = run_pcap(config(), [packets, None])
    assert run.counter('drop_no_route') == 1
    icmp = tshark.fields(run.outputs[0], ['ip.src', 'ip.dst', 'icmp.type', 'icmp.code', 'icmp.checksum.status'],
                         'icmp')
    # The outer header comes from port1's address; the quoted one is the packet that found no route.
    assert icmp == [{'ip.src': '10.0.1.1,10.0.1.2', 'ip.dst': '10.0.1.2,192.0.2.1', 'icmp.type': '3',
                     'icmp.code': '0', 'icmp.checksum.status': '1'}]
    assert tshark.count(run.outputs[1]) == 0


def test_blackhole_multicast_and_directed_broadcast_are_not_routed():
    packets = [
        from_inside(IP(src='10.0.1.2', dst='192.0.2.200') / UDP()),           # blackhole route
        from_inside(IP(src='10.0.1.2', dst='198.51.100.255') / UDP()),        # directed broadcast of wan1
        from_inside(IP(src='10.0.1.2', dst='239.1.1.1') / UDP()),             # multicast, unicast frame
        from_inside(IP(src='10.0.1.2', dst='239.1.1.1') / UDP(), dst_mac='01:00:5e:01:01:01'),
        from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / UDP(), dst_mac='ff:ff:ff:ff:ff:ff'),  # L2 broadcast
    ]
    run = run_pcap(config(), [packets, None])
    assert run.returncode == 0, run.stderr
    assert run.counter('drop_blackhole') == 1
    assert run.counter('drop_multicast') == 4
    assert run.counter('forwarded') == 0
    assert tshark.count(run.outputs[1]) == 0
    assert run.counter('icmp_errors_sent') == 0


def test_frames_for_other_hosts_and_other_protocols_are_dropped_by_name():
    packets = [
        from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / UDP(), dst_mac='02:00:00:00:00:99'),
        Ether(src=INSIDE_MAC, dst=PORT1_MAC) / IPv6(src='fe80::1', dst='fe80::2') / UDP(),
        Ether(src=INSIDE_MAC, dst=PORT1_MAC, type=0x88cc) / Raw(b'\x00' * 46),
    ]
    run = run_pcap(config(), [packets, None])
    assert run.counter('drop_l2_other_host') == 1
    assert run.counter('drop_l2_unsupported') == 2
    assert tshark.count(run.outputs[1]) == 0


def test_ethernet_padding_is_not_forwarded():
    # 28 bytes of IP in a 60-byte minimum frame: 18 bytes of padding after the IP datagram.
    frame = from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / UDP(sport=1, dport=2)) / Raw(b'\xee' * 18)
    frame[IP].len = 28
    frame[IP].chksum = None
    frame = Ether(bytes(frame))
    run = run_pcap(config(), [[frame], None])
    rows = tshark.fields(run.outputs[1], ['frame.len', 'ip.len', 'ip.checksum.status'])
    assert rows == [{'frame.len': '42', 'ip.len': '28', 'ip.checksum.status': '1'}]


def test_two_workers_forward_the_same_packets_with_handoff():
    flows = udp_flows(200)
    run = run_pcap(config(), [flows, None], workers=2)
    assert run.returncode == 0, run.stderr
    assert run.counter('forwarded') == 200
    assert len(run.stats['workers']) == 2
    # A single-queue pcap port is polled by one worker; the other owns half of the sources.
    assert run.counter('handoff_out') > 0
    assert run.counter('handoff_in') == run.counter('handoff_out')
    rows = tshark.fields(run.outputs[1], ['ip.src', 'udp.srcport', 'ip.ttl', 'ip.checksum.status'])
    assert sorted(int(r['udp.srcport']) for r in rows) == list(range(10000, 10200))
    assert all(r['ip.ttl'] == '63' and r['ip.checksum.status'] == '1' for r in rows)
