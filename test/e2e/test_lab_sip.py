"""Real calls across the appliance: SIPp as the inside phone (UAC, playing RTP from a pcap) and as the
outside party (UAS, echoing RTP), in the lab's namespaces, with SNAT and no route back to the inside.
tshark on both legs reads what crossed: no inside address in the SIP or SDP that left, the media on
the translated port, and every RTP packet through both ways. Under the SIP ALG (the default) and the
session helper (kernel-helper-based)."""
import contextlib
import json
import math
import re
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from lab_env import lab
from sipalg_tools import seed, tshark
from sipalg_tools.daemon import SOURCE_ROOT, control_request

SCENARIO = Path(__file__).resolve().parent / 'sipp' / 'uac_call.xml'
SIPP_AUDIO = Path('/usr/share/sip-tester/g711a.pcap')
RTP_PACKETS = 100  # 2 s of G.711 at 20 ms (the lists are read 1 s in)
SOCKET = '/run/sipalg-lab/sipalgd.sock'

WORK = Path(tempfile.mkdtemp(prefix='sipalg-lab-sip-'))
HELPER_CONFIG = WORK / 'helper.yaml'
# The session helper, on UDP 5060 (entry 13) and, with an entry without protocol, TCP 5060 too.
HELPER_CONFIG.write_text((SOURCE_ROOT / 'conf' / 'default.yaml').read_text().replace(
    'system:\n', 'system:\n  settings: {default-voip-alg-mode: kernel-helper-based}\n'
    '  session-helper: {13: {name: sip, protocol: 17, port: 5060}, 21: {name: sip, port: 5060}}\n', 1))


def netns(name, *cmd):
    return ['ip', 'netns', 'exec', name] + list(cmd)


