"""sipalgd as a program: its options, one clear message for each start-up failure, telemetry read with
the stock dpdk-telemetry.py, and a graceful stop on SIGINT and SIGTERM."""
import json
import signal
import subprocess
import time

import pytest

from pcap_env import config
from sipalg_tools.daemon import (Daemon, control_socket_path, eal_args, remove_runtime_dir, run_pcap, sipalgd_path,
                                 unique_prefix, write_empty_pcap)


def run(args, timeout=30):
    if '--' in args and '--control-socket' not in args:
        args = args + ['--control-socket', control_socket_path()]
    try:
        return subprocess.run([sipalgd_path()] + args, capture_output=True, text=True, timeout=timeout)
    finally:
        if '--file-prefix' in args:
            remove_runtime_dir(args[args.index('--file-prefix') + 1])


def test_help_lists_the_options():
    for args in (['--help'], ['--', '--help']):
        r = run(args)
        assert r.returncode == 0
        for option in ('--config', '--control-socket', '--mbufs', '--arp-timeout', '--frag-timeout-ms',
                       '--exit-when-drained', '--stats-file'):
            assert option in r.stdout


def test_bad_option_is_one_message_and_status_2():
    r = run(['--', '--no-such-option'])
    assert r.returncode == 2
    assert 'no-such-option' in r.stderr
    r = run(['--', '--mbufs', 'many'])
    assert r.returncode == 2
    assert 'mbufs' in r.stderr


def test_unreadable_config_is_one_message(tmp_path):
    r = run(['--', '--config', str(tmp_path / 'missing.yaml')])
    assert r.returncode == 1
    assert r.stderr.strip() == f"sipalgd: cannot read configuration file '{tmp_path / 'missing.yaml'}'"


def test_config_errors_carry_file_line_and_column(tmp_path):
    path = tmp_path / 'bad.yaml'
    path.write_text('system:\n  interface:\n    port1: {dpdk-port: net_pcap0, ip: 10.0.1.999/24}\n')
    r = run(['--', '--config', str(path)])
    assert r.returncode == 1
    assert f'sipalgd: {path}:3:39: system interface port1 ip must be' in r.stderr


def test_missing_port_names_what_exists(tmp_path):
    rx = tmp_path / 'empty.pcap'
    write_empty_pcap(rx)
    cfg = tmp_path / 'c.yaml'
    cfg.write_text(config().replace('net_pcap1', 'net_pcap7'))
    r = run(eal_args(unique_prefix('missing'), [f'net_pcap0,rx_pcap={rx},tx_pcap={tmp_path}/o0.pcap',
                                                f'net_pcap1,rx_pcap={rx},tx_pcap={tmp_path}/o1.pcap']) +
            ['--', '--config', str(cfg), '--exit-when-drained'])
    assert r.returncode == 1
    assert "interface wan1: DPDK port 'net_pcap7' not found (available: 0 (net_pcap0), 1 (net_pcap1))" in r.stderr


def test_one_lcore_is_refused_with_a_reason(tmp_path):
    rx = tmp_path / 'empty.pcap'
    write_empty_pcap(rx)
    cfg = tmp_path / 'c.yaml'
    cfg.write_text(config())
    args = eal_args(unique_prefix('onecore'), [f'net_pcap0,rx_pcap={rx}', f'net_pcap1,rx_pcap={rx}'])
    args[0:2] = ['-l', '0']
    r = run(args + ['--', '--config', str(cfg)])
    assert r.returncode == 1
    assert 'at least two lcores' in r.stderr


@pytest.fixture
def running(tmp_path):
    """sipalgd on an endless capture replayed from memory into a null port."""
    from scapy.layers.inet import IP, UDP
    from scapy.utils import wrpcap
    from pcap_env import from_inside
    rx = tmp_path / 'loop.pcap'
    wrpcap(str(rx), [from_inside(IP(src='10.0.1.2', dst='198.51.100.2') / UDP()) for _ in range(4)])
    cfg = tmp_path / 'c.yaml'
    cfg.write_text(config().replace('net_pcap1', 'net_null0'))
    eal = eal_args(unique_prefix('tel'), [f'net_pcap0,rx_pcap={rx},infinite_rx=1', 'net_null0,no-rx=1'])
    d = Daemon(eal, ['--config', str(cfg), '--mbufs', '8192'], log_path=tmp_path / 'sipalgd.log')
    try:
        d.wait_ready()
        yield d
    finally:
        d.stop()


def stock_telemetry(prefix, command):
    out = subprocess.run(['dpdk-telemetry.py', '-f', prefix], input=command + '\n', capture_output=True, text=True,
                         timeout=20, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_counters_are_readable_with_the_stock_dpdk_telemetry_script(running):
    time.sleep(0.3)
    stats = stock_telemetry(running.prefix, '/sipalg/stats')['/sipalg/stats']
    assert stats['forwarded'] > 0
    assert stats['rx_packets'] >= stats['forwarded']
    assert 'drop_ipv4_bad_checksum' in stats
    worker = stock_telemetry(running.prefix, '/sipalg/worker_stats,0')['/sipalg/worker_stats']
    assert worker['forwarded'] > 0
    itfs = stock_telemetry(running.prefix, '/sipalg/interfaces')['/sipalg/interfaces']
    assert itfs['port1']['ip'] == '10.0.1.1/24'
    assert itfs['wan1']['mac'] == '02:00:00:00:01:01'
    info = stock_telemetry(running.prefix, '/sipalg/info')['/sipalg/info']
    assert info['workers'] == 1 and info['tsc_hz'] > 0
    # The counters keep rising while traffic flows.
    later = stock_telemetry(running.prefix, '/sipalg/stats')['/sipalg/stats']
    assert later['forwarded'] > stats['forwarded']
    # Help comes from the control plane's command table.
    assert 'worker id' in stock_telemetry(running.prefix, '/help,/sipalg/worker_stats')['/help']['/sipalg/worker_stats']


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_gracefully(running, sig):
    import os
    os.killpg(running.proc.pid, sig)
    assert running.proc.wait(20) == 0
    log = running.log_text()
    assert 'sipalgd: stopped; counters:' in log
    assert 'forwarded' in log


def test_exit_when_drained_writes_the_stats_file():
    run = run_pcap(config(), [None, None])
    assert run.returncode == 0, run.stderr
    assert set(run.counters) >= {'rx_packets', 'forwarded', 'drop_no_route'}
    assert set(run.stats['interfaces']) == {'port1', 'wan1'}
