"""Stateful firewall and NAT over net_pcap: SNAT of UDP, TCP and ICMP echo with the replies back,
checked field by field with tshark; port collisions; deny and no-match; VIPs; ICMP errors translated
back; timeouts; a full session table; session lists and clears through telemetry.

Ordering: a worker polls port 0 then port 1 in each loop, up to 32 frames each. Packets of port 1
(outside) are therefore handled after the first 32 of port 0 (inside); `later()` puts 32 frames the
appliance drops in front of inside packets that must come after the outside ones."""
import json
import subprocess

import pytest

from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from pcap_env import INSIDE_MAC, OUTSIDE_MAC, PORT1_MAC, WAN1_MAC, from_inside, from_outside, inside_arp_request
from sipalg_tools import tshark
from sipalg_tools.daemon import Daemon, eal_args, run_pcap, unique_prefix

INSIDE2_MAC = '02:00:00:00:00:03'  # 10.0.1.3, a second inside host

BASE = f"""
system:
  interface:
    port1: {{dpdk-port: net_pcap0, ip: 10.0.1.1/24, macaddr: "{PORT1_MAC}", allowaccess: ping}}
    wan1: {{dpdk-port: net_pcap1, ip: 198.51.100.1/24, macaddr: "{WAN1_MAC}"{{wan1_extra}}}}
  arp-table:
    1: {{interface: wan1, ip: 198.51.100.2, mac: "{OUTSIDE_MAC}"}}
    2: {{interface: port1, ip: 10.0.1.2, mac: "{INSIDE_MAC}"}}
    3: {{interface: port1, ip: 10.0.1.3, mac: "{INSIDE2_MAC}"}}
"""

SNAT = """
firewall:
  policy:
    1:
      name: out
      srcintf: port1
      dstintf: wan1
      srcaddr: all
      dstaddr: all
      action: accept
      service: ALL
      nat: enable
"""


def cfg(firewall=SNAT, wan1_extra='', extra=''):
    return BASE.replace('{wan1_extra}', wan1_extra) + extra + firewall


def from_inside2(l3):
    return Ether(src=INSIDE2_MAC, dst=PORT1_MAC) / l3


def later(packets):
    """32 frames for another MAC (dropped as drop_l2_other_host) first: what follows is handled after the
    first burst of the other port."""
    filler = [Ether(src=INSIDE_MAC, dst='02:00:00:00:00:99') / IP(src='10.0.1.2', dst='198.51.100.2') / UDP()
              for _ in range(32)]
    return filler + packets


def test_udp_snat_to_wan1_address_and_replies_back():
    out = [from_inside(IP(src='10.0.1.2', dst='198.51.100.2', id=i) / UDP(sport=40000, dport=4444) / Raw(b'q%d' % i))
           for i in range(3)]
    back = [from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=4444, dport=40000) / Raw(b'a%d' % i))
            for i in range(3)]
    run = run_pcap(cfg(), [out, back])
    assert run.returncode == 0, run.stderr
    wan = tshark.fields(run.outputs[1], ['eth.src', 'eth.dst', 'ip.src', 'ip.dst', 'ip.ttl', 'ip.checksum.status',
                                         'udp.srcport', 'udp.dstport', 'udp.checksum.status', 'data.data'], 'udp')
    assert len(wan) == 3
    for i, r in enumerate(wan):
        assert (r['eth.src'], r['eth.dst']) == (WAN1_MAC, OUTSIDE_MAC)
        assert (r['ip.src'], r['ip.dst'], r['ip.ttl']) == ('198.51.100.1', '198.51.100.2', '63')
        assert (r['udp.srcport'], r['udp.dstport']) == ('40000', '4444')  # the port was free: kept
        assert (r['ip.checksum.status'], r['udp.checksum.status']) == ('1', '1'), r
        assert r['data.data'] == (b'q%d' % i).hex()
    inside = tshark.fields(run.outputs[0], ['eth.dst', 'ip.src', 'ip.dst', 'ip.checksum.status', 'udp.srcport',
                                            'udp.dstport', 'udp.checksum.status', 'data.data'], 'udp')
    assert len(inside) == 3
    for i, r in enumerate(inside):
        assert r['eth.dst'] == INSIDE_MAC
        assert (r['ip.src'], r['ip.dst'], r['udp.srcport'], r['udp.dstport']) == ('198.51.100.2', '10.0.1.2', '4444',
                                                                                  '40000')
        assert (r['ip.checksum.status'], r['udp.checksum.status']) == ('1', '1'), r
        assert r['data.data'] == (b'a%d' % i).hex()
    assert run.counter('sessions_created') == 1
    assert run.counter('forwarded') == 6


