"""pytest fixtures of the namespace-lab suite; the helpers live in lab_env."""
from lab_env import lab_up, need_root  # noqa: F401  (fixtures)
