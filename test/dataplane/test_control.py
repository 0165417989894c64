"""The control socket against a running sipalgd (net_pcap replaying flows from memory into net_null, so
it forwards all along): apply, validate, errors with line and column, the running configuration shown
and applied back unchanged, persistence across a restart, and bad clients (malformed, truncated,
oversized, binary, silent, vanishing, a hundred at once) that get an error or are dropped while the
daemon keeps serving and forwarding."""
import json
import os
import socket
import threading
import time

import pytest
from scapy.layers.inet import IP, UDP

from pcap_env import config, from_inside, replaying_daemon
from sipalg_tools.daemon import Daemon, control_request
from sipalg_tools.seed import SEED_ALG_2


@pytest.fixture
def daemon(tmp_path):
    flows = [from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / UDP(sport=4000 + i, dport=53)) for i in range(8)]
    with replaying_daemon(tmp_path, flows, config().replace('net_pcap1', 'net_null0'), 'ctl',
                          ['--control-timeout-ms', '1500']) as d:
        yield d


def forwarded(d):
    return control_request(d.sock, 'stats\n')['counters']['forwarded']


def test_socket_is_created_with_mode_0660(daemon):
    assert oct(os.stat(daemon.sock).st_mode & 0o777) == '0o660'


def test_apply_replaces_the_sections_it_holds_and_is_saved(daemon):
    r = control_request(daemon.sock, 'apply\nfirewall:\n  address:\n    dns: {subnet: 198.51.100.2/32}\n'
                             '  policy:\n    9: {name: dns-only, dstaddr: dns, service: DNS, action: accept}\n')
    assert r == {'ok': True, 'applied': True, 'saved': str(daemon.cfg)}
    shown = control_request(daemon.sock, 'show config\n')['yaml']
    assert '"dns-only"' in shown and '198.51.100.2/32' in shown
    assert 'routed' not in shown  # the policy section was replaced
    assert 'net_null0' in shown  # the interfaces (absent from the request) stayed
    assert daemon.cfg.read_text() == shown  # written where the daemon started from


def test_routes_follow_an_apply_and_stay_through_one_of_policies_only(daemon):
    # The route table is made again when the routes change, and shared when only policies do
    # (dataplane/snapshot.hpp, route_table): either way the workers route by what is in force.
    def grows(name):
        before = control_request(daemon.sock, 'stats\n')['counters'].get(name, 0)
        time.sleep(0.3)
        return control_request(daemon.sock, 'stats\n')['counters'].get(name, 0) > before

    routes = 'apply\nrouter:\n  static:\n    1: {dst: 203.0.113.0/24, gateway: 198.51.100.254}\n'
    assert grows('forwarded')
    assert control_request(daemon.sock, routes + '    3: {dst: 198.51.100.2/32, blackhole: enable}\n')['ok']
    assert grows('drop_blackhole') and not grows('forwarded')
    assert control_request(daemon.sock, 'apply\nfirewall:\n  policy:\n    1: {name: again, action: accept}\n')['ok']
    assert grows('drop_blackhole') and not grows('forwarded')
    assert control_request(daemon.sock, routes)['ok']
    assert grows('forwarded') and not grows('drop_blackhole')


def test_errors_name_line_and_column_and_change_nothing(daemon):
    before = control_request(daemon.sock, 'show config\n')['yaml']
    r = control_request(daemon.sock, 'apply\nfirewall:\n  policy:\n    3: {srcaddr: nowhere, action: maybe}\n')
    assert r['ok'] is False
    where = {(e['line'], e['column']) for e in r['errors']}
    assert len(r['errors']) == 2 and all(line == 3 for line, _ in where)
    assert any('nowhere' in e['message'] for e in r['errors'])
    assert control_request(daemon.sock, 'validate\nfirewall:\n  policy:\n    3: {srcaddr: nowhere}\n')['ok'] is False
    assert control_request(daemon.sock, 'validate\nfirewall:\n  policy:\n    3: {srcaddr: all}\n') == {'ok': True,
                                                                                         'applied': False}
    assert control_request(daemon.sock, 'show config\n')['yaml'] == before
    bad = control_request(daemon.sock, 'apply\nfirewall: [unclosed\n')
    assert bad['ok'] is False and bad['errors'][0]['line'] >= 1
    assert control_request(daemon.sock, 'show config\n')['yaml'] == before


