"""Which SIP engine takes a session, for each of the seed's configurations entered verbatim through the
control socket (`cli`), against SIP flows replayed from memory: UDP to 5060, 5061 and 5065, TCP to 5064.
The session list shows the seed's flags: `helper=sip` for the session helper, `redir local` for the SIP
ALG, `ndr` for IPS SIP; with both engines off, SIP is plain UDP."""
import time

import pytest
from scapy.layers.inet import IP, TCP, UDP

from pcap_env import config, from_inside, replaying_daemon
from sipalg_tools.daemon import control_request
from sipalg_tools.seed import (KERNEL, SEED_ALG_1, SEED_ALG_2, SEED_ALG_3, SEED_HELPER_1, SEED_HELPER_2,
                               SEED_HELPER_3, SEED_PORTS_1, SEED_PORTS_2)

# Flows: (protocol, destination port) -> (engine, ndr) per configuration. 'none': plain L4.
CASES = {
    'alg-1': (SEED_ALG_1, {('udp', 5060): 'alg', ('udp', 5065): 'none', ('tcp', 5064): 'none'}),
    'alg-2': (SEED_ALG_2, {('udp', 5060): 'alg', ('udp', 5065): 'none'}),
    'alg-3': (SEED_ALG_3, {('udp', 5060): 'alg'}),
    'helper-1': (SEED_HELPER_1, {('udp', 5060): 'helper', ('tcp', 5064): 'none'}),
    'helper-2': (SEED_HELPER_2, {('udp', 5060): 'helper'}),
    'helper-2-kernel': (KERNEL + SEED_HELPER_2, {('udp', 5060): 'helper'}),
    'helper-3-both-off': (SEED_HELPER_3, {('udp', 5060): 'none', ('udp', 5065): 'none'}),
    'ports-1': (SEED_PORTS_1, {('udp', 5065): 'alg', ('tcp', 5064): 'alg', ('udp', 5060): 'helper'}),
    'ports-2': (SEED_PORTS_2, {('udp', 5061): 'alg', ('udp', 5065): 'alg', ('tcp', 5064): 'alg', ('tcp', 5060): 'alg',
                               ('udp', 5060): 'none'}),
    'ports-2-kernel': (SEED_PORTS_2 + KERNEL, {('udp', 5065): 'helper', ('tcp', 5064): 'helper',
                                              ('udp', 5064): 'helper', ('udp', 5061): 'none'}),
    'ips': (SEED_ALG_3.replace('set voip-profile ""', 'set ips-voip-filter "default"'),
            {('udp', 5060): 'alg+ndr'}),
}

BASE = config().replace('net_pcap1', 'net_null0').split('firewall:')[0]


@pytest.fixture
def daemon(tmp_path):
    flows = []
    for sport, (proto, dport) in enumerate(sorted({k for _, flows_ in CASES.values() for k in flows_}), start=40000):
        l4 = UDP(sport=sport, dport=dport) / b'OPTIONS sip:x SIP/2.0\r\n\r\n' if proto == 'udp' else \
            TCP(sport=sport, dport=dport, flags='S', seq=1)
        flows.append(from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / l4))
    with replaying_daemon(tmp_path, flows, BASE, 'sipeng', ['--idle-sleep-us', '100']) as d:
        yield d


def sessions(d, want):
    """The listed sessions by (protocol, destination port), once every wanted flow has one."""
    for _ in range(100):
        r = control_request(d.sock, 'sessions\n')
        assert r['ok'], r
        got = {({17: 'udp', 6: 'tcp'}[s['proto']], int(s['dst'].rsplit(':', 1)[1])): s for s in r['sessions']}
        if all(k in got for k in want):
            return got
        time.sleep(0.05)
    raise AssertionError(f'sessions never appeared: {sorted(want)} in {sorted(got)}')


@pytest.mark.parametrize('case', CASES)
def test_seed_configuration_gives_the_engine_the_table_promises(daemon, case):
    text, want = CASES[case]
    r = control_request(daemon.sock, 'cli\n' + text)
    assert r['ok'], r
    got = sessions(daemon, want)
    for flow, engine in want.items():
        s = got[flow]
        shown = s['engine'] + ('+ndr' if s['ndr'] else '')
        assert shown == engine, (flow, s)
    # The FortiOS shape of the same list: the flags the seed tells operators to look for.
    # (The seed's own text leaves a session filter in force, as FortiOS keeps it between commands.)
    listed = control_request(daemon.sock, 'cli\ndiagnose sys session filter clear\ndiagnose sys session list\n')['output']
    for flow, engine in want.items():
        block = next(b for b in listed.split('\n\n') if f'->198.51.100.2:{flow[1]} ' in b and
                     f'proto={6 if flow[0] == "tcp" else 17} ' in b)
        assert ('helper=sip' in block) == (engine == 'helper'), block
        assert ('redir local' in block) == engine.startswith('alg'), block
        assert (' ndr' in block) == engine.endswith('ndr'), block
