"""The namespace lab for end-to-end tests: scripts/lab brings it up and always tears it down, even when
a test fails. Needs root (network namespaces)."""
import os
import subprocess

import pytest

from sipalg_tools.daemon import SOURCE_ROOT

LAB = str(SOURCE_ROOT / 'scripts' / 'lab')


def lab(*args, check=True, **kw):
    return subprocess.run([LAB] + list(args), check=check, capture_output=True, text=True, **kw)


def in_ns(side, *cmd, check=True, timeout=30, **kw):
    return subprocess.run([LAB, 'exec', side] + list(cmd), check=check, capture_output=True, text=True,
                          timeout=timeout, **kw)


@pytest.fixture(scope='session', autouse=True)
def need_root():
    if os.geteuid() != 0:
        pytest.fail('the namespace lab needs root (ip netns); CI runs the tests as root')


@pytest.fixture
def lab_up(request):
    """scripts/lab up with the parameters of the test; down afterwards whatever happened."""
    params = getattr(request, 'param', {}) or {}
    args = ['up', '--workers', str(params.get('workers', 1))] + list(params.get('args', []))
    try:
        r = lab(*args, check=False)
        assert r.returncode == 0, r.stdout + r.stderr
        yield params
    finally:
        log = lab('log', check=False).stdout
        lab('down', check=False)
        request.node.lab_log = log