def test_udp_without_checksum_stays_without_one():
    pkt = from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / UDP(sport=40000, dport=53, chksum=0) / Raw(b'x'))
    run = run_pcap(cfg(), [[pkt], None])
    rows = tshark.fields(run.outputs[1], ['ip.src', 'udp.checksum'], 'udp')
    assert rows == [{'ip.src': '198.51.100.1', 'udp.checksum': '0x0000'}]


def test_tcp_snat_handshake_data_and_close_with_valid_checksums():
    c, s = 1000, 5000
    out = [
        from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / TCP(sport=41000, dport=80, flags='S', seq=c)),
        from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / TCP(sport=41000, dport=80, flags='A', seq=c + 1,
                                                                 ack=s + 1)),
        from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / TCP(sport=41000, dport=80, flags='PA', seq=c + 1,
                                                                 ack=s + 1) / Raw(b'GET / HTTP/1.0\r\n\r\n')),
        from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / TCP(sport=41000, dport=80, flags='FA', seq=c + 19,
                                                                 ack=s + 1)),
    ]
    back = [
        from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / TCP(sport=80, dport=41000, flags='SA', seq=s,
                                                                      ack=c + 1)),
        from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / TCP(sport=80, dport=41000, flags='PA', seq=s + 1,
                                                                      ack=c + 19) / Raw(b'HTTP/1.0 200 OK\r\n\r\n')),
        from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / TCP(sport=80, dport=41000, flags='FA', seq=s + 20,
                                                                      ack=c + 20)),
    ]
    run = run_pcap(cfg(), [out, back])
    wan = tshark.fields(run.outputs[1], ['ip.src', 'tcp.srcport', 'tcp.dstport', 'tcp.flags.str', 'tcp.seq_raw',
                                         'ip.checksum.status', 'tcp.checksum.status'], 'tcp')
    assert len(wan) == 4
    for r in wan:
        assert (r['ip.src'], r['tcp.srcport'], r['tcp.dstport']) == ('198.51.100.1', '41000', '80')
        assert (r['ip.checksum.status'], r['tcp.checksum.status']) == ('1', '1'), r
    assert [int(r['tcp.seq_raw']) for r in wan] == [c, c + 1, c + 1, c + 19]  # sequence numbers untouched
    inside = tshark.fields(run.outputs[0], ['ip.src', 'ip.dst', 'tcp.srcport', 'tcp.dstport', 'ip.checksum.status',
                                            'tcp.checksum.status', 'tcp.payload'], 'tcp')
    assert len(inside) == 3
    for r in inside:
        assert (r['ip.src'], r['ip.dst'], r['tcp.srcport'], r['tcp.dstport']) == ('198.51.100.2', '10.0.1.2', '80',
                                                                                  '41000')
        assert (r['ip.checksum.status'], r['tcp.checksum.status']) == ('1', '1'), r
    assert bytes.fromhex(inside[1]['tcp.payload'].replace(':', '')) == b'HTTP/1.0 200 OK\r\n\r\n'
    assert run.counter('sessions_created') == 1


def test_tcp_without_a_session_must_start_with_syn():
    pkts = [from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / TCP(sport=41001, dport=80, flags=f))
            for f in ('A', 'PA', 'SA', 'R')]
    run = run_pcap(cfg(), [pkts, None])
    assert run.counter('drop_tcp_no_syn') == 4
    assert run.counter('sessions_created') == 0
    assert tshark.count(run.outputs[1]) == 0


def test_icmp_echo_snat_and_reply():
    out = [from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / ICMP(type=8, id=0x1234, seq=i) / Raw(b'ping'))
           for i in range(2)]
    back = [from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / ICMP(type=0, id=0x1234, seq=i) / Raw(b'ping'))
            for i in range(2)]
    run = run_pcap(cfg(), [out, back])
    wan = tshark.fields(run.outputs[1], ['ip.src', 'icmp.ident', 'icmp.checksum.status'], 'icmp')
    assert wan == [{'ip.src': '198.51.100.1', 'icmp.ident': '4660', 'icmp.checksum.status': '1'}] * 2
    inside = tshark.fields(run.outputs[0], ['ip.dst', 'icmp.type', 'icmp.ident', 'icmp.checksum.status'], 'icmp')
    assert inside == [{'ip.dst': '10.0.1.2', 'icmp.type': '0', 'icmp.ident': '4660', 'icmp.checksum.status': '1'}] * 2


