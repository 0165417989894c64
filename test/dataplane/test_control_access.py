"""Who may use the control socket, and that no client locks the operators out: the socket's group
(--control-group), connections bounded per user (SO_PEERCRED) with root always let in, and a
configuration file reached through a symbolic link written through to its target."""
import grp
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP

from pcap_env import config, from_inside, replaying_daemon
from sipalg_tools.daemon import control_request
from test_control import sipalgctl

NOBODY = 65534
GROUP = 'nogroup'


def flows():
    return [from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / UDP(sport=4000, dport=53))]


@pytest.fixture
def shared_daemon(tmp_path):
    """A daemon whose socket is in a directory others may enter, owned by the group 'nogroup'."""
    # Not under pytest's own temporary directory (mode 0700: others cannot reach into it).
    where = Path(tempfile.mkdtemp(prefix='sipalg-ctl-', dir='/tmp'))
    where.chmod(0o755)
    try:
        with replaying_daemon(tmp_path, flows(), config().replace('net_pcap1', 'net_null0'), 'acc',
                              ['--control-group', GROUP], sock=str(where / 'sipalgd.sock')) as d:
            yield d
    finally:
        shutil.rmtree(where, ignore_errors=True)


def test_control_group_owns_the_socket(shared_daemon):
    st = os.stat(shared_daemon.sock)
    assert st.st_gid == grp.getgrnam(GROUP).gr_gid and stat.S_IMODE(st.st_mode) == 0o660


# As user nobody (group nogroup): opens `n` connections and sends nothing, then reports how many the
# server refused at once, and whether one request of its own goes through.
HOLDER = textwrap.dedent('''
    import json, os, socket, sys, time
    os.setgroups([]); os.setgid(int(sys.argv[2])); os.setuid(int(sys.argv[3]))
    held = []
    for _ in range(int(sys.argv[4])):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sys.argv[1])
        held.append(s)
    time.sleep(0.5)
    refused = []
    for s in held:
        s.setblocking(False)
        try:
            data = s.recv(65536)
            if data:
                refused.append(json.loads(data)['error'])
        except BlockingIOError:
            pass
    print(json.dumps({'refused': refused}), flush=True)
    sys.stdin.readline()  # holds the rest until told
''')


def test_one_user_cannot_lock_the_operators_out(shared_daemon):
    gid = grp.getgrnam(GROUP).gr_gid
    holder = subprocess.Popen([sys.executable, '-c', HOLDER, shared_daemon.sock, str(gid), str(NOBODY), '40'],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        import json
        report = json.loads(holder.stdout.readline())
        # 32 connections of one user at once; the others are told why.
        assert len(report['refused']) == 8 and all('user 65534' in e for e in report['refused']), report
        # Root fills the rest of the table with silent connections, and still gets in.
        mine = []
        for _ in range(256 - 32):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(shared_daemon.sock)
            mine.append(s)
        r = sipalgctl(shared_daemon, 'stats', '--json')
        assert r.returncode == 0, r.stderr
        counted = json.loads(r.stdout)['control']
        assert counted['refused_clients'] == 8 and counted['dropped_clients'] >= 1
        for s in mine:
            s.close()
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    assert shared_daemon.proc.poll() is None


def test_a_symlinked_configuration_is_written_through(tmp_path):
    real = tmp_path / 'real' / 'sipalg.yaml'
    real.parent.mkdir()
    link = tmp_path / 'sipalg.yaml'
    link.symlink_to(real)
    with replaying_daemon(tmp_path, flows(), config().replace('net_pcap1', 'net_null0'), 'lnk', cfg=link) as d:
        real.chmod(0o600)
        r = control_request(d.sock, 'apply\nfirewall:\n  policy:\n    5: {name: through-link, action: accept}\n')
        assert r['ok'] is True and r['saved'] == str(link), r
        assert link.is_symlink() and os.readlink(link) == str(real)
        assert '"through-link"' in real.read_text()
        assert stat.S_IMODE(real.stat().st_mode) == 0o600
        assert not list(tmp_path.glob('*.tmp')) and not list(real.parent.glob('*.tmp'))
