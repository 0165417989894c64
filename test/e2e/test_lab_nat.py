"""SNAT end to end through the namespace lab with the built-in default configuration (inside-to-internet
with NAT): two inside hosts talk TCP and UDP to one outside host, which has no route back to the inside
network and sees only wan1's address; with one worker and with two (two queue pairs per port)."""
import json
import subprocess
import time

import pytest

from lab_env import in_ns, lab

WORKERS = [pytest.param({'workers': 1, 'args': ['--no-return-route']}, id='1-worker'),
           pytest.param({'workers': 2, 'args': ['--no-return-route']}, id='2-workers')]

# Outside: a TCP and a UDP echo server that record who they saw.
SERVER = r'''
import json, socket, sys, threading
peers = {"tcp": [], "udp": []}
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("198.51.100.2", 7000))
udp.settimeout(30)
tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
tcp.bind(("198.51.100.2", 8000))
tcp.listen(8)
tcp.settimeout(30)
n_udp, n_tcp = int(sys.argv[1]), int(sys.argv[2])

def serve_udp():
    for _ in range(n_udp):
        data, peer = udp.recvfrom(65535)
        peers["udp"].append(list(peer))
        udp.sendto(data, peer)

def serve_conn(c, peer):
    peers["tcp"].append(list(peer))
    with c:
        while True:
            data = c.recv(65536)
            if not data:
                break
            c.sendall(data)

t = threading.Thread(target=serve_udp)
t.start()
conns = []
for _ in range(n_tcp):
    c, peer = tcp.accept()
    th = threading.Thread(target=serve_conn, args=(c, peer))
    th.start()
    conns.append(th)
for th in conns:
    th.join()
t.join()
print(json.dumps(peers))
'''

# Inside: sends random data over TCP (echoed back) and UDP datagrams; prints what matched.
CLIENT = r'''
import hashlib, json, os, socket, sys, threading
size = int(sys.argv[1])
blob = os.urandom(size)
s = socket.create_connection(("198.51.100.2", 8000), timeout=20)
got = bytearray()
def reader():
    while len(got) < size:
        chunk = s.recv(65536)
        if not chunk:
            break
        got.extend(chunk)
r = threading.Thread(target=reader)
r.start()
s.sendall(blob)
r.join()
s.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(5)
udp_ok = 0
for n in (1, 100, 1400, 1472, 3000):
    payload = os.urandom(n)
    u.sendto(payload, ("198.51.100.2", 7000))
    data, _ = u.recvfrom(65535)
    udp_ok += data == payload
print(json.dumps({"tcp_same": hashlib.sha256(bytes(got)).hexdigest() == hashlib.sha256(blob).hexdigest(),
                  "tcp_bytes": len(got), "udp_ok": udp_ok}))
'''


def stats():
    return json.loads(lab('stats').stdout)['/sipalg/stats']


@pytest.mark.parametrize('lab_up', WORKERS, indirect=True)
def test_tcp_and_udp_from_two_inside_hosts_through_snat(lab_up):
    size = 2_000_000
    server = subprocess.Popen(['ip', 'netns', 'exec', 'sipalg-out', '/usr/bin/python3', '-c', SERVER, '10', '2'],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        clients = [subprocess.Popen(['ip', 'netns', 'exec', ns, '/usr/bin/python3', '-c', CLIENT, str(size)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for ns in ('sipalg-in', 'sipalg-in2')]
        for c in clients:
            out, err = c.communicate(timeout=60)
            assert c.returncode == 0, err
            result = json.loads(out)
            assert result == {'tcp_same': True, 'tcp_bytes': size, 'udp_ok': 5}
        out, err = server.communicate(timeout=60)
        assert server.returncode == 0, err
    finally:
        if server.poll() is None:
            server.kill()
    peers = json.loads(out)
    # The outside host only ever saw wan1's address; two hosts, distinct public ports.
    assert {p[0] for p in peers['tcp'] + peers['udp']} == {'198.51.100.1'}
    assert len({p[1] for p in peers['tcp']}) == 2
    assert len({p[1] for p in peers['udp']}) == 2
    s = stats()
    assert s['sessions_created'] >= 4
    assert s['drop_no_policy'] == 0 and s['drop_tcp_no_syn'] == 0
    if lab_up['workers'] == 2:
        assert s['handoff_in'] > 0  # both workers took part


@pytest.mark.parametrize('lab_up', [pytest.param({'workers': 1, 'args': ['--no-return-route', '--',
                                                                          '--session-time-scale', '60']},
                                                 id='1-worker')], indirect=True)
def test_outside_cannot_reach_in_and_an_expired_mapping_stays_closed(lab_up):
    # A UDP mapping lives 180 s (3 s at 60x); the outside answers before and after that.
    probe = r'''
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.2", 7001))
s.settimeout(5)
data, peer = s.recvfrom(100)
s.sendto(b"early", peer)
time.sleep(float(sys.argv[1]))
s.sendto(b"late", peer)
'''
    server = subprocess.Popen(['ip', 'netns', 'exec', 'sipalg-out', '/usr/bin/python3', '-c', probe, '5'])
    client = r'''
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 45000))
s.settimeout(8)
s.sendto(b"hello", ("198.51.100.2", 7001))
got = [s.recvfrom(100)[0]]
try:
    got.append(s.recvfrom(100)[0])
except socket.timeout:
    pass
print(got)
'''
    try:
        time.sleep(0.5)
        out = in_ns('in', '/usr/bin/python3', '-c', client, timeout=20).stdout
        assert out.strip() == "[b'early']"
    finally:
        server.wait(20)
    s = stats()
    assert s['sessions_expired'] >= 1
    assert s['drop_local_unhandled'] >= 1  # "late" reached wan1's address with no session left
    # Unsolicited traffic from outside to an inside address is refused (no policy allows it).
    in_ns('out', 'ip', 'route', 'add', '10.0.1.0/24', 'via', '198.51.100.1')
    r = in_ns('out', 'ping', '-c', '2', '-i', '0.2', '-W', '1', '10.0.1.2', check=False)
    assert r.returncode != 0
    assert stats()['drop_no_policy'] >= 2
