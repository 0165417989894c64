"""pytest fixtures of the pcap suite; the constants and helpers live in pcap_env."""
from pcap_env import need_tshark  # noqa: F401  (an autouse fixture)
