"""End to end through the namespace lab: real kernel hosts on either side, sipalgd on net_af_packet in
between, with one worker and with two (two queue pairs per port, packets spread by the kernel)."""
import json
import subprocess

import pytest

from lab_env import in_ns, lab

WORKERS = [pytest.param({'workers': 1}, id='1-worker'), pytest.param({'workers': 2}, id='2-workers')]

UDP_ECHO = r'''
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.2", 7000))
s.settimeout(20)
n = int(sys.argv[1])
for _ in range(n):
    data, peer = s.recvfrom(65535)
    s.sendto(data, peer)
'''

UDP_CLIENT = r'''
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
sizes = [int(x) for x in sys.argv[1:]]
ok = 0
for i, size in enumerate(sizes):
    payload = os.urandom(size)
    s.sendto(payload, ("198.51.100.2", 7000))
    data, _ = s.recvfrom(65535)
    ok += data == payload
print(ok)
'''


def stats():
    return json.loads(lab('stats').stdout)['/sipalg/stats']


@pytest.mark.parametrize('lab_up', WORKERS, indirect=True)
def test_ping_crosses_the_appliance(lab_up):
    out = in_ns('in', 'ping', '-c', '5', '-i', '0.2', '-W', '2', '198.51.100.2').stdout
    assert ' 0% packet loss' in out
    # The reply crossed one router: 64 - 1.
    assert 'ttl=63' in out
    assert stats()['forwarded'] >= 10


@pytest.mark.parametrize('lab_up', WORKERS, indirect=True)
def test_appliance_answers_ping_on_its_addresses(lab_up):
    out = in_ns('in', 'ping', '-c', '3', '-i', '0.2', '-W', '2', '10.0.1.1').stdout
    assert ' 0% packet loss' in out and 'ttl=64' in out
    out = in_ns('out', 'ping', '-c', '3', '-i', '0.2', '-W', '2', '198.51.100.1').stdout
    assert ' 0% packet loss' in out
    assert stats()['icmp_echo_replies'] >= 6


@pytest.mark.parametrize('lab_up', WORKERS, indirect=True)
def test_udp_exchange_is_byte_identical_both_ways(lab_up):
    # Small datagrams, and large ones the inside kernel fragments: sipalgd refragments them to wan1's MTU.
    sizes = [1, 100, 1400, 1472, 1473, 4000, 8000] * 3
    server = subprocess.Popen(['ip', 'netns', 'exec', 'sipalg-out', '/usr/bin/python3', '-c', UDP_ECHO,
                               str(len(sizes))], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        import time
        time.sleep(0.5)
        out = in_ns('in', '/usr/bin/python3', '-c', UDP_CLIENT, *map(str, sizes)).stdout
        assert int(out.strip()) == len(sizes)
    finally:
        server.wait(30)
    s = stats()
    assert s['fragmented'] > 0
    drops = {k: v for k, v in s.items() if k.startswith('drop_') and v}
    assert drops == {}


def test_lab_down_leaves_nothing_behind():
    lab('up')
    lab('down')
    names = subprocess.run(['ip', 'netns', 'list'], capture_output=True, text=True, check=True).stdout
    assert 'sipalg-' not in names
    status = lab('status').stdout
    assert 'sipalgd not running' in status
