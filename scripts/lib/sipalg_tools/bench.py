"""The benchmark harness (issue "sipalg 1/5"): one sipalgd worker against dpdk-testpmd on the identical
virtual-device set-up in the same invocation. Input is a capture replayed from memory by net_pcap with
infinite_rx=1, output is net_null; throughput is read from the null port's ethdev counters through
rte_telemetry for both programs. Runs alternate between the programs so machine noise hits each alike,
and the median of several runs is reported with cycles per packet (TSC cycles of the one worker)."""
import os
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from .daemon import eal_args, remove_runtime_dir, sipalgd_path, unique_prefix
from .telemetry import Telemetry

NULL_PORT = 1  # the second vdev: net_pcap0 is port 0, net_null0 is port 1


def vdevs(pcap):
    return [f'net_pcap0,rx_pcap={pcap},infinite_rx=1', 'net_null0,no-rx=1']


def packets_in(pcap):
    size = os.path.getsize(pcap)
    with open(pcap, 'rb') as f:
        f.read(24)
        n = 0
        while True:
            hdr = f.read(16)
            if len(hdr) < 16:
                return n
            caplen = int.from_bytes(hdr[8:12], 'little')
            f.seek(caplen, 1)
            n += 1
    return size


def connect(prefix, proc, log, ready_query):
    """A telemetry connection to the benchmark process once `ready_query` answers; the process's log
    in the error when it exits or does not come up within 30 s."""
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f'benchmark process exited with {proc.returncode}: {Path(log).read_text()[-2000:]}')
        try:
            t = Telemetry(prefix, timeout=0.5)
            if t.query(ready_query):
                return t
            t.close()
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(Path(log).read_text()[-2000:])
        time.sleep(0.1)


def _measure(prefix, proc, warmup, seconds, log):
    with connect(prefix, proc, log, f'/ethdev/stats,{NULL_PORT}') as t:
        time.sleep(warmup)
        a = t.query(f'/ethdev/stats,{NULL_PORT}')['opackets']
        t0 = time.monotonic()
        time.sleep(seconds)
        b = t.query(f'/ethdev/stats,{NULL_PORT}')['opackets']
        t1 = time.monotonic()
    return (b - a) / (t1 - t0)


def stop(proc, prefix):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    remove_runtime_dir(prefix)


def hugepages_available(pages_needed=1024):
    """Reserves 2 MiB hugepages through scripts/hugepages when root; True when enough are free."""
    from .daemon import SOURCE_ROOT
    if os.geteuid() == 0:
        subprocess.run([str(SOURCE_ROOT / 'scripts' / 'hugepages'), 'reserve', str(pages_needed + 512)],
                       capture_output=True)
    try:
        meminfo = Path('/proc/meminfo').read_text()
        free = int(next(l.split()[1] for l in meminfo.splitlines() if l.startswith('HugePages_Free')))
        return free >= pages_needed and os.path.ismount('/dev/hugepages')
    except (StopIteration, ValueError, OSError):
        return False


def run_testpmd(mode, pcap, warmup=1.0, seconds=3.0, hugepages=False, memory_mb=1024, mbuf_size=None):
    """Packets per second of dpdk-testpmd in `mode` (io: touches no packet data; mac: rewrites the
    Ethernet addresses) on one forwarding core. `mbuf_size` (data room) keeps large captures small."""
    prefix = unique_prefix(f'tp{mode}')
    mbufs = packets_in(pcap) + 8192
    cmd = ['dpdk-testpmd'] + eal_args(prefix, vdevs(pcap), memory_mb=memory_mb, hugepages=hugepages) + [
        '--', f'--forward-mode={mode}', f'--total-num-mbufs={mbufs}', '--nb-cores=1', '--portmask=0x3']
    if mbuf_size:
        cmd.append(f'--mbuf-size={mbuf_size + 128}')  # testpmd counts the headroom in
    log = tempfile.mktemp(prefix='testpmd-', suffix='.log')
    with open(log, 'w') as out:
        # testpmd without -i forwards until a line arrives on stdin: keep stdin open.
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            return _measure(prefix, proc, warmup, seconds, log)
        finally:
            stop(proc, prefix)


def run_sipalgd(config_text, pcap, warmup=1.0, seconds=3.0, extra=(), hugepages=False, memory_mb=1024,
                mbuf_size=None):
    """Packets per second of one sipalgd worker, and its TSC frequency."""
    prefix = unique_prefix('bench')
    workdir = Path(tempfile.mkdtemp(prefix='sipalg-bench-'))
    (workdir / 'bench.yaml').write_text(config_text)
    mbufs = packets_in(pcap) + 8192
    cmd = [sipalgd_path()] + eal_args(prefix, vdevs(pcap), memory_mb=memory_mb, hugepages=hugepages) + [
        '--', '--config', str(workdir / 'bench.yaml'), '--mbufs', str(mbufs),
        '--control-socket', str(workdir / 'sipalgd.sock')] + list(extra)
    if mbuf_size:
        cmd += ['--mbuf-size', str(mbuf_size)]
    log = workdir / 'sipalgd.log'
    with open(log, 'w') as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            pps = _measure(prefix, proc, warmup, seconds, log)
            with Telemetry(prefix) as t:
                tsc_hz = t.query('/sipalg/info')['tsc_hz']
                counters = t.query('/sipalg/stats')
                sessions = t.query('/sipalg/sessions,proto=255')  # absent before the firewall issue
                counters['sessions_active'] = sessions['active'] if sessions else 0
            return pps, tsc_hz, counters
        finally:
            stop(proc, prefix)


def result(name, value, unit):
    """The one output format every benchmark shares."""
    if isinstance(value, float):
        value = f'{value:.3f}' if abs(value) < 100 else f'{value:.1f}'
    print(f'result {name} {value} {unit}', flush=True)


def median(values):
    return statistics.median(values)
