"""A client for DPDK's telemetry v2 socket, the same protocol the stock dpdk-telemetry.py speaks: a
SOCK_SEQPACKET Unix socket under the process's runtime directory; each command is one datagram and each
reply one JSON document."""
import json
import os
import socket
import time


def runtime_dir(file_prefix):
    base = '/var/run/dpdk' if os.geteuid() == 0 else os.environ.get('XDG_RUNTIME_DIR', '/tmp') + '/dpdk'
    return os.path.join(base, file_prefix)


def socket_path(file_prefix):
    return os.path.join(runtime_dir(file_prefix), 'dpdk_telemetry.v2')


class Telemetry:
    def __init__(self, file_prefix, timeout=10.0):
        path = socket_path(file_prefix)
        deadline = time.monotonic() + timeout
        while True:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        hello = json.loads(self.sock.recv(4096).decode())
        self.max_len = hello['max_output_len']
        self.pid = hello['pid']

    def query(self, command):
        """Sends one command ("/sipalg/stats", "/ethdev/stats,1") and returns the value under its name."""
        self.sock.send(command.encode())
        reply = json.loads(self.sock.recv(self.max_len).decode())
        key = command.split(',')[0]
        return reply.get(key)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
