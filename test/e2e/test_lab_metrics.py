"""Metrics for Prometheus from the running appliance: sipalgd --metrics-listen 127.0.0.1:9464 in the lab.
What it serves passes `promtool check metrics` (Debian's prometheus package), a SIPp call shows in the
counters, gauges and port counters, and a real Prometheus server, started in the appliance's namespace,
scrapes it and answers a query about the call."""
import json
import subprocess
import time
import urllib.parse

import pytest

from sipalg_tools.daemon import control_request
from test_lab_sip import SOCKET, netns, run_call

METRICS = 'http://127.0.0.1:9464/metrics'


def fetch(url):
    r = subprocess.run(netns('sipalg-fw', 'python3', '-c',
                             f'import urllib.request,sys; sys.stdout.write(urllib.request.urlopen("{url}", timeout=10).read().decode())'),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


def samples(text):
    """{(name, labels): value} of the exposition text."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith('#'):
            continue
        head, value = line.rsplit(' ', 1)
        name, _, labels = head.partition('{')
        out[(name, labels.rstrip('}'))] = float(value)
    return out


@pytest.mark.parametrize('lab_up', [{'args': ['--no-return-route', '--', '--metrics-listen', '127.0.0.1:9464']}],
                         indirect=True)
def test_metrics_pass_promtool_count_a_call_and_prometheus_scrapes_them(lab_up, tmp_path):
    first = fetch(METRICS)
    check = subprocess.run(['promtool', 'check', 'metrics'], input=first, capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout.strip() == '' and check.stderr.strip() == '', check.stdout + check.stderr
    before = samples(first)
    assert before[('sipalg_info', 'version="0.1.0",workers="1"')] == 1

    uac, output, uas, _outside, _inside = run_call(tmp_path, 50)
    assert uac == 0 and uas == 0, output
    after = samples(fetch(METRICS))
    assert after[('sipalg_sip_calls_total', 'worker="0"')] == before[('sipalg_sip_calls_total', 'worker="0"')] + 1
    assert after[('sipalg_sip_calls_ended_total', 'worker="0"')] >= 1
    assert after[('sipalg_port_rx_packets_total', 'port="port1"')] > 50  # the call's SIP and its RTP
    assert after[('sipalg_port_rx_packets_total', 'port="wan1"')] > 50
    assert after[('sipalg_sessions', 'worker="0"')] >= 1  # the SIP session lives on after the call
    assert after[('sipalg_calls', 'state="ended",worker="0"')] == 1  # listed a while after its BYE
    assert after[('sipalg_drops_total', 'reason="no_policy",worker="0"')] >= 0
    assert after[('sipalg_worker_busy_seconds_total', 'worker="0"')] > 0
    assert after[('sipalg_log_lines_total', '')] >= 2  # the call's start and end (44032)
    # Policy 1 carried it all: its SIP session and its media (RTP and RTCP sessions both ways).
    hits = after[('sipalg_policy_hits_total', 'policy="1"')]
    assert hits >= 2 and after[('sipalg_policy_packets_total', 'direction="original",policy="1"')] > 50
    assert after[('sipalg_policy_packets_total', 'direction="reply",policy="1"')] > 50
    shown = control_request(SOCKET, 'cli\ndiagnose firewall iprope show 100004 1\n')['output']
    assert shown.startswith('idx=1 pkts/bytes=') and f'hit count:{int(hits)}\n' in shown, shown
    assert ' first:20' in shown and 'established session count:' in shown, shown
    status = control_request(SOCKET, 'cli\nget system performance status\n')['output']
    assert status.startswith('CPU states: ') and 'Worker0 states: ' in status, status
    assert 'Average session setup rate: ' in status and 'Uptime: 0 days' in status, status
    assert int(status.split('Average SIP call setup rate: ')[1].split('.')[0]) >= 0

    # A real Prometheus, scraping every second.
    config = tmp_path / 'prometheus.yml'
    config.write_text('global: {scrape_interval: 1s}\n'
                      'scrape_configs:\n  - job_name: sipalg\n    static_configs: [{targets: ["127.0.0.1:9464"]}]\n')
    prom = subprocess.Popen(netns('sipalg-fw', 'prometheus', f'--config.file={config}', f'--storage.tsdb.path={tmp_path / "tsdb"}',
                                  '--web.listen-address=127.0.0.1:9091'),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        query = 'http://127.0.0.1:9091/api/v1/query?query=' + urllib.parse.quote('sipalg_sip_calls_total{job="sipalg"}')
        answer = None
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                answer = json.loads(fetch(query))
                if answer['status'] == 'success' and answer['data']['result']:
                    break
            except AssertionError:
                pass  # not listening yet
            time.sleep(1)
        assert answer and answer['data']['result'], answer
        assert float(answer['data']['result'][0]['value'][1]) >= 1
        up = json.loads(fetch('http://127.0.0.1:9091/api/v1/query?query=' + urllib.parse.quote('up{job="sipalg"}')))
        assert up['data']['result'][0]['value'][1] == '1'
    finally:
        prom.terminate()
        prom.wait(20)