def test_show_and_apply_back_changes_nothing(daemon):
    shown = control_request(daemon.sock, 'show config\n')['yaml']
    assert control_request(daemon.sock, 'apply\n' + shown)['ok'] is True
    assert control_request(daemon.sock, 'show config\n')['yaml'] == shown


def test_a_restart_comes_back_with_the_applied_configuration(daemon):
    assert control_request(daemon.sock, 'apply\nfirewall:\n  policy:\n    42: {name: kept, action: accept}\n')['ok']
    daemon.stop()
    again = Daemon(daemon.eal, daemon.opts, log_path=daemon.tmp / 'again.log')
    try:
        again.wait_ready()
        for _ in range(100):
            if os.path.exists(daemon.sock):
                break
            time.sleep(0.05)
        assert '"kept"' in control_request(daemon.sock, 'show config\n')['yaml']
    finally:
        again.stop()


def test_interfaces_cannot_change_while_running(daemon):
    r = control_request(daemon.sock, 'apply\nsystem:\n  interface:\n    port1: {dpdk-port: net_pcap7, ip: 10.0.1.1/24}\n')
    assert r['ok'] is False, r
    # Each refusal at the request's own line: port1 moved (line 3), wan1 gone.
    assert {e['line'] for e in r['errors']} == {3}, r
    assert sum('cannot' in e['message'] for e in r['errors']) == 2, r
    r = control_request(daemon.sock, 'cli\nconfig system interface\n    edit port1\n        set dpdk-port net_pcap7\n'
                                     '    next\nend\n')
    assert r['ok'] is False and [e['line'] for e in r['errors']] == [3], r


def test_errors_point_at_the_request_not_at_the_running_configuration(daemon):
    assert control_request(daemon.sock, 'apply\nfirewall:\n  address:\n    lan: {subnet: 10.0.1.0/24}\n'
                                        '  policy:\n    3: {name: uses-lan, srcaddr: lan, action: accept}\n')['ok']
    # The request replaces the addresses without 'lan', which the running policy 3 names.
    r = control_request(daemon.sock, 'apply\n# only the addresses\nfirewall:\n  address:\n    other: {subnet: 10.9.0.0/16}\n')
    assert r['ok'] is False and len(r['errors']) == 1, r
    e = r['errors'][0]
    assert e['line'] == 4 and 'lan' in e['message'] and 'running configuration' in e['message'], r
    r = control_request(daemon.sock, 'cli\nconfig firewall address\n    delete lan\nend\n')
    assert r['ok'] is False and [e['line'] for e in r['errors']] == [2], r


def test_sessions_and_clear(daemon):
    for _ in range(100):
        listed = control_request(daemon.sock, 'sessions\n')
        if listed['matched'] == 8:
            break
        time.sleep(0.05)
    assert listed['matched'] == 8
    assert {s['dst'] for s in listed['sessions']} == {'198.51.100.2:53'}
    assert control_request(daemon.sock, 'sessions sport=4003\n')['matched'] == 1
    assert control_request(daemon.sock, 'clear sport=4003\n') == {'ok': True, 'cleared': 1}
    assert control_request(daemon.sock, 'sessions bogus=1\n')['ok'] is False


