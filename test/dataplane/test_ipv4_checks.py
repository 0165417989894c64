"""The receive checks of RFC 1812 §5.2.2 and §5.3: each malformed or unroutable IPv4 header is dropped
and counted under its own name, nothing leaves, and TTL expiry is reported to the sender."""
import pytest
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from pcap_env import INSIDE_MAC, PORT1_MAC, config, from_inside, inside_arp_request
from sipalg_tools import tshark
from sipalg_tools.daemon import run_pcap


def raw_frame(ip_bytes):
    return Ether(bytes(Ether(src=INSIDE_MAC, dst=PORT1_MAC, type=0x0800)) + ip_bytes)


def good_ip():
    return bytearray(bytes(IP(src='10.0.1.2', dst='198.51.100.2') / UDP(sport=1, dport=2) / Raw(b'payload')))


def with_checksum(b):
    b[10:12] = b'\x00\x00'
    s = sum(int.from_bytes(b[i:i + 2], 'big') for i in range(0, (b[0] & 0xf) * 4, 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    b[10:12] = (~s & 0xffff).to_bytes(2, 'big')
    return bytes(b)


def bad_checksum():
    b = good_ip()
    b[11] ^= 0x01
    return bytes(b)


def bad_version():
    b = good_ip()
    b[0] = 0x65
    return with_checksum(b)


def bad_header_length():
    b = good_ip()
    b[0] = 0x43
    return bytes(b)


def total_length_beyond_frame():
    b = good_ip()
    b[2:4] = (len(b) + 40).to_bytes(2, 'big')
    return with_checksum(b)


def total_length_below_header():
    b = good_ip()
    b[2:4] = (12).to_bytes(2, 'big')
    return with_checksum(b)


def truncated_header():
    return bytes(good_ip()[:12])


def martian(src=None, dst=None):
    def make():
        return bytes(IP(src=src or '10.0.1.2', dst=dst or '198.51.100.2') / UDP())
    return make


@pytest.mark.parametrize('make, counter', [
    (bad_checksum, 'drop_ipv4_bad_checksum'),
    (bad_version, 'drop_ipv4_bad_version'),
    (bad_header_length, 'drop_ipv4_bad_header_length'),
    (total_length_beyond_frame, 'drop_ipv4_truncated'),
    (total_length_below_header, 'drop_ipv4_bad_total_length'),
    (truncated_header, 'drop_ipv4_truncated'),
    (martian(src='127.0.0.1'), 'drop_ipv4_martian_source'),
    (martian(src='224.0.0.5'), 'drop_ipv4_martian_source'),
    (martian(src='0.1.2.3'), 'drop_ipv4_martian_source'),
    (martian(dst='127.0.0.1'), 'drop_martian_destination'),
    (martian(dst='0.0.0.9'), 'drop_martian_destination'),
    (martian(dst='250.1.1.1'), 'drop_martian_destination'),
])
def test_bad_header_is_dropped_with_its_counter(make, counter):
    good = from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / UDP(sport=9, dport=9) / Raw(b'still-fine'))
    run = run_pcap(config(), [[raw_frame(make()), good], None])
    assert run.returncode == 0, run.stderr
    assert run.counter(counter) == 1
    drops = {k: v for k, v in run.counters.items() if k.startswith('drop_') and v}
    assert drops == {counter: 1}
    # The good packet after the bad one still crosses: a bad packet costs nothing else.
    assert tshark.fields(run.outputs[1], ['data.data']) == [{'data.data': b'still-fine'.hex()}]


def test_ttl_expiry_is_dropped_and_reported_with_time_exceeded():
    packets = [inside_arp_request()] + [from_inside(IP(src='10.0.1.2', dst='198.51.100.2', ttl=t) / UDP(sport=5, dport=6))
                                        for t in (1, 0)]
    run = run_pcap(config(), [packets, None])
    assert run.counter('drop_ttl_exceeded') == 2
    assert tshark.count(run.outputs[1]) == 0
    icmp = tshark.fields(run.outputs[0], ['ip.src', 'ip.ttl', 'icmp.type', 'icmp.code', 'icmp.checksum.status',
                                          'udp.srcport'], 'icmp')
    assert len(icmp) == 2
    for row in icmp:
        assert row['ip.src'].split(',')[0] == '10.0.1.1'
        assert row['ip.ttl'].split(',')[0] == '64'
        assert (row['icmp.type'], row['icmp.code'], row['icmp.checksum.status']) == ('11', '0', '1')
        assert row['udp.srcport'] == '5'  # the quoted datagram carries the original header and 8 bytes


def test_no_icmp_error_about_an_icmp_error():
    # The error is about a datagram of a session (opened by the first packet), so it is forwarded, and
    # its TTL runs out on the way.
    opener = from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / UDP(sport=53, dport=53))
    err = from_inside(IP(src='10.0.1.2', dst='198.51.100.2', ttl=1) / ICMP(type=3, code=1) /
                      IP(src='198.51.100.2', dst='10.0.1.2') / UDP(sport=53, dport=53))
    run = run_pcap(config(), [[inside_arp_request(), opener, err], None])
    assert run.counter('drop_ttl_exceeded') == 1
    assert run.counter('icmp_errors_sent') == 0
