"""pytest set-up shared by the pcap (test/dataplane) and lab (test/e2e) suites: the helpers live in
scripts/lib so the lab and the benchmarks use the same code."""
import os
import sys
from pathlib import Path

ROOT = Path(os.environ.get('SIPALG_SOURCE_ROOT') or Path(__file__).resolve().parents[1])
sys.path.insert(0, str(ROOT / 'scripts' / 'lib'))

import tempfile  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(autouse=True, scope='session')
def work_under_pytest_basetemp(tmp_path_factory):
    """Every work directory the helpers make (daemon runs, captures, sockets) goes under pytest's own
    base directory, which pytest prunes to the last three runs; /tmp does not fill with them."""
    saved = tempfile.tempdir
    tempfile.tempdir = str(tmp_path_factory.getbasetemp())
    yield
    tempfile.tempdir = saved
