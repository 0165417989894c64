"""A new configuration in force while sessions run (SIGHUP reads --config again; the control socket of
the next issue does the same on request): a session whose policy is gone or now denies is dropped at
its next packet, the others continue; a configuration that does not load changes nothing."""
import json
import re
import subprocess
import tempfile
import time
from pathlib import Path

from lab_env import lab

from sipalg_tools.daemon import SOURCE_ROOT

DEFAULT = (SOURCE_ROOT / 'conf' / 'default.yaml').read_text()
HEAD = DEFAULT[:DEFAULT.index('firewall:')]

POLICIES = """firewall:
  service:
    custom:
      u7000: {{udp-portrange: 7000}}
      u7001: {{udp-portrange: 7001}}
  policy:
    1: {{name: to-7000, srcintf: port1, dstintf: wan1, service: u7000, action: {action}, nat: enable}}
{second}"""
SECOND = "    2: {name: to-7001, srcintf: port1, dstintf: wan1, service: u7001, action: accept, nat: enable}\n"

ECHO = r'''
import select, socket
socks = []
for port in (7000, 7001):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.51.100.2", port))
    socks.append(s)
while True:
    for s in select.select(socks, [], [], 60)[0]:
        data, peer = s.recvfrom(2048)
        s.sendto(data, peer)
'''

# The same two sockets (so the same sessions) send one datagram to each port per line of stdin and
# print which answered.
CLIENT = r'''
import socket, sys
socks = {}
for port, local in ((7000, 45000), (7001, 45001)):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", local))
    s.settimeout(1.0)
    socks[port] = s
for line in sys.stdin:
    answered = []
    for port, s in socks.items():
        s.sendto(b"ping", ("198.51.100.2", port))
        try:
            s.recvfrom(100)
            answered.append(port)
        except socket.timeout:
            pass
    print(answered, flush=True)
'''


def config(action='accept', second=True):
    return HEAD + POLICIES.format(action=action, second=SECOND if second else '')


def stats():
    return json.loads(lab('stats').stdout)['/sipalg/stats']


def reload(path, text, expect):
    path.write_text(text)
    before = lab('log').stdout.count(expect)
    pid = int(Path('/run/sipalg-lab/sipalgd.pid').read_text())
    subprocess.run(['kill', '-HUP', str(pid)], check=True)
    for _ in range(100):
        if lab('log').stdout.count(expect) > before:
            return
        time.sleep(0.05)
    raise AssertionError(f'no "{expect}" in the log:\n{lab("log").stdout}')


def test_policy_changes_drop_their_sessions_and_keep_the_others():
    path = Path(tempfile.mkdtemp(prefix='sipalg-reload-')) / 'sipalg.yaml'
    path.write_text(config())
    r = lab('up', '--no-return-route', '--config', str(path), check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    echo = client = None
    try:
        echo = subprocess.Popen(['ip', 'netns', 'exec', 'sipalg-out', '/usr/bin/python3', '-c', ECHO])
        client = subprocess.Popen(['ip', 'netns', 'exec', 'sipalg-in', '/usr/bin/python3', '-c', CLIENT],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)

        def round_trip():
            client.stdin.write('go\n')
            client.stdin.flush()
            return json.loads(client.stdout.readline())

        assert round_trip() == [7000, 7001]
        assert stats()['sessions_created'] == 2

        # A file that does not load: refused, everything carries on.
        reload(path, config() + '  nonsense: [\n', 'reload refused')
        assert round_trip() == [7000, 7001]

        # Policy 2 removed: its session goes at its next packet, new ones find no policy; policy 1's stays.
        reload(path, config(second=False), 'configuration reloaded')
        assert round_trip() == [7000]
        s = stats()
        assert s['drop_policy_gone'] == 1
        assert round_trip() == [7000]
        s = stats()
        assert s['drop_no_policy'] >= 1
        assert s['sessions_created'] == 2  # the 7000 session was never re-created

        # Policy 1 now denies: its session goes too.
        reload(path, config(action='deny', second=False), 'configuration reloaded')
        assert round_trip() == []
        assert stats()['drop_policy_gone'] == 2
        log = lab('log').stdout
        assert re.search(r'reload refused: .*sipalg\.yaml:\d+:\d+', log), log
    finally:
        for p in (client, echo):
            if p and p.poll() is None:
                p.kill()
        lab('down', check=False)
