"""The in-process calls benchmark (test/bench/bench_calls.cpp) as a closed-loop test of both engines:
phones and a far side that answers what it actually receives, through a real worker on ring-backed
ports. A short run must complete calls in order with every SIP message translated, none leaving with
the phone's address, no drop and nothing the generator could not place. Its speed is not asserted."""
import os
import re
import subprocess

import pytest

from sipalg_tools.daemon import eal_args, remove_runtime_dir, unique_prefix


@pytest.mark.parametrize('engine', ['helper', 'alg', 'alg-nochecks', 'alg-allchecks', 'alg-nolog', 'alg-logging'])
def test_calls_complete_in_a_closed_loop(engine):
    binary = os.environ.get('SIPALG_BENCH_CALLS')
    if not binary:
        pytest.fail('SIPALG_BENCH_CALLS is not set: run through meson test')
    prefix = unique_prefix('bench-calls-test')
    try:
        p = subprocess.run([binary] + eal_args(prefix, [], memory_mb=1024) + ['--', engine, '0.5', '16'],
                           capture_output=True, text=True, timeout=120)
    finally:
        remove_runtime_dir(prefix)
    assert p.returncode == 0, p.stdout + p.stderr
    summary = next(line for line in p.stdout.splitlines() if line.startswith('#'))
    counts = {name: int(n) for n, name in re.findall(r'(\d+) (calls in|SIP messages|unparsed|calls ended|drops|leaks|'
                                                     r'unexpected)', summary)}
    assert counts['calls in'] > 100, summary
    assert counts['unparsed'] == 0 and counts['drops'] == 0 and counts['leaks'] == 0 and counts['unexpected'] == 0
    # Seven SIP messages a call; the calls in flight at either end of the window (16 phones) blur it.
    assert abs(counts['SIP messages'] - 7 * counts['calls in']) <= 2 * 7 * 16, summary
    assert f'result calls_per_s_{engine.replace("-", "_")} ' in p.stdout
    if engine == 'alg-logging':
        # Every call's start and end became a line the syslog receiver read: made = received.
        made, ring_lost, drained, sent, received = (int(x) for x in re.search(
            r'# logging: (\d+) records made \((\d+) lost in the rings\), (\d+) drained, (\d+) lines sent, (\d+) received',
            p.stdout).groups())
        assert made >= 2 * counts['calls in'] and ring_lost == 0 and drained == made == sent == received, p.stdout
        assert 'result log_lines_lost 0 lines' in p.stdout


def test_the_phones_calls_complete_through_an_invite_flood():
    # The flood case: the far side answers whatever reaches it; the phones' calls complete, and the flood
    # beyond the profile's rate (2,000 a second per source, flooded at ten times that) is dropped.
    binary = os.environ['SIPALG_BENCH_CALLS']
    prefix = unique_prefix('bench-flood-test')
    try:
        p = subprocess.run([binary] + eal_args(prefix, [], memory_mb=1024) + ['--', 'alg-flood', '1', '16'],
                           capture_output=True, text=True, timeout=120)
    finally:
        remove_runtime_dir(prefix)
    assert p.returncode == 0, p.stdout + p.stderr
    flood = re.search(r'phones. calls (\d+) begun or in flight, (\d+) never completed; flood INVITEs (\d+) sent, '
                      r'(\d+) dropped', p.stdout)
    assert flood, p.stdout
    begun, stuck, sent, dropped = (int(x) for x in flood.groups())
    assert begun >= 900 and stuck == 0, p.stdout
    # About 2,000 of the 20,000 a second pass: within what a one-second bucket lets through at the start.
    assert sent >= 18000 and sent - 4500 <= dropped <= sent - 1500, p.stdout


def test_rtp_and_memory_cases_run():
    """The benchmark script's RTP case must still measure media through pinholes under the bounds the
    engines enforce (it stops when the RTP did not go through them), and its memory case must read
    sipalgd's sizes: a short run of each, numbers not asserted."""
    script = os.path.join(os.environ['SIPALG_SOURCE_ROOT'], 'scripts', 'bench', 'calls')
    p = subprocess.run([script, '--runs', '1', '--seconds', '0.5', '--cases', 'rtp,memory'],
                       capture_output=True, text=True, timeout=240)
    assert p.returncode == 0, p.stdout + p.stderr
    names = [line.split()[1] for line in p.stdout.splitlines() if line.startswith('result ')]
    assert names == ['rtp_cycles_per_packet', 'rtp_ratio_io', 'memory_per_call_bytes'], p.stdout


def test_capture_benchmark_runs():
    """scripts/bench/capture must still run a sniffer whose filter matches nothing while sipalgd forwards
    (it stops when the sniffer's reply says otherwise): one short run, numbers not asserted."""
    script = os.path.join(os.environ['SIPALG_SOURCE_ROOT'], 'scripts', 'bench', 'capture')
    p = subprocess.run([script, '--runs', '1', '--seconds', '1', '--flows', '256'], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    names = [line.split()[1] for line in p.stdout.splitlines() if line.startswith('result ')]
    assert names == ['capture_cycles_per_packet_without', 'capture_cycles_per_packet_sniffing', 'capture_cost_ratio'], p.stdout
