"""Packet captures with the stock DPDK tools: Debian's dpdk-dumpcap, a secondary process, captures the
running sipalgd's wan1 port to pcapng during a SIPp call with RTP, and tshark reads the SIP (as the
appliance sent it, translated) and the RTP from the file. A secondary process attaches to the primary's
shared memory, which --no-huge does not share: this test reserves hugepages for its sipalgd and gives
back what it took."""
import signal
import subprocess
import time
from pathlib import Path

import pytest

from sipalg_tools import tshark
from test_lab_sip import netns, run_call, sip_payloads

NR_HUGEPAGES = Path('/proc/sys/vm/nr_hugepages')
PAGES = 600  # 2 MiB each: sipalgd's -m 1024 and dpdk-dumpcap's own


@pytest.fixture(scope='module', autouse=True)
def hugepages():
    before = int(NR_HUGEPAGES.read_text())
    NR_HUGEPAGES.write_text(str(max(before, PAGES)))
    if int(NR_HUGEPAGES.read_text()) < PAGES:
        NR_HUGEPAGES.write_text(str(before))
        pytest.fail(f'could not reserve {PAGES} hugepages of 2 MiB (memory too fragmented?)')
    yield
    NR_HUGEPAGES.write_text(str(before))


@pytest.mark.parametrize('lab_up', [{'args': ['--no-return-route', '--huge']}], indirect=True)
def test_dpdk_dumpcap_captures_a_call_and_its_media_from_the_running_appliance(lab_up, tmp_path):
    capture = tmp_path / 'wan1.pcapng'
    dumpcap = subprocess.Popen(netns('sipalg-fw', 'dpdk-dumpcap', '--file-prefix', 'sipalg-lab', '-i', 'net_af_packet1',
                                     '-w', str(capture), '-q'),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(2)  # attached, its callbacks installed on the port
        assert dumpcap.poll() is None, dumpcap.stdout.read()
        uac, output, uas, _outside, _inside = run_call(tmp_path, 50)
        assert uac == 0 and uas == 0, output
    finally:
        dumpcap.send_signal(signal.SIGINT)
        log, _ = dumpcap.communicate(timeout=20)
    assert capture.exists(), log
    # The SIP as it left wan1: translated, from the public address.
    sip = sip_payloads(capture)
    invites = [r for r in sip if r['text'].startswith('INVITE')]
    assert invites and invites[0]['ip.src'] == '198.51.100.1' and '10.0.1.2' not in invites[0]['text'], sip
    assert any(r['text'].startswith('SIP/2.0 200') for r in sip) and any(r['text'].startswith('BYE') for r in sip)
    # The RTP both ways on the translated media port.
    rtp = tshark.fields(capture, ['ip.src', 'ip.dst', 'udp.dstport'], 'udp and not udp.port == 5060')
    sent = [r for r in rtp if r['ip.src'] == '198.51.100.1' and r['ip.dst'] == '198.51.100.2']
    echoed = [r for r in rtp if r['ip.src'] == '198.51.100.2' and r['ip.dst'] == '198.51.100.1']
    assert len(sent) >= 40 and len(echoed) >= 40, (len(sent), len(echoed))
