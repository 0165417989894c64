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


@pytest.mark.parametrize('lab_up', [{'args': ['--no-return-route']}], indirect=True)
def test_diagnose_sniffer_packet_shows_a_call_in_and_out_through_its_bpf_filter(lab_up, tmp_path):
    """FortiOS's sniffer on the running appliance (no hugepages needed: the workers copy what the filter
    takes): the INVITE in on port1 from the phone and out on wan1 translated; a filter that matches
    nothing takes nothing; a bad filter is refused at its line."""
    from sipalg_tools.daemon import control_request
    from test_lab_sip import SOCKET
    import threading
    shown = {}

    def sniff():
        shown.update(control_request(SOCKET, "cli\ndiagnose sniffer packet any 'udp port 5060' 4 4\n", timeout=30))
    t = threading.Thread(target=sniff)
    t.start()
    time.sleep(0.5)
    uac, output, uas, _outside, _inside = run_call(tmp_path, 10)
    t.join()
    assert uac == 0 and uas == 0, output
    text = shown['output']
    assert text.startswith('interfaces=[any]\nfilters=[udp port 5060]\n'), text
    lines = [l for l in text.splitlines() if ' -> ' in l]
    assert len(lines) == 4 and '4 packets received by filter' in text, text
    assert any(' port1 in 10.0.1.2.5060 -> 198.51.100.2.5060: udp ' in l for l in lines), text
    assert any(' wan1 out 198.51.100.1.' in l and ' -> 198.51.100.2.5060: udp ' in l for l in lines), text
    none = control_request(SOCKET, "cli\ndiagnose sniffer packet wan1 'tcp port 9' 1 1\n", timeout=30)['output']
    assert '0 packets received by filter' in none, none
    bad = control_request(SOCKET, "cli\ndiagnose sniffer packet any 'udp portt 5060' 1 1\n")
    assert bad['ok'] is False and "filter 'udp portt 5060'" in bad['errors'][0]['message'], bad
    nowhere = control_request(SOCKET, "cli\ndiagnose sniffer packet port9 'udp' 1 1\n")
    assert nowhere['ok'] is False and 'no interface port9' in nowhere['errors'][0]['message'], nowhere