def test_port_collision_gives_the_second_host_a_new_port_and_both_get_their_replies():
    out = [from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / UDP(sport=5000, dport=53) / Raw(b'one')),
           from_inside2(IP(src='10.0.1.3', dst='198.51.100.2') / UDP(sport=5000, dport=53) / Raw(b'two'))]
    run1 = run_pcap(cfg(), [out, None])
    wan = tshark.fields(run1.outputs[1], ['ip.src', 'udp.srcport', 'udp.checksum.status', 'data.data'], 'udp')
    assert len(wan) == 2
    assert wan[0]['udp.srcport'] == '5000'
    new_port = int(wan[1]['udp.srcport'])
    assert new_port != 5000 and 1024 <= new_port <= 65535
    assert all(r['ip.src'] == '198.51.100.1' and r['udp.checksum.status'] == '1' for r in wan)
    assert run1.counter('nat_port_changed') == 1
    # Replies to both public ports reach the right inside host.
    back = [from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=53, dport=p) / Raw(b'r%d' % p))
            for p in (5000, new_port)]
    run2 = run_pcap(cfg(), [out, back])
    inside = tshark.fields(run2.outputs[0], ['eth.dst', 'ip.dst', 'udp.dstport', 'udp.checksum.status'], 'udp')
    assert inside == [
        {'eth.dst': INSIDE_MAC, 'ip.dst': '10.0.1.2', 'udp.dstport': '5000', 'udp.checksum.status': '1'},
        {'eth.dst': INSIDE2_MAC, 'ip.dst': '10.0.1.3', 'udp.dstport': '5000', 'udp.checksum.status': '1'},
    ]


DENY_FIRST = """
firewall:
  address:
    dns-server:
      subnet: 198.51.100.2/32
  policy:
    5:
      name: no-dns
      srcintf: port1
      dstintf: wan1
      dstaddr: dns-server
      service: DNS
      action: deny
    1:
      name: out
      srcintf: port1
      dstintf: wan1
      action: accept
      nat: enable
"""


def test_deny_policy_and_implicit_deny_drop_with_their_counters():
    out = [from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / UDP(sport=4000, dport=53)),   # policy 5: deny
           from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / UDP(sport=4000, dport=5060))]  # policy 1
    # Nothing allows wan1 -> port1: unsolicited traffic from outside to the inside is refused.
    back = [from_outside(IP(src='198.51.100.2', dst='10.0.1.2') / UDP(sport=9, dport=9)),
            from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=9, dport=40000))]
    run = run_pcap(cfg(DENY_FIRST), [out, back])
    assert run.counter('drop_policy_deny') == 1
    assert run.counter('drop_no_policy') == 1
    assert run.counter('drop_local_unhandled') == 1  # our address, no session on that port
    assert run.counter('sessions_created') == 1
    rows = tshark.fields(run.outputs[1], ['udp.dstport'], 'udp')
    assert rows == [{'udp.dstport': '5060'}]
    assert tshark.count(run.outputs[0], 'udp') == 0


VIP = """
firewall:
  vip:
    web:
      extintf: wan1
      extip: 198.51.100.10
      mappedip: 10.0.1.2
      portforward: enable
      protocol: udp
      extport: 8080
      mappedport: 80
  policy:
    1:
      name: out
      srcintf: port1
      dstintf: wan1
      action: accept
      nat: enable
    2:
      name: to-web
      srcintf: wan1
      dstintf: port1
      dstaddr: web
      action: accept
"""


def test_vip_forwards_inbound_to_the_mapped_server_and_its_replies_leave_as_the_vip():
    inbound = [from_outside(IP(src='198.51.100.2', dst='198.51.100.10') / UDP(sport=33000, dport=8080) / Raw(b'req')),
               # Not forwarded: another port of the VIP address.
               from_outside(IP(src='198.51.100.2', dst='198.51.100.10') / UDP(sport=33000, dport=8081))]
    reply = later([from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / UDP(sport=80, dport=33000) / Raw(b'resp'))])
    run = run_pcap(cfg(VIP), [reply, inbound])
    inside = tshark.fields(run.outputs[0], ['eth.dst', 'ip.src', 'ip.dst', 'udp.srcport', 'udp.dstport',
                                            'ip.checksum.status', 'udp.checksum.status'], 'udp')
    assert inside == [{'eth.dst': INSIDE_MAC, 'ip.src': '198.51.100.2', 'ip.dst': '10.0.1.2', 'udp.srcport': '33000',
                       'udp.dstport': '80', 'ip.checksum.status': '1', 'udp.checksum.status': '1'}]
    wan = tshark.fields(run.outputs[1], ['ip.src', 'ip.dst', 'udp.srcport', 'udp.dstport', 'udp.checksum.status'],
                        'udp')
    assert wan == [{'ip.src': '198.51.100.10', 'ip.dst': '198.51.100.2', 'udp.srcport': '8080',
                    'udp.dstport': '33000', 'udp.checksum.status': '1'}]
    assert run.counter('sessions_created') == 1
    assert run.counter('drop_no_policy') == 1  # 8081: no VIP, and no policy for the address itself


