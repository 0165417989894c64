"""Runs sipalgd: once over net_pcap ports until its inputs drain (pcap tests), or in the background
(lab, benchmarks). Every run gets its own EAL --file-prefix, so several may run at once."""
import itertools
import json
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SOURCE_ROOT = Path(os.environ.get('SIPALG_SOURCE_ROOT') or Path(__file__).resolve().parents[3])
_counter = itertools.count()


def sipalgd_path():
    path = os.environ.get('SIPALGD') or str(SOURCE_ROOT / 'build' / 'control' / 'sipalgd')
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(f'sipalgd not found at {path}: build first (meson setup build && ninja -C build)')
    return path


def unique_prefix(tag):
    return f'sipalg-{tag}-{os.getpid()}-{next(_counter)}'


def lcore_args(workers):
    """The main lcore is the control core; each worker gets one more lcore. On a 2-CPU machine the
    lcores are spread over the CPUs with --lcores (correctness, not speed, is tested with two workers)."""
    cpus = os.cpu_count() or 1
    if workers + 1 <= cpus:
        return ['-l', f'0-{workers}']
    mapping = ','.join(f'{lc}@{lc % cpus}' for lc in range(workers + 1))
    return [f'--lcores={mapping}']


def eal_args(prefix, vdevs, workers=1, memory_mb=512, hugepages=False):
    """EAL arguments for virtual devices only. Without hugepages (the default, what tests use) memory
    comes from ordinary 4 KiB pages; with them, from the hugetlbfs that scripts/hugepages mounts."""
    args = lcore_args(workers) + ([] if hugepages else ['--no-huge']) + [
        '--no-pci', '-m', str(memory_mb), '--file-prefix', prefix, '--log-level', 'lib.eal:warning']
    for v in vdevs:
        args.append(f'--vdev={v}')
    return args


def control_socket_path():
    """A control socket of its own for a daemon the tests start (they run side by side)."""
    return str(Path(tempfile.mkdtemp(prefix='sipalg-ctl-')) / 'sipalgd.sock')


BODY_COMMANDS = ('apply', 'validate', 'cli')


def frame_request(text):
    """A request framed as sipalgd reads it (README "The control socket"): the command line, and for
    apply, validate and cli the body's lines, a leading "." doubled, then a line with a single "."."""
    command, _, body = text.partition('\n')
    if command.split(' ')[0] not in BODY_COMMANDS:
        return command + '\n'
    if body and not body.endswith('\n'):
        body += '\n'
    lines = body.split('\n')[:-1] if body else []
    return command + '\n' + ''.join(('.' if ln.startswith('.') else '') + ln + '\n' for ln in lines) + '.\n'


def control_request(path, text, timeout=20, raw=False):
    """One request on a control socket: `text` is the command line and its body, framed here (`raw`:
    bytes sent as they are), then the end of writing; the JSON reply, parsed."""
    import socket
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        if not raw:
            text = frame_request(text)
        s.sendall(text.encode() if isinstance(text, str) else text)
        s.shutdown(socket.SHUT_WR)
        data = b''
        while chunk := s.recv(65536):
            data += chunk
    return json.loads(data)


def remove_runtime_dir(prefix):
    """DPDK leaves its runtime directory (config, memory maps, sockets) behind, and a primary process on
    hugepages its hugepage files (kept for secondary processes): each holds its pages until removed, so
    a run under a prefix of its own would keep them for good. Remove both after a run."""
    from .telemetry import runtime_dir
    shutil.rmtree(runtime_dir(prefix), ignore_errors=True)
    for f in Path('/dev/hugepages').glob(f'{prefix}map_*'):
        f.unlink(missing_ok=True)


def write_empty_pcap(path):
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))


@dataclass
class PcapRun:
    returncode: int
    stderr: str
    stats: dict
    outputs: list
    workdir: Path
    counters: dict = field(default_factory=dict)

    def counter(self, name):
        return self.counters[name]


def run_pcap(config, inputs, workers=1, extra=(), timeout=60, workdir=None):
    """Runs sipalgd with one net_pcap port per entry of `inputs` (net_pcap0, net_pcap1, ...). An entry is
    a list of scapy packets, a path to a capture, or None for a port that receives nothing. The config
    text names those ports. Returns the outputs (tx_pcap per port), the exit status, stderr, and the
    counters the daemon wrote at exit."""
    from scapy.utils import wrpcap  # only the pcap tests need scapy

    workdir = Path(workdir or tempfile.mkdtemp(prefix='sipalg-pcap-'))
    (workdir / 'sipalg.yaml').write_text(config)
    vdevs, outputs = [], []
    for i, packets in enumerate(inputs):
        rx = workdir / f'in{i}.pcap'
        if packets is None:
            write_empty_pcap(rx)
        elif isinstance(packets, (str, Path)):
            rx = Path(packets)
        else:
            wrpcap(str(rx), packets)
        tx = workdir / f'out{i}.pcap'
        outputs.append(tx)
        vdevs.append(f'net_pcap{i},rx_pcap={rx},tx_pcap={tx}')
    stats_file = workdir / 'stats.json'
    prefix = unique_prefix('pcap')
    cmd = [sipalgd_path()] + eal_args(prefix, vdevs, workers) + [
        '--', '--config', str(workdir / 'sipalg.yaml'), '--exit-when-drained', '--stats-file', str(stats_file),
        '--control-socket', str(workdir / 'sipalgd.sock'),
        '--mbufs', '8192', '--idle-sleep-us', '100'] + list(extra)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    finally:
        remove_runtime_dir(prefix)
    stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    return PcapRun(proc.returncode, proc.stderr, stats, outputs, workdir, stats.get('counters', {}))


class Daemon:
    """sipalgd in the background until stop(); optionally inside a network namespace."""

    def __init__(self, eal, options, netns=None, log_path=None):
        self.prefix = next(a for i, a in enumerate(eal) if i > 0 and eal[i - 1] == '--file-prefix')
        options = list(options)
        if '--control-socket' not in options:
            options += ['--control-socket', control_socket_path()]
        self.control_socket = options[options.index('--control-socket') + 1]
        cmd = [sipalgd_path()] + list(eal) + ['--'] + options
        if netns:
            cmd = ['ip', 'netns', 'exec', netns] + cmd
        self.log_path = Path(log_path or tempfile.mktemp(prefix='sipalgd-', suffix='.log'))
        self.log = open(self.log_path, 'w')
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout=30):
        """Waits until the telemetry socket answers /sipalg/info (the data plane is up)."""
        from .telemetry import Telemetry
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f'sipalgd exited with {self.proc.returncode}:\n{self.log_text()}')
            try:
                with Telemetry(self.prefix, timeout=0.5) as t:
                    if t.query('/sipalg/info'):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f'sipalgd did not come up:\n{self.log_text()}')

    def telemetry(self):
        from .telemetry import Telemetry
        return Telemetry(self.prefix)

    def stop(self, timeout=20):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        remove_runtime_dir(self.prefix)
        return self.proc.returncode

    def log_text(self):
        self.log.flush()
        return self.log_path.read_text()
