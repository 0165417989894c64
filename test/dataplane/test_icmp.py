"""ICMP for the appliance's own addresses (RFC 792 echo, RFC 1812 §4.3.3.6) under FortiOS allowaccess,
the local drops, and the ICMP error rate limit."""
from scapy.layers.inet import ICMP, IP, UDP
from scapy.packet import Raw

from pcap_env import INSIDE_MAC, PORT1_MAC, config, from_inside, from_outside, inside_arp_request
from sipalg_tools import tshark
from sipalg_tools.daemon import run_pcap


def echo(dst, ident=0x1234, seq=1, payload=b'abcdefgh' * 7):
    return IP(src='10.0.1.2', dst=dst) / ICMP(type=8, id=ident, seq=seq) / Raw(payload)


def test_ping_to_our_address_is_answered_with_the_same_data():
    run = run_pcap(config(), [[inside_arp_request(), from_inside(echo('10.0.1.1', seq=9))], None])
    assert run.returncode == 0, run.stderr
    rows = tshark.fields(run.outputs[0], ['eth.src', 'eth.dst', 'ip.src', 'ip.dst', 'ip.ttl', 'ip.checksum.status',
                                          'icmp.type', 'icmp.ident', 'icmp.seq', 'icmp.checksum.status', 'data.data'],
                         'icmp')
    assert rows == [{'eth.src': PORT1_MAC, 'eth.dst': INSIDE_MAC, 'ip.src': '10.0.1.1', 'ip.dst': '10.0.1.2',
                     'ip.ttl': '64', 'ip.checksum.status': '1', 'icmp.type': '0', 'icmp.ident': str(0x1234),
                     'icmp.seq': '9', 'icmp.checksum.status': '1', 'data.data': (b'abcdefgh' * 7).hex()}]
    assert run.counter('icmp_echo_replies') == 1


def test_ping_to_another_interface_address_follows_the_ingress_allowaccess():
    # Arriving on port1 (allowaccess ping): answered even for wan1's address.
    run = run_pcap(config(), [[inside_arp_request(), from_inside(echo('198.51.100.1'))], None])
    assert tshark.fields(run.outputs[0], ['ip.src', 'icmp.type'], 'icmp') == [{'ip.src': '198.51.100.1',
                                                                                'icmp.type': '0'}]
    # Arriving on wan1 (no allowaccess): refused.
    probe = from_outside(IP(src='198.51.100.2', dst='198.51.100.1') / ICMP(type=8) / Raw(b'x'))
    run = run_pcap(config(), [None, [probe]])
    assert run.counter('drop_local_not_allowed') == 1
    assert tshark.count(run.outputs[1]) == 0


def test_bad_icmp_and_other_protocols_to_us_are_dropped_by_name():
    bad = from_inside(echo('10.0.1.1'))
    bad[ICMP].chksum = 0x1111
    udp = from_inside(IP(src='10.0.1.2', dst='10.0.1.1') / UDP(sport=5060, dport=5060) / Raw(b'OPTIONS'))
    reply = from_inside(IP(src='10.0.1.2', dst='10.0.1.1') / ICMP(type=0) / Raw(b'x'))
    run = run_pcap(config(), [[inside_arp_request(), bad, udp, reply], None])
    assert run.counter('drop_icmp_malformed') == 1
    assert run.counter('drop_local_unhandled') == 2
    assert run.counter('icmp_echo_replies') == 0


def test_icmp_errors_are_rate_limited():
    expired = [from_inside(IP(src='10.0.1.2', dst='198.51.100.2', ttl=1) / UDP(sport=i, dport=9)) for i in range(20)]
    run = run_pcap(config(), [[inside_arp_request()] + expired, None], extra=['--icmp-rate', '5'])
    assert run.counter('drop_ttl_exceeded') == 20
    sent = run.counter('icmp_errors_sent')
    # A bucket of five, refilled at five per second: the first five go out, most of the rest do not.
    assert 5 <= sent < 20
    assert run.counter('drop_icmp_rate_limited') == 20 - sent
    assert tshark.count(run.outputs[0], 'icmp') == sent
