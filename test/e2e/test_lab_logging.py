"""VoIP logs to a real syslog server: Debian's rsyslogd in the lab's management namespace (sipalg-mgmt,
192.0.2.2) receives what sipalgd's control plane sends over UDP and over TCP (RFC 6587 octet counting),
and writes each message as it came. A SIPp call across the appliance gives a call-start and a call-end
log (44032) whose every field is checked against the call that was made; an OPTIONS the profile blocks
gives a violation log (44033). The same lines are in memory, read back with execute log display."""
import re
import subprocess
import time
from pathlib import Path

import pytest

from sipalg_tools import tshark
from sipalg_tools.daemon import control_request
from test_lab_sip import SOCKET, netns, run_call, sip_payloads

RSYSLOG_CONF = """
global(workDirectory="{work}")
module(load="imudp")
input(type="imudp" address="192.0.2.2" port="514")
module(load="imtcp")
input(type="imtcp" address="192.0.2.2" port="514")
template(name="raw" type="string" string="%rawmsg%\\n")
*.* action(type="omfile" file="{out}" template="raw")
"""


@pytest.fixture
def rsyslog(tmp_path):
    """rsyslogd in sipalg-mgmt, listening on UDP and TCP 514; yields a function returning the lines it
    wrote."""
    work = tmp_path / 'rsyslog'
    work.mkdir()
    out = tmp_path / 'received.log'
    conf = tmp_path / 'rsyslog.conf'
    conf.write_text(RSYSLOG_CONF.format(work=work, out=out))
    p = subprocess.Popen(netns('sipalg-mgmt', 'rsyslogd', '-n', '-f', str(conf), '-i', str(tmp_path / 'rsyslog.pid')),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # Listening once it answers on TCP.
    deadline = time.time() + 10
    while True:
        probe = subprocess.run(netns('sipalg-mgmt', 'bash', '-c', 'exec 3<>/dev/tcp/192.0.2.2/514'), capture_output=True)
        if probe.returncode == 0:
            break
        if time.time() > deadline or p.poll() is not None:
            p.kill()
            pytest.fail(f'rsyslogd did not listen on 192.0.2.2:514: {p.communicate()[0]}')
        time.sleep(0.2)

    def lines():
        return out.read_text().splitlines() if out.exists() else []
    try:
        yield lines
    finally:
        p.terminate()
        p.wait(10)


def apply(yaml):
    r = control_request(SOCKET, 'apply\n' + yaml)
    assert r['ok'] is True, r


def syslog_to(mode):
    return f'log:\n  syslogd:\n    setting: {{status: enable, server: 192.0.2.2, port: 514, mode: {mode}, facility: local0}}\n'


def fields(line):
    """The key=value fields of a log line (string values unquoted)."""
    return {k: (q if q else v) for k, q, v in re.findall(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|(\S*))', line)}


def wait_for(lines, pattern, count=1, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = [l for l in lines() if re.search(pattern, l)]
        if len(got) >= count:
            return got
        time.sleep(0.2)
    return [l for l in lines() if re.search(pattern, l)]


@pytest.mark.parametrize('lab_up', [{'args': ['--no-return-route']}], indirect=True)
def test_a_call_and_a_violation_are_logged_to_rsyslog_over_udp_and_tcp(lab_up, rsyslog, tmp_path):
    apply(syslog_to('udp'))
    uac, output, uas, outside, inside = run_call(tmp_path, 50)
    assert uac == 0 and uas == 0, output
    # The call as it was made: its INVITE as the phone sent it.
    invite = next(r['text'] for r in sip_payloads(inside) if r['text'].startswith('INVITE'))
    call_id = re.search(r'Call-ID: *(\S+)', invite).group(1)
    start, = wait_for(rsyslog, r'status="start"')
    end, = wait_for(rsyslog, r'status="end"')
    # <PRI>: local0 (16) * 8 + information (6).
    assert start.startswith('<134>date=') and end.startswith('<134>date=')
    s, e = fields(start), fields(end)
    for f in (s, e):
        assert f['logid'] == '0814044032' and f['type'] == 'utm' and f['subtype'] == 'voip'
        assert f['eventtype'] == 'voip' and f['level'] == 'information' and f['vd'] == 'root'
        assert (f['srcip'], f['src_port'], f['dstip'], f['dst_port'], f['proto']) == \
            ('10.0.1.2', '5060', '198.51.100.2', '5060', '17')
        assert (f['src_int'], f['dst_int'], f['policy_id'], f['profile']) == ('port1', 'wan1', '1', 'default')
        assert (f['voip_proto'], f['kind'], f['action'], f['dir']) == ('sip', 'call', 'permit', 'session_origin')
        assert f['call_id'] == call_id
        assert f['from'].startswith('sip:') and '@10.0.1.2' in f['from']
        assert f['to'] == 'sip:bob@198.51.100.2:5060'
        assert f['session_id'] == s['session_id']
    assert s['duration'] == '0' and 1 <= int(e['duration']) <= 10
    assert int(e['eventtime']) > int(s['eventtime'])
    assert int(e['event_id']) > int(s['event_id'])

    # The SIP session's end: a forward traffic log (13), logtraffic utm being FortiOS's default (the
    # sessions the SIP ALG inspected). Cleared here rather than waited for.
    control_request(SOCKET, 'cli\ndiagnose sys session filter dport 5060\ndiagnose sys session clear\n')
    traffic, = wait_for(rsyslog, r'logid="0000000013"')
    t = fields(traffic)
    assert traffic.startswith('<133>')  # local0, notice
    assert (t['type'], t['subtype'], t['action'], t['policyid'], t['service']) == ('traffic', 'forward', 'clear_session', '1', 'udp/5060')
    assert (t['srcip'], t['srcport'], t['srcintf'], t['dstip'], t['dstport'], t['dstintf']) == \
        ('10.0.1.2', '5060', 'port1', '198.51.100.2', '5060', 'wan1')
    assert (t['trandisp'], t['transip']) == ('snat', '198.51.100.1') and int(t['transport']) > 0
    # Every SIP message of the call each way (INVITE, ACK, BYE; 180, 200, 200), and their bytes.
    assert int(t['sentpkt']) >= 3 and int(t['rcvdpkt']) >= 3
    assert int(t['sentbyte']) > 500 and int(t['rcvdbyte']) > 500

    # A violation, over TCP: OPTIONS blocked by the profile, logged as 44033 (log-violations).
    apply(syslog_to('reliable') +
          'voip:\n  profile:\n    default: {sip: {block-options: enable, log-violations: enable}}\n')
    options = ('OPTIONS sip:bob@198.51.100.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.1.2:5070;branch=z9hG4bKopt1\r\n'
               'From: <sip:alice@10.0.1.2>;tag=o1\r\nTo: <sip:bob@198.51.100.2>\r\nCall-ID: opt1@10.0.1.2\r\n'
               'CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n')
    subprocess.run(netns('sipalg-in', 'python3', '-c',
                         'import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("10.0.1.2",5070)); '
                         's.sendto(sys.stdin.buffer.read(),("198.51.100.2",5060))'),
                   input=options.encode(), check=True)
    block, = wait_for(rsyslog, r'logid="0814044033"')
    b = fields(block)
    assert block.startswith('<133>')  # local0, notice
    assert (b['reason'], b['message_type'], b['request_name'], b['action']) == ('method blocked', 'request', 'OPTIONS', 'block')
    assert (b['srcip'], b['src_port'], b['call_id'], b['kind']) == ('10.0.1.2', '5070', 'opt1@10.0.1.2', 'other')
    # The same lines in memory, read as FortiOS shows them.
    shown = control_request(SOCKET, 'cli\nexecute log filter category voip\nexecute log filter field call_id '
                                    f'{call_id}\nexecute log display\n')['output']
    assert shown.startswith('2 logs found.\n2 logs returned.\n')
    assert 'status="start"' in shown and 'status="end"' in shown
    via_ctl = control_request(SOCKET, 'log logid=0814044033')['output']
    assert 'request_name="OPTIONS"' in via_ctl