def test_bad_clients_get_an_error_or_are_dropped_and_the_daemon_keeps_forwarding(daemon):
    start = forwarded(daemon)
    # Unknown command, binary garbage, a truncated YAML document.
    assert control_request(daemon.sock, 'reboot\n')['ok'] is False
    assert control_request(daemon.sock, b'\x00\xff\xfe binary\x00\n', raw=True)['ok'] is False
    assert control_request(daemon.sock, 'apply\nfirewall:\n  policy:\n    1: {name: "unterminated')['ok'] is False
    # Oversized: refused before it is all read.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(20)
        s.connect(daemon.sock)
        reply = b''
        cut_off = False
        try:
            chunk = b'x' * (1 << 20)
            for _ in range(20):
                s.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            cut_off = True
        try:
            while part := s.recv(65536):
                reply += part
        except ConnectionResetError:
            cut_off = True
        # Refused with an error, or cut off before it was all sent; never taken.
        assert (reply and json.loads(reply)['ok'] is False and b'larger than' in reply) or cut_off
    # Silent: connects and sends nothing; the server gives up on it after --control-timeout-ms.
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.connect(daemon.sock)
    # Vanishing: half a request, then gone.
    gone = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    gone.connect(daemon.sock)
    gone.sendall(b'apply\nfirewall:\n')
    gone.close()
    # Meanwhile others are served at once.
    assert control_request(daemon.sock, 'ping\n', timeout=2) == {'ok': True}
    silent.settimeout(5)
    reply = silent.recv(65536)
    assert json.loads(reply)['ok'] is False  # timed out, said so, closed
    silent.close()
    # A hundred at once.
    results = []

    def one():
        try:
            results.append(control_request(daemon.sock, 'stats\n')['ok'])
        except OSError as e:
            results.append(repr(e))

    threads = [threading.Thread(target=one) for _ in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 100
    assert forwarded(daemon) > start
    assert daemon.proc.poll() is None


def raw_exchange(path, data, end_writing=True, timeout=10):
    """Bytes sent as they are (no framing added); the reply, parsed."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(data)
        if end_writing:
            s.shutdown(socket.SHUT_WR)
        reply = b''
        while chunk := s.recv(65536):
            reply += chunk
    return json.loads(reply)


CHANGE = b'apply\nfirewall:\n  policy:\n    77: {name: half-sent, action: accept}\n'


def test_a_request_is_complete_only_when_its_frame_says_so(daemon):
    before = control_request(daemon.sock, 'show config\n')['yaml']
    saved = daemon.cfg.read_text()
    # A whole document whose end line never came: the connection's end is no terminator.
    r = raw_exchange(daemon.sock, CHANGE)
    assert r['ok'] is False and 'end line' in r['error'] and 'nothing was done' in r['error']
    # A command line without its line feed (a truncated 'clear' must not clear everything).
    r = raw_exchange(daemon.sock, b'clear proto=17')
    assert r['ok'] is False and 'line feed' in r['error']
    # A client killed half way through: it never reads a reply.
    for cut in (5, len(CHANGE) // 2, len(CHANGE)):
        gone = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        gone.connect(daemon.sock)
        gone.sendall(CHANGE[:cut])
        gone.close()
    # Bytes after the end: one request per connection, and the whole of it refused.
    r = raw_exchange(daemon.sock, CHANGE + b'.\nclear\n')
    assert r['ok'] is False and 'after the request' in r['error']
    r = raw_exchange(daemon.sock, b'stats\nclear\n')
    assert r['ok'] is False and 'one request per connection' in r['error']
    for _ in range(100):
        counted = control_request(daemon.sock, 'stats\n')['control']
        if counted['incomplete'] >= 5:
            break
        time.sleep(0.05)
    assert counted['incomplete'] == 5 and counted['bad_frames'] == 2
    assert control_request(daemon.sock, 'show config\n')['yaml'] == before
    assert daemon.cfg.read_text() == saved
    # Framed, it is answered at once, without waiting for the end of writing; a body line starting
    # with "." comes through with its stuffed "." taken off.
    r = raw_exchange(daemon.sock, CHANGE.replace(b'half-sent', b'framed') + b'.\n', end_writing=False)
    assert r == {'ok': True, 'applied': True, 'saved': str(daemon.cfg)}
    assert '"framed"' in control_request(daemon.sock, 'show config\n')['yaml']
    r = raw_exchange(daemon.sock, b'cli\r\nconfig firewall policy\r\n edit 77\r\n  set comments ".x"\r\n'
                                  b' next\r\nend\r\n.\r\n', end_writing=False)
    assert r['ok'] is True, r
    r = control_request(daemon.sock, 'apply\nfirewall:\n  policy:\n    78: {name: dotted, action: accept}\n...\n')
    assert r['ok'] is True, r
    assert '"dotted"' in control_request(daemon.sock, 'show config\n')['yaml']


def sipalgctl(daemon, *args, stdin=None):
    import subprocess
    from sipalg_tools.daemon import SOURCE_ROOT
    ctl = os.environ.get('SIPALGCTL') or str(SOURCE_ROOT / 'build' / 'control' / 'sipalgctl')
    return subprocess.run([ctl, *args, '--socket', daemon.sock], input=stdin, capture_output=True, text=True,
                          timeout=30)


def test_sipalgctl_commands(daemon, tmp_path):
    good = tmp_path / 'good.yaml'
    good.write_text('firewall:\n  policy:\n    4: {name: via-ctl, action: accept}\n')
    r = sipalgctl(daemon, 'validate', str(good))
    assert (r.returncode, r.stdout) == (0, 'valid\n')
    r = sipalgctl(daemon, 'apply', str(good))
    assert r.returncode == 0 and r.stdout.startswith('applied; saved to ')
    bad = tmp_path / 'bad.yaml'
    bad.write_text('firewall:\n  policy:\n    4: {srcaddr: nope}\n')
    r = sipalgctl(daemon, 'apply', str(bad))
    assert r.returncode == 1 and f'{bad}:3:' in r.stderr and 'nope' in r.stderr
    r = sipalgctl(daemon, 'apply', '-', stdin='firewall: [\n')
    assert r.returncode == 1 and '<stdin>:' in r.stderr
    r = sipalgctl(daemon, 'show', 'config')
    assert r.returncode == 0 and '"via-ctl"' in r.stdout
    r = sipalgctl(daemon, 'stats')
    assert r.returncode == 0 and 'forwarded' in r.stdout
    for _ in range(100):
        r = sipalgctl(daemon, 'sessions', 'sport=4001')
        if 'total session 1' in r.stdout:
            break
        time.sleep(0.05)
    assert r.returncode == 0 and 'total session 1' in r.stdout and 'session info: proto=17' in r.stdout
    r = sipalgctl(daemon, 'clear', '--json', 'sport=4001')
    assert r.returncode == 0 and json.loads(r.stdout) == {'ok': True, 'cleared': 1}
    r = sipalgctl(daemon, 'sessions', 'nonsense')
    assert r.returncode == 1
    r = sipalgctl(daemon, 'show', 'config', '--cli')
    assert r.returncode == 0 and r.stdout.startswith('config system settings\n') and 'config firewall policy' in r.stdout
    r = sipalgctl(daemon, 'cli', '-', stdin='show system settings\n')
    assert r.returncode == 0 and r.stdout.startswith('config system settings\n')
    r = sipalgctl(daemon, 'cli', stdin='config system settings\n    set sip-udp-port 5060 5065\nend\n')
    assert r.returncode == 0 and 'applied' in r.stderr
    r = sipalgctl(daemon, 'cli', stdin='config system settings\n    set sip-udp-port 1 2 3\nend\n')
    assert r.returncode == 1 and '<stdin>:2:' in r.stderr


SEED_CLI = '''config system settings
    set default-voip-alg-mode {proxy-based | kernel-helper-based}
end
'''


def test_fortios_cli_through_the_socket(daemon):
    # Blocks of the seed document, as an operator pastes them (prompts included).
    r = control_request(daemon.sock, 'cli\n' + SEED_ALG_2 + '''    config system session-helper
        delete 13
    end
    # show system session-helper
''')
    assert r['ok'] is True and r['applied'] is True, r
    assert 'edit 13' not in r['output'] and 'edit 12' in r['output']
    shown = control_request(daemon.sock, 'cli\nshow firewall policy\n')
    assert shown['applied'] is False
    assert 'set name "VoIP-Proxy"' in shown['output'] and 'set voip-profile "sip-alg-profile"' in shown['output']
    # get: every field, defaults too; a field the schema does not have is refused at its line.
    got = control_request(daemon.sock, "cli\nget voip profile sip-alg-profile | grep ' rtp \\| max-dialogs '\n")
    assert got['ok'] is True and [line.split() for line in got['output'].split('\n')[:2]] == [
        ['rtp', ':', 'enable'], ['max-dialogs', ':', '0']], got
    refused = control_request(daemon.sock, 'cli\nconfig firewall policy\n edit 1\n  unset colour\n next\nend\n')
    assert refused['ok'] is False and refused['errors'][0]['line'] == 3 and 'colour' in refused['errors'][0]['message']
    # The whole configuration as CLI, applied back: nothing changes.
    full = control_request(daemon.sock, 'cli\nshow full-configuration\n')['output']
    before = control_request(daemon.sock, 'show config\n')['yaml']
    assert control_request(daemon.sock, 'cli\n' + full)['ok'] is True
    assert control_request(daemon.sock, 'show config\n')['yaml'] == before
    # Sessions the FortiOS way; the filter stays between requests until cleared.
    for _ in range(100):
        listed = control_request(daemon.sock, 'cli\ndiagnose sys session list\n')
        if 'total session 8' in listed['output']:
            break
        time.sleep(0.05)
    assert 'total session 8' in listed['output'] and 'session info: proto=17' in listed['output']
    r = control_request(daemon.sock, 'cli\n# diagnose sys session filter sport 4002\n# diagnose sys session clear\n')
    assert r['output'] == 'cleared 1 session(s)\n'
    # (the replayed capture opens that session again at once, so the filtered list is not checked)
    control_request(daemon.sock, 'cli\ndiagnose sys session filter clear\n')
    # A refused block names its CLI line and changes nothing.
    bad = control_request(daemon.sock, 'cli\nconfig firewall policy\n    edit 1\n        set srcaddr nope\n    next\nend\n')
    assert bad['ok'] is False and bad['errors'][0]['line'] == 3
    assert control_request(daemon.sock, 'show config\n')['yaml'] == before
    # The seed's "either" form (session helper example 2) is taken as written: the mode in force stays.
    r = control_request(daemon.sock, 'cli\n' + SEED_CLI)
    assert r['ok'] is True, r
    assert 'default-voip-alg-mode: kernel-helper-based' in control_request(daemon.sock, 'show config\n')['yaml']


def test_a_cli_request_is_all_or_nothing(daemon):
    before = control_request(daemon.sock, 'show config\n')['yaml']
    saved = daemon.cfg.read_text()
    # The report's case: a change, then a line that is refused. Nothing changes, in memory or on disk.
    r = control_request(daemon.sock, 'cli\nconfig system settings\n    set default-voip-alg-mode kernel-helper-based\n'
                                     'end\nshow nosuch path\n')
    assert r['ok'] is False and [e['line'] for e in r['errors']] == [4], r
    # Every refused line is named, whatever kind it is.
    r = control_request(daemon.sock, 'cli\ndiagnose sys session filter sport 4002\n'
                                     'config system settings\n    set sip-udp-port 5070\nend\n'
                                     'diagnose sys session filter color red\nget system status\n'
                                     'show system settings | grep -Q x\ndiagnose sys session clear\n')
    assert r['ok'] is False and [e['line'] for e in r['errors']] == [5, 6, 7], r
    assert control_request(daemon.sock, 'show config\n')['yaml'] == before
    assert daemon.cfg.read_text() == saved
    # The filter of the refused request was not set: the list shows every session.
    for _ in range(100):
        listed = control_request(daemon.sock, 'cli\ndiagnose sys session list\n')
        if 'total session 8' in listed['output']:
            break
        time.sleep(0.05)
    assert 'total session 8' in listed['output'], listed
    # Accepted: the change is committed once, and the output lines show what the request left in force.
    r = control_request(daemon.sock, 'cli\nconfig system settings\n    set default-voip-alg-mode kernel-helper-based\n'
                                     'end\nshow system settings | grep alg-mode\n')
    assert r['ok'] is True and r['applied'] is True, r
    assert r['output'] == '    set default-voip-alg-mode kernel-helper-based\n'
    assert 'kernel-helper-based' in daemon.cfg.read_text()


def test_fortios_output_filters(daemon):
    for _ in range(100):
        r = control_request(daemon.sock, 'cli\ndiagnose sys session list | grep -c "session info"\n')
        if r['output'] == '8\n':
            break
        time.sleep(0.05)
    assert r['output'] == '8\n', r
    # The seed's own line, and the other forms FortiOS lists.
    r = control_request(daemon.sock, 'cli\n# diagnose sys session list | grep sip\n')
    assert r['ok'] is True and r['output'] == ''  # DNS flows only: no SIP helper here
    r = control_request(daemon.sock, 'cli\ndiagnose sys session list | grep -i ORIG | grep -c 198.51.100.2:53\n')
    assert r['output'] == '8\n'
    r = control_request(daemon.sock, 'cli\nshow system settings | grep -v "set "\n')
    assert r['output'] == 'config system settings\nend\n'
    r = control_request(daemon.sock, 'cli\nshow system settings | grep -n -A 1 -B 1 sip-tcp-port\n')
    lines = r['output'].splitlines()
    assert len(lines) == 3 and ':    set sip-tcp-port' in lines[1] and lines[0].split('-')[0].isdigit()
    r = control_request(daemon.sock, 'cli\ndiagnose sys sip mapping list | grep -c ^mapping:\n')
    assert r['output'] == '0\n'
    r = control_request(daemon.sock, 'cli\nshow system settings | sort\n')
    assert r['ok'] is False and r['errors'][0]['line'] == 1


def test_sipalgctl_as_a_command_line_tool(daemon):
    import subprocess
    from sipalg_tools.daemon import SOURCE_ROOT
    ctl = os.environ.get('SIPALGCTL') or str(SOURCE_ROOT / 'build' / 'control' / 'sipalgctl')

    def run(*args):
        return subprocess.run([ctl, *args], capture_output=True, text=True, timeout=30)
    # Global options before the command, or after it.
    for args in (['--socket', daemon.sock, '--json', 'stats'], ['--json', 'stats', '-s', daemon.sock],
                 [f'--socket={daemon.sock}', 'stats', '--json']):
        r = run(*args)
        assert r.returncode == 0 and json.loads(r.stdout)['ok'] is True, (args, r.stderr)
    r = run('--version')
    assert r.returncode == 0 and r.stdout.startswith('sipalgctl ') and r.stdout.split()[1][0].isdigit()
    # Each command's help says what it takes.
    r = run('sessions', '--help')
    assert r.returncode == 0 and 'usage: sipalgctl sessions [FILTER...]' in r.stdout and 'dport=PORT' in r.stdout
    r = run('cli', '--help')
    assert r.returncode == 0 and '| grep' in r.stdout and 'diagnose sys session filter' in r.stdout
    # With --json, errors are JSON on standard output too.
    for args in (['--json', '--socket', '/nonexistent/sipalgd.sock', 'stats'], ['--json', 'nosuch'],
                 ['apply', '--json', '--socket', daemon.sock]):
        r = run(*args)
        assert r.returncode != 0 and json.loads(r.stdout)['ok'] is False, (args, r.stdout, r.stderr)
    r = run('--socket', daemon.sock, 'cli', '-')
    assert r.returncode == 0
