"""Configuration applied over and over through the control socket while a UDP stream crosses the lab
(SNAT): not one datagram is lost and the stream's session is never re-created, with one worker and two."""
import json
import subprocess
import threading
import time

import pytest

from lab_env import in_ns, lab
from sipalg_tools.daemon import SOURCE_ROOT, control_request

SOCKET = '/run/sipalg-lab/sipalgd.sock'

RECEIVER = r'''
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.2", 7100))
s.settimeout(10)
seen = set()
try:
    while True:
        data, _ = s.recvfrom(100)
        if data == b"done":
            break
        seen.add(int(data))
except socket.timeout:
    pass
print(len(seen))
'''

SENDER = r'''
import socket, sys, time
n = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 47000))
for i in range(n):
    s.sendto(b"%d" % i, ("198.51.100.2", 7100))
    time.sleep(0.001)
time.sleep(0.5)
for _ in range(3):
    s.sendto(b"done", ("198.51.100.2", 7100))
'''


def request(text):
    return control_request(SOCKET, text, timeout=30)


@pytest.mark.parametrize('lab_up', [pytest.param({'workers': 1, 'args': ['--no-return-route']}, id='1-worker'),
                                    pytest.param({'workers': 2, 'args': ['--no-return-route']}, id='2-workers')],
                         indirect=True)
def test_applying_while_a_stream_flows_loses_nothing(lab_up):
    count = 1500
    shipped = (SOURCE_ROOT / 'conf' / 'default.yaml').read_text()
    # Both neighbours resolved first: the stream's first datagrams would otherwise wait for ARP (and
    # those beyond its hold queue be dropped), which is not what this test is about.
    in_ns('in', 'ping', '-c', '1', '-W', '2', '198.51.100.2')
    receiver = subprocess.Popen(['ip', 'netns', 'exec', 'sipalg-out', '/usr/bin/python3', '-c', RECEIVER],
                                stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    sender = subprocess.Popen(['ip', 'netns', 'exec', 'sipalg-in', '/usr/bin/python3', '-c', SENDER, str(count)])
    applied = []
    stop = threading.Event()

    def apply_loop():
        i = 0
        while not stop.is_set():
            # The policy that carries the stream stays, renamed each time; a second one comes and goes.
            extra = '    2: {name: extra, srcintf: port1, dstintf: wan1, service: DNS, action: deny}\n' if i % 2 else ''
            r = request('apply\nfirewall:\n  policy:\n'
                        f'    1: {{name: out-{i}, srcintf: port1, dstintf: wan1, action: accept, nat: enable}}\n'
                        + extra)
            applied.append(r['ok'])
            i += 1

    t = threading.Thread(target=apply_loop)
    t.start()
    try:
        sender.wait(60)
    finally:
        stop.set()
        t.join(60)
    out, _ = receiver.communicate(timeout=30)
    stats = json.loads(lab('stats').stdout)['/sipalg/stats']
    ports = [json.loads(lab('telemetry', f'/ethdev/stats,{p}').stdout) for p in (0, 1)]
    print(len(applied), 'applies', {k: v for k, v in stats.items() if v}, [p['/ethdev/stats']['imissed'] for p in ports])
    assert all(applied) and len(applied) >= 5, applied
    assert int(out) == count
    drops = {k: v for k, v in stats.items() if k.startswith('drop_') and v}
    assert drops == {}
    # One session for the stream (and one for the ping before it): never re-created.
    assert stats['sessions_created'] == 2
    # The lab's daemon saves what is applied to its own copy, never over the shipped configuration.
    assert (SOURCE_ROOT / 'conf' / 'default.yaml').read_text() == shipped
