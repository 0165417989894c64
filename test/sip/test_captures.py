"""SIP messages from real captures (../shared/corpora/pcaps, read at test time: they are GPL, LGPL, MIT
and BSD files and are not copied into this repository) through `sipalgctl sip-check`, as an operator
would run it: every message parses; the only findings are the vendor headers sipalg does not know and,
in the two synthetic negative captures, the faults they were made with. SIP over TCP is framed by
`--stream`; an HTTP stream on the SIP port is refused."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(os.environ.get('SIPALG_SOURCE_ROOT') or Path(__file__).resolve().parents[2])
sys.path.insert(0, str(ROOT / 'scripts' / 'lib'))
from sipalg_tools import tshark  # noqa: E402

CORPORA = Path(os.environ.get('SIPALG_CORPORA') or ROOT.parent / 'shared' / 'corpora')
PCAPS = CORPORA / 'pcaps'
SIPALGCTL = os.environ.get('SIPALGCTL') or str(ROOT / 'build' / 'control' / 'sipalgctl')

# Headers in these captures that no RFC defines: reported as unknown-header, as FortiOS would.
VENDOR_HEADERS = {'P-hint', 'cisco-GUID', 'h323-conf-id', 'Session-GUID', 'Quintum', 'X-Asterisk-HangupCause',
                  'X-Asterisk-HangupCauseCode'}

# Synthetic negative inputs (zeek): what each message was built to get wrong.
EXPECTED = {
    'invalid-content-length.pcap': {'malformed-header-content-length'},
    'sip-junk-before-request.pcap': {'malformed-header-to', 'malformed-header-from', 'malformed-header-cseq',
                                     'malformed-header-call-id', 'malformed-header-via'},
}


@pytest.fixture(scope='module', autouse=True)
def corpora():
    if not PCAPS.is_dir():
        pytest.skip(f'the shared corpora are not at {CORPORA} (set SIPALG_CORPORA): capture tests not run')
    if not tshark.available():
        pytest.fail('tshark is missing: run scripts/setup')


def captures():
    return sorted(p for p in PCAPS.rglob('*') if p.is_file() and p.suffix not in ('.md', '.txt') and
                  p.name != 'SHA256SUMS')


def udp_messages(pcap):
    rows = tshark.fields(pcap, ['udp.payload'], 'sip && udp', checksums=False)
    return [bytes.fromhex(r['udp.payload']) for r in rows if r['udp.payload']]


def sip_check(tmp_path, name, data, *extra):
    path = tmp_path / name
    path.write_bytes(data)
    out = subprocess.run([SIPALGCTL, 'sip-check', '--json', *extra, str(path)], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode in (0, 1), out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def test_every_udp_sip_message_parses_with_only_expected_findings(tmp_path):
    total = 0
    unknown = set()
    for pcap in captures():
        for i, data in enumerate(udp_messages(pcap)):
            (report,) = sip_check(tmp_path, f'{pcap.name}-{i}.sip', data)
            assert report['parsed'], report
            total += 1
            checks = {f['check'] for f in report['findings']}
            if pcap.name in EXPECTED:
                assert checks == EXPECTED[pcap.name], (pcap.name, report)
                continue
            for f in report['findings']:
                assert f['check'] == 'unknown-header', (pcap.name, i, report)
                unknown.add(f['field'])
    assert total >= 400
    assert unknown == VENDOR_HEADERS


def tcp_streams(pcap):
    """Each TCP stream's two directions as byte strings, from tshark's follow output."""
    count = len({r['tcp.stream'] for r in tshark.fields(pcap, ['tcp.stream'], 'tcp.len > 0', checksums=False)})
    streams = []
    for n in range(count):
        out = subprocess.run(['tshark', '-n', '-r', str(pcap), '-q', '-z', f'follow,tcp,raw,{n}'], capture_output=True,
                             text=True, check=True).stdout
        sides = [bytearray(), bytearray()]
        body = out.split('=' * 67)[1] if '=' * 67 in out else out
        for line in body.splitlines():
            if not line.strip() or ':' in line:
                continue
            side = 1 if line.startswith('\t') else 0
            sides[side] += bytes.fromhex(line.strip())
        streams.append(sides)
    return streams


def test_sip_over_tcp_frames_into_clean_messages(tmp_path):
    pcap = PCAPS / 'nextcaller-sip-capture' / 'sip-tcp.pcap'
    messages = 0
    for n, sides in enumerate(tcp_streams(pcap)):
        for side, data in enumerate(sides):
            if not data:
                continue
            reports = sip_check(tmp_path, f'tcp-{n}-{side}', bytes(data), '--stream')
            for r in reports:
                assert 'stream_error' not in r, r
                assert r['parsed'] and not r['findings'], r
                messages += 1
    assert messages == 30


def test_http_on_the_sip_port_is_refused_as_a_stream(tmp_path):
    pcap = PCAPS / 'ndpi' / 'http_on_sip_port.pcap'
    refused = 0
    for n, sides in enumerate(tcp_streams(pcap)):
        for side, data in enumerate(sides):
            if data:
                reports = sip_check(tmp_path, f'http-{n}-{side}', bytes(data), '--stream')
                assert reports[-1].get('stream_error') == 'not_sip', reports
                refused += 1
    assert refused >= 1