def test_vip_address_is_answered_by_arp_on_its_interface():
    who_has = Ether(src=OUTSIDE_MAC, dst='ff:ff:ff:ff:ff:ff') / ARP(op=1, hwsrc=OUTSIDE_MAC, psrc='198.51.100.2',
                                                                    pdst='198.51.100.10')
    run = run_pcap(cfg(VIP), [None, [who_has]])
    rows = tshark.fields(run.outputs[1], ['arp.opcode', 'arp.src.proto_ipv4', 'arp.src.hw_mac'], 'arp')
    assert rows == [{'arp.opcode': '2', 'arp.src.proto_ipv4': '198.51.100.10', 'arp.src.hw_mac': WAN1_MAC}]


@pytest.mark.parametrize('sender,icmp', [
    ('198.51.100.2', dict(type=3, code=3)),                  # port unreachable from the peer itself
    ('198.51.100.7', dict(type=3, code=4, nexthopmtu=1280)),  # fragmentation needed from a router on the way
    ('198.51.100.7', dict(type=11, code=0)),                 # time exceeded from a router
], ids=['port-unreachable', 'frag-needed', 'time-exceeded'])
def test_icmp_errors_about_a_nated_datagram_are_translated_back_to_the_inside_host(sender, icmp):
    out = [from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / UDP(sport=40000, dport=9999) / Raw(b'hello'))]
    quoted = IP(src='198.51.100.1', dst='198.51.100.2', ttl=63) / UDP(sport=40000, dport=9999) / Raw(b'hello')
    err = [from_outside(IP(src=sender, dst='198.51.100.1') / ICMP(**icmp) / quoted)]
    run = run_pcap(cfg(), [out, err])
    rows = tshark.fields(run.outputs[0], ['ip.src', 'ip.dst', 'ip.checksum.status', 'icmp.type', 'icmp.code',
                                          'icmp.checksum.status', 'icmp.mtu', 'udp.srcport', 'udp.dstport',
                                          'udp.checksum.status'], 'icmp')
    assert len(rows) == 1, rows
    r = rows[0]
    # Outer header to the inside host, from whoever sent it; the quoted datagram as the host sent it.
    assert r['ip.dst'].split(',') == ['10.0.1.2', '198.51.100.2']
    assert r['ip.src'].split(',') == [sender, '10.0.1.2']
    assert (r['icmp.type'], r['icmp.code'], r['icmp.checksum.status']) == (str(icmp['type']), str(icmp['code']), '1')
    if 'nexthopmtu' in icmp:
        assert r['icmp.mtu'] == '1280'
    assert r['ip.checksum.status'].split(',') == ['1', '1']
    assert (r['udp.srcport'], r['udp.dstport'], r['udp.checksum.status']) == ('40000', '9999', '1')
    assert run.counter('icmp_errors_translated') == 1


def test_fragmentation_needed_for_a_nated_packet_quotes_what_the_inside_host_sent():
    big = [from_inside(IP(src='10.0.1.2', dst='198.51.100.2', flags='DF') / UDP(sport=40000, dport=7) /
                       Raw(b'x' * 1400))]
    run = run_pcap(cfg(wan1_extra=', mtu: 1300'), [big, None])
    assert run.counter('drop_df_too_big') == 1
    rows = tshark.fields(run.outputs[0], ['ip.src', 'ip.dst', 'icmp.type', 'icmp.code', 'icmp.mtu', 'udp.srcport'],
                         'icmp')
    assert len(rows) == 1
    r = rows[0]
    assert r['ip.src'].split(',') == ['10.0.1.1', '10.0.1.2']  # the quote: untranslated
    assert r['ip.dst'].split(',') == ['10.0.1.2', '198.51.100.2']
    assert (r['icmp.type'], r['icmp.code'], r['icmp.mtu'], r['udp.srcport']) == ('3', '4', '1300', '40000')


