"""Reads what left the appliance, as the issues ask: tshark fields, one row per packet."""
import shutil
import subprocess


def available():
    return shutil.which('tshark') is not None


def fields(pcap, names, display_filter=None, checksums=True):
    """Returns one dict per packet with the requested tshark field names. With checksums on, tshark
    verifies IP, ICMP, UDP and TCP checksums so *.checksum.status fields say "1" (good) or "0" (bad)."""
    cmd = ['tshark', '-n', '-r', str(pcap), '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a',
           '-E', 'aggregator=,']
    if checksums:
        cmd += ['-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE']
    if display_filter:
        cmd += ['-Y', display_filter]
    for n in names:
        cmd += ['-e', n]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        values = line.split('\t')
        values += [''] * (len(names) - len(values))
        rows.append(dict(zip(names, values)))
    return rows


def count(pcap, display_filter=None):
    cmd = ['tshark', '-n', '-r', str(pcap)]
    if display_filter:
        cmd += ['-Y', display_filter]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return len(out.splitlines())