class capture:
    """tshark on a lab interface for the length of a with-block."""

    def __init__(self, ns, iface, path):
        self.path = path
        self.p = subprocess.Popen(netns(ns, 'tshark', '-n', '-q', '-i', iface, '-w', str(path), '-a', 'duration:60'),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def __enter__(self):
        # tshark says "Capturing on" once packets are being taken.
        deadline = time.time() + 15
        while time.time() < deadline:
            line = self.p.stderr.readline()
            if 'Capturing on' in line or not line:
                break
        return self

    def __exit__(self, *exc):
        time.sleep(0.5)
        self.p.send_signal(signal.SIGINT)
        self.p.wait(20)


def audio(tmp_path, packets):
    """audio.pcap in the working directory, which the scenarios play: SIPp's own G.711 recording, cut
    to `packets` packets."""
    if not SIPP_AUDIO.exists():
        pytest.fail(f'{SIPP_AUDIO} is missing: scripts/setup installs sip-tester')
    subprocess.run(['editcap', '-r', str(SIPP_AUDIO), str(tmp_path / 'audio.pcap'), f'1-{packets}'], check=True)


@contextlib.contextmanager
def sipp_server(ns, cwd, *args):
    """A SIPp waiting for requests in namespace `ns` (listening once the block starts); killed on leaving
    when it has not ended by itself."""
    p = subprocess.Popen(netns(ns, 'sipp', *args, '-nostdin'), cwd=cwd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        yield p
    finally:
        if p.poll() is None:
            p.kill()


def sipp_call(ns, cwd, target, scenario, *args, timeout=60, calls=1):
    """A SIPp in namespace `ns` running `scenario` (a file, or None when `args` name a built-in one)
    `calls` times against `target` (its own options in `args`); the finished process, its output
    captured."""
    scenario_args = ['-sf', str(scenario)] if scenario is not None else []
    return subprocess.run(netns(ns, 'sipp', target, *scenario_args, *args, '-m', str(calls), '-nostdin'), cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def sip_payloads(pcap, transport='udp'):
    """One row per SIP message on port 5060: a datagram, or (TCP) a message of a direction's byte stream
    put back in order by sequence number and framed by Content-Length, whatever the segments were."""
    t = transport
    rows = tshark.fields(pcap, ['ip.src', 'ip.dst', f'{t}.srcport', f'{t}.dstport', f'{t}.checksum.status',
                                f'{t}.payload'] + (['tcp.seq_raw'] if t == 'tcp' else []),
                         f'{t}.port == 5060' + (' and tcp.len > 0' if t == 'tcp' else ''))
    if t == 'tcp':
        return tcp_messages(rows)
    for r in rows:
        r['text'] = bytes.fromhex(r[f'{t}.payload']).decode(errors='replace')
        r['checksum'] = r[f'{t}.checksum.status']
    return rows


def tcp_messages(rows):
    streams = {}
    for r in rows:
        key = (r['ip.src'], r['ip.dst'], r['tcp.srcport'], r['tcp.dstport'])
        streams.setdefault(key, {'segments': {}, 'checksums': set()})
        streams[key]['segments'][int(r['tcp.seq_raw'])] = bytes.fromhex(r['tcp.payload'])
        streams[key]['checksums'].add(r['tcp.checksum.status'])
    out = []
    for (src, dst, sport, dport), st in streams.items():
        data, at = b'', None
        for seq in sorted(st['segments']):
            piece = st['segments'][seq]
            at = seq if at is None else at
            if seq <= at < seq + len(piece):
                data += piece[at - seq:]
                at = seq + len(piece)
        while data.strip(b'\r\n'):
            data = data.lstrip(b'\r\n')
            end = data.find(b'\r\n\r\n')
            if end < 0:
                break
            length = re.search(rb'\r\n(?:Content-Length|l):\s*(\d+)', data[:end + 2], re.I)
            size = end + 4 + (int(length.group(1)) if length else 0)
            out.append({'ip.src': src, 'ip.dst': dst, 'tcp.srcport': sport, 'tcp.dstport': dport,
                        'text': data[:size].decode(errors='replace'),
                        'checksum': '1' if st['checksums'] <= {'1', '2'} else '0'})
            data = data[size:]
    return out


def rtp_rows(pcap):
    return tshark.fields(pcap, ['ip.src', 'ip.dst', 'udp.srcport', 'udp.dstport', 'udp.checksum.status'],
                         'udp and not udp.port == 5060 and not icmp')


def run_call(tmp_path, packets, during=None, transport='udp'):
    """One call: SIPp UAS outside (echoing RTP), SIPp UAC inside playing `packets` RTP packets; `during`
    runs in the middle of the media. Returns (uac, uas returncode, outside pcap, inside pcap)."""
    audio(tmp_path, packets)
    t = ['-t', 't1'] if transport == 'tcp' else []
    outside, inside = tmp_path / 'outside.pcap', tmp_path / 'inside.pcap'
    with sipp_server('sipalg-out', tmp_path, *t, '-sn', 'uas', '-i', '198.51.100.2', '-p', '5060', '-mi',
                     '198.51.100.2', '-mp', '6000', '-rtp_echo', '-m', '1', '-timeout', '40s') as uas:
        with capture('sipalg-out', 'out0', outside), capture('sipalg-in', 'in0', inside):
            time.sleep(0.5)
            uac = subprocess.Popen(netns('sipalg-in', 'sipp', *t, '198.51.100.2:5060', '-sf', str(SCENARIO),
                                         '-i', '10.0.1.2', '-p', '5060', '-mi', '10.0.1.2',
                                         '-mp', '4000', '-m', '1', '-s', 'bob', '-nostdin', '-timeout', '30s'),
                                   cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if during:
                time.sleep(1.0)
                during()
            out, err = uac.communicate(timeout=60)
            uas.wait(20)
    return uac.returncode, out + err, uas.returncode, outside, inside


def small_mss(mss=536):
    """Both ends announce a small MSS (ip route ... advmss): every INVITE with SDP takes several segments."""
    subprocess.run(netns('sipalg-in', 'ip', 'route', 'change', 'default', 'via', '10.0.1.1', 'advmss', str(mss)), check=True)
    subprocess.run(netns('sipalg-out', 'ip', 'route', 'change', '198.51.100.0/24', 'dev', 'out0', 'advmss', str(mss)),
                   check=True)


@pytest.mark.parametrize('transport', ['udp', 'tcp', 'tcp-mss536'])
@pytest.mark.parametrize('lab_up,engine', [
    pytest.param({'args': ['--no-return-route']}, 'alg', id='alg'),
    pytest.param({'args': ['--no-return-route', '--config', str(HELPER_CONFIG)]}, 'helper', id='helper'),
    # Two workers: the call's SIP, its media ports and both directions of RTP meet on one core.
    pytest.param({'workers': 2, 'args': ['--no-return-route']}, 'alg', id='alg-2-workers'),
], indirect=['lab_up'])
def test_outbound_call_with_rtp_both_ways(lab_up, engine, transport, tmp_path):
    listing = 'diagnose sys sip-proxy calls list' if engine == 'alg' else 'diagnose sys sip dialog list'
    seen = {}

    def look():
        seen['calls'] = control_request(SOCKET, f'cli\n{listing}\n')['output']
        seen['mappings'] = control_request(SOCKET, 'cli\ndiagnose sys sip mapping list\n')['output']
        seen['other'] = control_request(SOCKET, 'cli\ndiagnose sys sip-proxy calls list\ndiagnose sys sip dialog list\n')['output']

    mss = transport == 'tcp-mss536'
    if mss:
        small_mss()
    transport = 'tcp' if mss else transport
    uac_rc, uac_out, uas_rc, outside, inside = run_call(tmp_path, RTP_PACKETS, during=look, transport=transport)
    stats = json.loads(lab('stats').stdout)['/sipalg/stats']
    print({k: v for k, v in stats.items() if v})
    assert uac_rc == 0, uac_out[-3000:]
    # Over TCP SIPp's uas counts its call failed when the connection closes during the 4 s it keeps the
    # call after answering the BYE (whichever side closes first, one of the two SIPps sees that).
    assert uas_rc == 0 or transport == 'tcp'

    # Outside: SIP and SDP carry only the public address; the answer's media port is where RTP goes.
    sent = sip_payloads(outside, transport)
    assert sent and all('10.0.1.' not in r['text'] for r in sent), [r['text'] for r in sent if '10.0.1.' in r['text']]
    assert all(r['checksum'] in ('1', '2') for r in sent)
    invite = next(r for r in sent if r['text'].startswith('INVITE'))
    assert invite['ip.src'] == '198.51.100.1'
    public_rtp = next(line.split()[1] for line in invite['text'].split('\r\n') if line.startswith('m=audio'))
    rtp_out = [r for r in rtp_rows(outside) if r['ip.dst'] == '198.51.100.2' and r['udp.dstport'] == '6000']
    rtp_back = [r for r in rtp_rows(outside) if r['ip.src'] == '198.51.100.2' and r['udp.srcport'] == '6000']
    assert len(rtp_out) == RTP_PACKETS
    assert {(r['ip.src'], r['udp.srcport']) for r in rtp_out} == {('198.51.100.1', public_rtp)}
    assert len(rtp_back) == RTP_PACKETS and {r['udp.dstport'] for r in rtp_back} == {public_rtp}

    # Inside: the echo arrives at the phone's own media port; SIP came back to its own address.
    echoed = [r for r in rtp_rows(inside) if r['ip.src'] == '198.51.100.2' and r['udp.srcport'] == '6000']
    assert len(echoed) == RTP_PACKETS
    assert {(r['ip.dst'], r['udp.dstport']) for r in echoed} == {('10.0.1.2', '4000')}
    answers = [r for r in sip_payloads(inside, transport) if r['text'].startswith('SIP/2.0 200')]
    assert answers and all(f'Via: SIP/2.0/{transport.upper()} 10.0.1.2:5060' in r['text'] for r in answers)

    assert stats['sip_sessions_alg' if engine == 'alg' else 'sip_sessions_helper'] == 1
    assert stats['sip_calls_ended'] == 1

    # During the call: the engine's call list has it answered; the mappings are its RTP and RTCP pinholes.
    print(seen)
    assert 'state=answered' in seen['calls'] and 'total calls 1' in seen['calls']
    assert seen['other'].count('total calls 1') == 1  # the other engine's list is empty
    assert f'mapping: media proto=17 10.0.1.2:4000 <-> 198.51.100.1:{public_rtp}' in seen['mappings']
    assert 'total mappings 2' in seen['mappings']
    # After the BYE: the call is listed as ended for a while, its pinholes are gone.
    after = control_request(SOCKET, f'cli\n{listing}\ndiagnose sys sip mapping list\n')['output']
    assert 'state=ended' in after and 'total mappings 0' in after
    assert stats['sip_unparsed'] == 0 and stats['sip_not_rewritten'] == 0 and stats['sip_inside_address_left'] == 0
    assert sum(v for k, v in stats.items() if k.startswith('sip_tcp_end_')) == 0
    if mss:
        # The messages came in several segments each and left within the far end's MSS.
        assert stats['sip_tcp_segments_held'] > 0
        assert max(int(r['tcp.len']) for r in tshark.fields(outside, ['tcp.len'], 'tcp.len > 0')) <= 536


@pytest.mark.parametrize('lab_up', [{'args': ['--no-return-route']}], indirect=True)
def test_clearing_the_sip_sessions_ends_the_call_in_progress(lab_up, tmp_path):
    # The seed's own commands, through the control socket, while the media flows.
    seed = ('cli\n    # diagnose sys session filter dport 5060\n    # diagnose sys session clear\n'
            '    # diagnose sys session filter sport 5060\n    # diagnose sys session clear\n')
    cleared = []

    def clear():
        cleared.append(control_request(SOCKET, seed))

    packets = 150  # 3 s of audio; the clear comes after about 1 s
    run_call(tmp_path, packets, during=clear)
    stats = json.loads(lab('stats').stdout)['/sipalg/stats']
    print(cleared, {k: v for k, v in stats.items() if v})
    assert cleared and cleared[0]['ok'] and 'cleared 1 session(s)' in cleared[0]['output']
    # The call's media session and pinholes went with its SIP session. The phone keeps sending, and the
    # policy lets that out as any new flow would, but no longer as the call's public media port.
    invite = next(r for r in sip_payloads(tmp_path / 'outside.pcap') if r['text'].startswith('INVITE'))
    public_rtp = next(line.split()[1] for line in invite['text'].split('\r\n') if line.startswith('m=audio'))
    ports = [r['udp.srcport'] for r in rtp_rows(tmp_path / 'outside.pcap') if r['ip.dst'] == '198.51.100.2'
             and r['udp.dstport'] == '6000']
    assert ports and ports[0] == public_rtp and ports[-1] != public_rtp, ports
    assert stats['pinholes_orphaned'] >= 1
    assert stats['media_sessions_closed'] >= 1


# Each of the seed's configurations, applied verbatim over a reset, then a call to the SIP port it is
# about; the SIP session shows the handler the seed's table promises, and the call works. The seed's
# policies do not NAT (edit 0 with defaults), so the lab runs with its route back.
RESET = '''apply
system:
  settings: {default-voip-alg-mode: proxy-based, sip-tcp-port: "5060", sip-udp-port: "5060", sip-ssl-port: 5061}
  session-helper: {13: {name: sip, protocol: 17, port: 5060}}
voip:
  profile: {default: {sip: {status: enable, rtp: enable}}}
firewall:
  policy: {}
'''
SEED_CALLS = [
    ('alg-1', seed.SEED_ALG_1, 5060, 'alg'),
    ('alg-2', seed.SEED_ALG_2, 5060, 'alg'),
    ('alg-3', seed.SEED_ALG_3, 5060, 'alg'),
    ('helper-1', seed.SEED_HELPER_1, 5060, 'helper'),
    ('helper-2', seed.SEED_HELPER_2, 5060, 'helper'),
    ('helper-3-both-off', seed.SEED_HELPER_3, 5060, 'none'),
    ('ports-1', seed.SEED_PORTS_1, 5065, 'alg'),
    ('ports-2', seed.SEED_PORTS_2, 5065, 'alg'),
    ('ports-2-kernel', seed.SEED_PORTS_2 + seed.KERNEL, 5065, 'helper'),
]


@pytest.mark.parametrize('lab_up', [{}], indirect=True)
def test_each_seed_configuration_then_a_call(lab_up, tmp_path):
    audio(tmp_path, 2)
    quick = tmp_path / 'quick.xml'
    quick.write_text(SCENARIO.read_text().replace('<pause milliseconds="3500"/>', '<pause milliseconds="200"/>'))
    failures = []
    with contextlib.ExitStack() as servers:
        for port in (5060, 5065):
            servers.enter_context(sipp_server('sipalg-out', tmp_path, '-sn', 'uas', '-i', '198.51.100.2', '-p',
                                              str(port), '-mi', '198.51.100.2', '-mp', str(port + 1000)))
        for name, text, port, engine in SEED_CALLS:
            assert control_request(SOCKET, RESET)['ok']
            r = control_request(SOCKET, 'cli\n' + text)
            assert r['ok'], (name, r)
            # Sessions made under the previous configuration keep their handler: start clean.
            control_request(SOCKET, 'cli\ndiagnose sys session filter clear\ndiagnose sys session clear\n')
            uac = sipp_call('sipalg-in', tmp_path, f'198.51.100.2:{port}', quick, '-i', '10.0.1.2', '-p', '5062',
                            '-mi', '10.0.1.2', '-mp', '4000', '-s', 'bob', '-timeout', '15s', timeout=30)
            listed = control_request(SOCKET, f'sessions dport={port} proto=17\n')
            engines = {s['engine'] for s in listed['sessions']}
            if uac.returncode != 0 or engines != {engine}:
                failures.append((name, uac.returncode, engines, engine))
    assert failures == []


VIP_CONFIG = WORK / 'vip.yaml'
VIP_CONFIG.write_text((SOURCE_ROOT / 'conf' / 'default.yaml').read_text().replace('firewall:\n', '''firewall:
  vip:
    pbx: {extintf: wan1, extip: 198.51.100.10, mappedip: 10.0.1.2}
''', 1) + '''    2:
      name: to-pbx
      srcintf: wan1
      dstintf: port1
      srcaddr: all
      dstaddr: pbx
      action: accept
      schedule: always
      service: ALL
''')


@pytest.mark.parametrize('lab_up', [{'args': ['--no-return-route', '--config', str(VIP_CONFIG)]}], indirect=True)
def test_inbound_call_through_a_vip_to_the_inside_pbx(lab_up, tmp_path):
    # SIPp as the PBX inside (10.0.1.2, echoing RTP), SIPp as a caller outside dialling the VIP.
    audio(tmp_path, RTP_PACKETS)
    outside = tmp_path / 'outside.pcap'
    with sipp_server('sipalg-in', tmp_path, '-sn', 'uas', '-i', '10.0.1.2', '-p', '5060', '-mi', '10.0.1.2', '-mp',
                     '4000', '-rtp_echo', '-m', '1', '-timeout', '40s') as pbx:
        with capture('sipalg-out', 'out0', outside):
            time.sleep(0.5)
            caller = sipp_call('sipalg-out', tmp_path, '198.51.100.10:5060', SCENARIO, '-i', '198.51.100.2', '-p', '5060',
                               '-mi', '198.51.100.2', '-mp', '6000', '-s', 'pbx', '-timeout', '30s')
            pbx.wait(20)
    stats = json.loads(lab('stats').stdout)['/sipalg/stats']
    assert caller.returncode == 0, caller.stdout[-3000:]
    sip_out = sip_payloads(outside)
    answer = next(r for r in sip_out if r['text'].startswith('SIP/2.0 200') and 'INVITE' in r['text'])
    assert answer['ip.src'] == '198.51.100.10' and '10.0.1.' not in answer['text']
    public_rtp = next(line.split()[1] for line in answer['text'].split('\r\n') if line.startswith('m=audio'))
    echoed = [r for r in rtp_rows(outside) if r['ip.src'] == '198.51.100.10' and r['ip.dst'] == '198.51.100.2']
    assert len(echoed) == RTP_PACKETS and {r['udp.srcport'] for r in echoed} == {public_rtp}
    assert stats['sip_sessions_alg'] == 1 and stats['sip_unparsed'] == 0


@pytest.mark.parametrize('lab_up', [{'args': ['--no-return-route']}], indirect=True)
def test_register_then_an_inbound_call_reaches_the_registered_phone(lab_up, tmp_path):
    sipp_dir = SCENARIO.parent
    with sipp_server('sipalg-out', tmp_path, '-sf', str(sipp_dir / 'register_uas.xml'), '-i', '198.51.100.2', '-p',
                     '5060', '-m', '1', '-timeout', '20s') as registrar:
        reg = sipp_call('sipalg-in', tmp_path, '198.51.100.2:5060', sipp_dir / 'register_uac.xml', '-i', '10.0.1.2',
                        '-p', '5060', '-timeout', '15s', timeout=30)
        registrar.wait(20)
    assert reg.returncode == 0, reg.stdout[-2000:]
    registered = control_request(SOCKET, 'cli\ndiagnose sys sip mapping list\n')['output']
    assert 'mapping: register proto=17 10.0.1.2:5060 <-> 198.51.100.1:5060' in registered, registered
    # The phone now answers calls on the port it registered from; a call comes in from the registrar's
    # address (strict-register) on another port, with no policy inbound: only the registration lets it in.
    audio(tmp_path, 20)
    with sipp_server('sipalg-in', tmp_path, '-sn', 'uas', '-i', '10.0.1.2', '-p', '5060', '-m', '1', '-timeout',
                     '30s') as phone:
        call = sipp_call('sipalg-out', tmp_path, '198.51.100.1:5060', SCENARIO, '-i', '198.51.100.2', '-p', '5070',
                         '-mi', '198.51.100.2', '-mp', '6000', '-s', 'alice', '-timeout', '30s')
        phone.wait(20)
    stats = json.loads(lab('stats').stdout)['/sipalg/stats']
    assert call.returncode == 0, call.stdout[-3000:]
    assert stats['registrations_opened'] == 1 and stats['pinhole_sessions'] >= 1


# Media that changes during a call, with SIPp on both sides (test/e2e/sipp): the far end plays 1 s of
# audio after each answer that leaves the call active, the phone (-rtp_echo) echoes what reaches its
# ports. The phone's own media ports are 4000 (and 4002 after it moves).
PHASE_PACKETS = 50


def far_and_phone(tmp_path, name, during=None):
    """The far end (test/e2e/sipp/<name>_far.xml) outside and the phone (<name>_phone.xml) inside, both
    legs captured; `during(stop)` runs in a thread for the length of the call (stop: a threading.Event
    set when it ends). Returns (phone, far returncode, outside pcap, inside pcap)."""
    audio(tmp_path, PHASE_PACKETS)
    sipp_dir = SCENARIO.parent
    outside, inside = tmp_path / 'outside.pcap', tmp_path / 'inside.pcap'
    stop = threading.Event()
    watcher = threading.Thread(target=during, args=(stop,)) if during else None
    with sipp_server('sipalg-out', tmp_path, '-sf', str(sipp_dir / f'{name}_far.xml'), '-i', '198.51.100.2', '-p',
                     '5060', '-mi', '198.51.100.2', '-mp', '6000', '-m', '1', '-timeout', '40s') as far:
        with capture('sipalg-out', 'out0', outside), capture('sipalg-in', 'in0', inside):
            time.sleep(0.5)
            if watcher:
                watcher.start()
            phone = sipp_call('sipalg-in', tmp_path, '198.51.100.2:5060', sipp_dir / f'{name}_phone.xml', '-i', '10.0.1.2',
                              '-p', '5060', '-mi', '10.0.1.2', '-mp', '4000', '-rtp_echo', '-s', 'far', '-timeout', '40s')
            far.wait(20)
            stop.set()
            if watcher:
                watcher.join(10)
    return phone, far.returncode, outside, inside


def streams(pcap):
    """RTP packets counted per (source, destination) address:port."""
    counts = {}
    for r in rtp_rows(pcap):
        k = (f"{r['ip.src']}:{r['udp.srcport']}", f"{r['ip.dst']}:{r['udp.dstport']}")
        counts[k] = counts.get(k, 0) + 1
    return counts


def m_ports(text):
    return [line.split()[1] for line in text.split('\r\n') if line.startswith('m=')]


@pytest.mark.parametrize('lab_up', [
    pytest.param({'args': ['--no-return-route']}, id='alg'),
    pytest.param({'args': ['--no-return-route', '--config', str(HELPER_CONFIG)]}, id='helper'),
], indirect=True)
def test_media_moves_holds_and_resumes_and_a_rejected_stream_closes(lab_up, tmp_path):
    # The mapping list, read every 150 ms during the call: which inside ports have pinholes.
    states = []

    def watch(stop):
        while not stop.is_set():
            listing = control_request(SOCKET, 'cli\ndiagnose sys sip mapping list\n')['output']
            states.append(frozenset(line.split()[3].split(':')[1] for line in listing.splitlines()
                                    if line.startswith('mapping: media')))
            time.sleep(0.15)

    phone, far_rc, outside, inside = far_and_phone(tmp_path, 'media_changes', during=watch)
    stats = json.loads(lab('stats').stdout)['/sipalg/stats']
    print({k: v for k, v in stats.items() if v})
    assert phone.returncode == 0, phone.stdout[-3000:]
    assert far_rc == 0

    sent = sip_payloads(outside)
    assert sent and all('10.0.1.' not in r['text'] for r in sent), [r['text'] for r in sent if '10.0.1.' in r['text']]
    invites = [r['text'] for r in sent if r['text'].startswith('INVITE')]
    assert len(invites) == 4
    (q1, video), (q2, no_video), (held, _), (q3, _) = (m_ports(t) for t in invites)
    assert video != '0' and no_video == '0' and len({q1, video, q2, q3}) == 4
    assert 'c=IN IP4 0.0.0.0' in invites[2] and held == '4002'  # held: the port as written, nothing opened

    # Each active phase: the far end's audio reaches the phone's port of that phase and is echoed
    # back from the stream's public port; nothing reaches the rejected video's port.
    far = '198.51.100.2:6000'
    out = streams(outside)
    for q in (q1, q2, q3):
        assert out.get((far, f'198.51.100.1:{q}')) == PHASE_PACKETS, out
        assert out.get((f'198.51.100.1:{q}', far)) == PHASE_PACKETS, out
    assert sum(n for (src, dst), n in out.items() if dst.endswith(f':{video}')) == 0
    into = streams(inside)
    assert into.get((far, '10.0.1.2:4000')) == 2 * PHASE_PACKETS, into
    assert into.get((far, '10.0.1.2:4002')) == PHASE_PACKETS, into
    assert into.get(('10.0.1.2:4002', far)) == PHASE_PACKETS, into

    # The pinholes over time (each state held for two reads at least, passing moments left out): the
    # audio alone once the answer rejected the video, the moved port alone, none on hold, the first
    # port again on resume; none after the BYE.
    steady = [s for i, s in enumerate(states) if i > 0 and states[i - 1] == s]
    collapsed = [s for i, s in enumerate(steady) if i == 0 or steady[i - 1] != s]
    print([sorted(s) for s in collapsed])
    expected = [{'4000', '4001'}, {'4002', '4003'}, set(), {'4000', '4001'}]
    it = iter(collapsed)
    assert all(any(s == e for s in it) for e in expected), [sorted(s) for s in collapsed]
    assert not any('4004' in s for s in steady)
    assert 'total mappings 0' in control_request(SOCKET, 'cli\ndiagnose sys sip mapping list\n')['output']
    assert stats['sip_unparsed'] == 0 and stats['sip_not_rewritten'] == 0


@pytest.mark.parametrize('lab_up', [
    pytest.param({'args': ['--no-return-route']}, id='alg'),
    pytest.param({'args': ['--no-return-route', '--config', str(HELPER_CONFIG)]}, id='helper'),
], indirect=True)
def test_a_late_offer_answered_in_the_ack_carries_the_media(lab_up, tmp_path):
    phone, far_rc, outside, inside = far_and_phone(tmp_path, 'late_offer')
    assert phone.returncode == 0, phone.stdout[-3000:]
    assert far_rc == 0
    sent = sip_payloads(outside)
    assert sent and all('10.0.1.' not in r['text'] for r in sent)
    invite = next(r['text'] for r in sent if r['text'].startswith('INVITE'))
    assert 'Content-Length: 0' in invite and 'm=' not in invite
    ack = next(r['text'] for r in sent if r['text'].startswith('ACK'))
    public_rtp, video = m_ports(ack)
    assert video == '0' and public_rtp != '4000'
    far = '198.51.100.2:6000'
    out = streams(outside)
    assert out.get((far, f'198.51.100.1:{public_rtp}')) == PHASE_PACKETS, out
    assert out.get((f'198.51.100.1:{public_rtp}', far)) == PHASE_PACKETS, out
    assert streams(inside).get((far, '10.0.1.2:4000')) == PHASE_PACKETS


TWO_CALLS_PHONE = Path(__file__).resolve().parent / 'sipp' / 'two_calls_phone.xml'
TWO_CALLS_FAR = Path(__file__).resolve().parent / 'sipp' / 'two_calls_far.xml'


@pytest.mark.parametrize('lab_up,engine', [
    pytest.param({'args': ['--no-return-route']}, 'alg', id='alg'),
    pytest.param({'args': ['--no-return-route', '--config', str(HELPER_CONFIG)]}, 'helper', id='helper'),
], indirect=['lab_up'])
def test_one_phone_media_port_in_two_calls_gets_the_media_of_both(lab_up, engine, tmp_path):
    # A phone with a fixed RTP port (4000) calls two far ends at once (198.51.100.2 and .3); each plays
    # 2 s of audio to the port it was offered, the phone echoes it.
    audio(tmp_path, RTP_PACKETS)
    subprocess.run(netns('sipalg-out', 'ip', 'addr', 'add', '198.51.100.3/24', 'dev', 'out0'), check=True)
    (tmp_path / 'calls.csv').write_text('SEQUENTIAL\n198.51.100.2\n198.51.100.3\n')
    outside, inside = tmp_path / 'outside.pcap', tmp_path / 'inside.pcap'
    far_args = ['-sf', str(TWO_CALLS_FAR), '-p', '5060', '-mp', '6000', '-m', '1', '-timeout', '40s']
    with sipp_server('sipalg-out', tmp_path, '-i', '198.51.100.2', '-mi', '198.51.100.2', *far_args) as far1, \
            sipp_server('sipalg-out', tmp_path, '-i', '198.51.100.3', '-mi', '198.51.100.3', *far_args) as far2:
        with capture('sipalg-out', 'out0', outside), capture('sipalg-in', 'br0', inside):
            time.sleep(0.5)
            phone = sipp_call('sipalg-in', tmp_path, '198.51.100.2:5060', TWO_CALLS_PHONE, '-inf', 'calls.csv',
                              '-i', '10.0.1.2', '-p', '5060', '-mi', '10.0.1.2', '-mp', '4000', '-rtp_echo',
                              '-l', '2', '-r', '10', '-timeout', '30s', calls=2)
            far1.wait(20)
            far2.wait(20)
    assert phone.returncode == 0, phone.stdout[-3000:] + phone.stderr[-2000:]
    rows = tshark.fields(inside, ['ip.src', 'udp.srcport', 'ip.dst', 'udp.dstport'], 'udp and not udp.port == 5060')
    for far in ('198.51.100.2', '198.51.100.3'):
        # Each far end's audio reached the phone's one port, and the phone's echo went back to it.
        heard = [r for r in rows if r['ip.src'] == far and r['udp.srcport'] == '6000']
        assert len(heard) == RTP_PACKETS and {(r['ip.dst'], r['udp.dstport']) for r in heard} == {('10.0.1.2', '4000')}
        assert len([r for r in rows if r['ip.dst'] == far and r['udp.srcport'] == '4000']) == RTP_PACKETS
    out = tshark.fields(outside, ['ip.src', 'udp.srcport', 'ip.dst', 'udp.dstport'], 'udp and not udp.port == 5060')
    public = {far: {r['udp.srcport'] for r in out if r['ip.dst'] == far} for far in ('198.51.100.2', '198.51.100.3')}
    # Each call's media left from its own public port.
    assert all(len(p) == 1 for p in public.values()) and public['198.51.100.2'] != public['198.51.100.3'], public


@pytest.mark.parametrize('lab_up,engine', [
    pytest.param({'args': ['--no-return-route']}, 'alg', id='alg'),
    pytest.param({'args': ['--no-return-route', '--config', str(HELPER_CONFIG)]}, 'helper', id='helper'),
], indirect=['lab_up'])
def test_sip_over_one_tcp_connection_at_rate_leaves_no_call_hanging(lab_up, engine, tmp_path):
    # SIPp's own UAC and UAS over one TCP connection (-t t1), 3,200 calls a second for 10 s: every call
    # completes, none fails or hangs, and no inside address leaves.
    rate, seconds = 3200, 10
    outside = tmp_path / 'outside.pcap'
    with sipp_server('sipalg-out', tmp_path, '-sn', 'uas', '-t', 't1', '-i', '198.51.100.2', '-p', '5060') as uas:
        dump = subprocess.Popen(netns('sipalg-out', 'dumpcap', '-q', '-i', 'out0', '-f', 'tcp port 5060', '-w', str(outside),
                                      '-B', '64'), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        try:
            uac = sipp_call('sipalg-in', tmp_path, '198.51.100.2:5060', None, '-sn', 'uac', '-t', 't1', '-i', '10.0.1.2',
                            '-p', '5060', '-r', str(rate), '-timeout', '60s', '-recv_timeout', '10000',
                            timeout=120, calls=rate * seconds)
        finally:
            time.sleep(0.5)
            dump.send_signal(signal.SIGINT)
            dump.wait(20)
            uas.kill()
    stats = json.loads(lab('stats').stdout)['/sipalg/stats']
    print({k: v for k, v in stats.items() if v and (k.startswith('sip') or k.startswith('drop'))})
    assert uac.returncode == 0, uac.stdout[-3000:] + uac.stderr[-2000:]
    totals = re.search(r'Successful call\s*\|\s*\d+\s*\|\s*(\d+)', uac.stdout)
    failed = re.search(r'Failed call\s*\|\s*\d+\s*\|\s*(\d+)', uac.stdout)
    assert totals and int(totals.group(1)) == rate * seconds and failed and int(failed.group(1)) == 0, uac.stdout[-3000:]
    assert stats['sip_tcp_connections'] == 1 and stats['sip_inside_address_left'] == 0
    assert sum(v for k, v in stats.items() if k.startswith('sip_tcp_end_')) == 0
    assert stats['sip_calls'] == rate * seconds and stats['sip_calls_ended'] == rate * seconds
    # What left (as far as the capture kept up) never names the inside address.
    assert outside.stat().st_size > 1_000_000 and b'10.0.1.2' not in outside.read_bytes()


FLOOD_CONFIG = WORK / 'flood.yaml'
# The default profile with an INVITE rate of 20 a second per source address.
FLOOD_CONFIG.write_text((SOURCE_ROOT / 'conf' / 'default.yaml').read_text() +
                        'voip:\n  profile:\n    default: {sip: {invite-rate: 20, invite-rate-track: src-ip}}\n')


@pytest.mark.parametrize('lab_up', [{'args': ['--no-return-route', '--config', str(FLOOD_CONFIG)]}], indirect=True)
def test_an_invite_flood_from_one_phone_leaves_the_other_phones_calls_alone(lab_up, tmp_path):
    # 10.0.1.3 floods INVITEs at 200 a second, ten times the profile's invite-rate (20, per source), for
    # 12 s, while 10.0.1.2 makes 40 calls with RTP at 4 a second through the same policy: at least 99% of
    # those complete, and the flood beyond the rate is dropped and counted.
    audio(tmp_path, 25)
    flood_calls, flood_rate = 2400, 200
    with sipp_server('sipalg-out', tmp_path, '-sn', 'uas', '-i', '198.51.100.2', '-p', '5060', '-mi', '198.51.100.2',
                     '-mp', '6000', '-rtp_echo'):
        flood = subprocess.Popen(netns('sipalg-in2', 'sipp', '198.51.100.2:5060', '-sn', 'uac', '-i', '10.0.1.3', '-p', '5060',
                                       '-r', str(flood_rate), '-m', str(flood_calls), '-recv_timeout', '2000',
                                       '-timeout', '40s', '-nostdin'),
                                 cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(1.0)
            phone = sipp_call('sipalg-in', tmp_path, '198.51.100.2:5060', SCENARIO, '-i', '10.0.1.2', '-p', '5062',
                              '-mi', '10.0.1.2', '-mp', '4000', '-s', 'bob', '-r', '4', '-timeout', '40s',
                              '-recv_timeout', '5000', timeout=90, calls=40)
        finally:
            flood.wait(60)
    stats = json.loads(lab('stats').stdout)['/sipalg/stats']
    print({k: v for k, v in stats.items() if v and (k.startswith('sip') or k.startswith('drop'))})
    ok = re.search(r'Successful call\s*\|\s*\d+\s*\|\s*(\d+)', phone.stdout)
    assert ok, phone.stdout[-3000:] + phone.stderr[-2000:]
    assert int(ok.group(1)) >= math.ceil(0.99 * 40), phone.stdout[-3000:]
    # The flood: far more INVITEs arrived than its rate lets through, and what was over it was dropped.
    assert stats['drop_sip_rate'] >= flood_calls // 2, stats
    assert stats['pinholes_opened'] > 0 and stats['sip_inside_address_left'] == 0