def test_sessions_expire_after_their_timeout():
    # 180 s of UDP idle time pass in 18 ms at this scale: the daemon's drain period sees them expire.
    pkts = [from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / UDP(sport=40000 + i, dport=53)) for i in range(5)]
    run = run_pcap(cfg(), [pkts, None], extra=['--session-time-scale', '10000'])
    assert run.counter('sessions_created') == 5
    assert run.counter('sessions_expired') == 5
    assert run.stats['sessions']['active'] == 0


def test_full_table_refuses_new_sessions_and_keeps_the_existing_ones():
    out = [from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / UDP(sport=40000 + i, dport=53)) for i in range(6)]
    back = [from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / UDP(sport=53, dport=40000 + i))
            for i in range(4)]
    run = run_pcap(cfg(), [out, back], extra=['--sessions', '4'])
    assert run.counter('sessions_created') == 4
    assert run.counter('drop_session_table_full') == 2
    assert tshark.count(run.outputs[1], 'udp') == 4
    assert [r['udp.dstport'] for r in tshark.fields(run.outputs[0], ['udp.dstport'], 'udp')] == \
        [str(40000 + i) for i in range(4)]


def test_routing_without_nat_keeps_addresses_and_opens_the_way_back():
    routed = """
firewall:
  policy:
    1: {name: routed-out, srcintf: port1, dstintf: wan1, action: accept}
"""
    out = [from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / UDP(sport=40000, dport=53))]
    back = [from_outside(IP(src='198.51.100.2', dst='10.0.1.2') / UDP(sport=53, dport=40000)),
            from_outside(IP(src='198.51.100.2', dst='10.0.1.2') / UDP(sport=53, dport=40001))]  # no session
    run = run_pcap(cfg(routed), [out, back])
    assert tshark.fields(run.outputs[1], ['ip.src'], 'udp') == [{'ip.src': '10.0.1.2'}]
    assert tshark.fields(run.outputs[0], ['udp.dstport'], 'udp') == [{'udp.dstport': '40000'}]
    assert run.counter('drop_no_policy') == 1


def telemetry_json(prefix, command):
    out = subprocess.run(['dpdk-telemetry.py', '-f', prefix], input=command + '\n', capture_output=True, text=True,
                         timeout=20, check=True).stdout
    reply = json.loads(out.strip().splitlines()[-1])[command.split(',')[0]]
    reply['sessions'] = [v for k, v in reply.items() if k.startswith('session_')]
    return reply


def test_session_list_and_clear_through_the_workers(tmp_path):
    from scapy.utils import wrpcap
    rx = tmp_path / 'in.pcap'
    wrpcap(str(rx), [from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / UDP(sport=40000 + i, dport=53 + (i % 2)))
                     for i in range(6)])
    conf = tmp_path / 'c.yaml'
    conf.write_text(cfg())
    eal = eal_args(unique_prefix('ses'), [f'net_pcap0,rx_pcap={rx}', f'net_pcap1,tx_pcap={tmp_path / "out.pcap"}'])
    d = Daemon(eal, ['--config', str(conf), '--mbufs', '8192', '--idle-sleep-us', '100'],
               log_path=tmp_path / 'sipalgd.log')
    try:
        d.wait_ready()
        import time
        for _ in range(100):
            listed = telemetry_json(d.prefix, '/sipalg/sessions')
            if listed['matched'] == 6:
                break
            time.sleep(0.05)
        assert listed['matched'] == 6 and listed['complete'] == 1, listed
        assert len(listed['sessions']) == 6
        s = next(s for s in listed['sessions'] if s['src'] == '10.0.1.2:40000')
        assert (s['proto'], s['state'], s['policy'], s['snat'], s['dnat']) == (17, 'udp', 1, 1, 0)
        assert (s['dst'], s['nat_src'], s['nat_dst']) == ('198.51.100.2:53', '198.51.100.1:40000', '198.51.100.2:53')
        assert (s['packets_orig'], s['bytes_orig'], s['packets_reply']) == (1, 28, 0)
        assert 170 < s['expire'] <= 180
        only53 = telemetry_json(d.prefix, '/sipalg/sessions,dport=53')
        assert only53['matched'] == 3
        cleared = telemetry_json(d.prefix, '/sipalg/sessions_clear,dport=54,src=10.0.1.2')
        assert cleared['cleared'] == 3
        after = telemetry_json(d.prefix, '/sipalg/sessions')
        assert after['matched'] == 3 and after['active'] == 3
        assert all(s['dst'] == '198.51.100.2:53' for s in after['sessions'])
        stats = telemetry_json(d.prefix, '/sipalg/stats')
        assert stats['sessions_cleared'] == 3
    finally:
        d.stop()
