"""pytest set-up shared by the pcap (test/dataplane) and lab (test/e2e) suites: the helpers live in
scripts/lib so the lab and the benchmarks use the same code."""
import os
import sys
from pathlib import Path

ROOT = Path(os.environ.get('SIPALG_SOURCE_ROOT') or Path(__file__).resolve().parents[1])
sys.path.insert(0, str(ROOT / 'scripts' / 'lib'))
