"""IPv4 fragments: reassembly with rte_ip_frag (SIP INVITEs arrive fragmented), fragmentation to the
outgoing MTU, Don't Fragment (RFC 1191), and incomplete datagrams timing out."""
from scapy.layers.inet import ICMP, IP, UDP, fragment
from scapy.packet import Raw

from pcap_env import config, from_inside, inside_arp_request
from sipalg_tools import tshark
from sipalg_tools.daemon import run_pcap

PAYLOAD = bytes(range(256)) * 16  # 4096 bytes


def big_datagram(ident=0x4242, df=False):
    return IP(src='10.0.1.2', dst='198.51.100.2', id=ident, flags='DF' if df else 0) / UDP(sport=5060, dport=5060) / \
        Raw(PAYLOAD)


def test_fragments_out_of_order_leave_as_one_datagram_on_a_jumbo_link():
    frags = fragment(big_datagram(), fragsize=1480)
    assert len(frags) == 3
    frames = [from_inside(f) for f in (frags[2], frags[0], frags[1])]
    run = run_pcap(config(', mtu: 9000'), [frames, None])
    assert run.returncode == 0, run.stderr
    rows = tshark.fields(run.outputs[1], ['ip.len', 'ip.flags.mf', 'ip.frag_offset', 'ip.ttl', 'ip.checksum.status',
                                          'udp.checksum.status', 'udp.length'])
    # One datagram, whole: the UDP checksum over all 4096 payload bytes verifies.
    assert rows == [{'ip.len': str(20 + 8 + 4096), 'ip.flags.mf': '0', 'ip.frag_offset': '0', 'ip.ttl': '63',
                     'ip.checksum.status': '1', 'udp.checksum.status': '1', 'udp.length': str(8 + 4096)}]
    assert run.counter('fragments_in') == 3
    assert run.counter('reassembled') == 1
    assert run.counter('fragmented') == 0


def test_reassembled_datagram_is_fragmented_again_to_the_outgoing_mtu():
    frags = fragment(big_datagram(), fragsize=1480)
    run = run_pcap(config(', mtu: 1280'), [[from_inside(f) for f in frags], None])
    rows = tshark.fields(run.outputs[1], ['frame.len', 'ip.id', 'ip.flags.mf', 'ip.frag_offset', 'ip.ttl',
                                          'ip.checksum.status'], checksums=True)
    assert len(rows) == 4  # 4104 bytes of IP payload in 1256-byte pieces
    assert all(int(r['frame.len']) <= 14 + 1280 for r in rows)
    assert all(r['ip.ttl'] == '63' and r['ip.checksum.status'] == '1' and r['ip.id'] == '0x4242' for r in rows)
    assert [r['ip.flags.mf'] for r in rows] == ['1', '1', '1', '0']
    # tshark reassembles them; the UDP checksum over the whole payload proves every byte arrived.
    whole = tshark.fields(run.outputs[1], ['udp.checksum.status', 'udp.length'], 'udp')
    assert whole == [{'udp.checksum.status': '1', 'udp.length': str(8 + 4096)}]
    assert run.counter('reassembled') == 1
    assert run.counter('fragmented') == 1


def test_dont_fragment_larger_than_the_mtu_gets_fragmentation_needed():
    packets = [inside_arp_request(), from_inside(IP(src='10.0.1.2', dst='198.51.100.2', flags='DF') /
                                                  UDP(sport=1, dport=2) / Raw(b'x' * 1400))]
    run = run_pcap(config(', mtu: 1280'), [packets, None])
    assert run.counter('drop_df_too_big') == 1
    assert tshark.count(run.outputs[1]) == 0
    icmp = tshark.fields(run.outputs[0], ['icmp.type', 'icmp.code', 'icmp.mtu', 'icmp.checksum.status'], 'icmp')
    assert icmp == [{'icmp.type': '3', 'icmp.code': '4', 'icmp.mtu': '1280', 'icmp.checksum.status': '1'}]


def test_incomplete_datagram_times_out_and_is_counted():
    frags = fragment(big_datagram(), fragsize=1480)
    run = run_pcap(config(), [[from_inside(frags[0]), from_inside(frags[2])], None],
                   extra=['--frag-timeout-ms', '100', '--drain-idle-ms', '600'])
    assert run.returncode == 0, run.stderr
    assert run.counter('fragments_in') == 2
    assert run.counter('reassembled') == 0
    assert run.counter('drop_frag_failed') == 2
    assert tshark.count(run.outputs[1]) == 0


def test_many_interleaved_datagrams_reassemble_independently():
    frames = []
    per = [fragment(IP(src=f'10.0.1.{2 + i}', dst='198.51.100.2', id=100 + i) / UDP(sport=1000 + i, dport=5060) /
                    Raw(bytes([i]) * 3000), fragsize=1000) for i in range(20)]
    for k in range(4):
        for i in range(20):
            if k < len(per[i]):
                frames.append(from_inside(per[i][k]))
    run = run_pcap(config(', mtu: 9000'), [frames, None], workers=2)
    rows = tshark.fields(run.outputs[1], ['udp.srcport', 'udp.checksum.status', 'udp.length'])
    assert sorted(int(r['udp.srcport']) for r in rows) == list(range(1000, 1020))
    assert all(r['udp.checksum.status'] == '1' and r['udp.length'] == '3008' for r in rows)
    assert run.counter('reassembled') == 20


def test_fragmented_ping_to_the_appliance_is_answered_in_fragments():
    req = IP(src='10.0.1.2', dst='10.0.1.1', id=7) / ICMP(type=8, id=0x77, seq=3) / Raw(b'p' * 3000)
    frames = [inside_arp_request()] + [from_inside(f) for f in fragment(req, fragsize=1480)]
    run = run_pcap(config(), [frames, None])
    assert run.counter('icmp_echo_replies') == 1
    replies = tshark.fields(run.outputs[0], ['icmp.type', 'icmp.ident', 'icmp.seq', 'icmp.checksum.status',
                                             'data.len'], 'icmp')
    assert replies == [{'icmp.type': '0', 'icmp.ident': '119', 'icmp.seq': '3', 'icmp.checksum.status': '1',
                        'data.len': '3000'}]
    assert run.counter('fragmented') == 1
