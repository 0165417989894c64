"""The bash completion file (control/completion/sipalgctl.bash) in a real bash, against the sipalgctl
that was built: commands, filters, options and files come from the command table, section paths from
the schema; and sipalgctl's schema help, which needs no daemon."""
import json
import os
import subprocess
from pathlib import Path

ROOT = Path(os.environ.get('SIPALG_SOURCE_ROOT', Path(__file__).resolve().parents[2]))
CTL = os.environ.get('SIPALGCTL') or str(ROOT / 'build' / 'control' / 'sipalgctl')


def complete(*words, cwd=None):
    """COMPREPLY for the command line `sipalgctl WORDS...` with the cursor at the end of the last word."""
    line = ' '.join(f"'{w}'" for w in words)
    script = (f"source {ROOT / 'control' / 'completion' / 'sipalgctl.bash'}\n"
              f"COMP_WORDS=({CTL} {line}); COMP_CWORD={len(words)}; _sipalgctl\n"
              'printf "%s\\n" "${COMPREPLY[@]}"\n')
    out = subprocess.run(['bash', '-c', script], capture_output=True, text=True, check=True, cwd=cwd).stdout
    return [w for w in out.split('\n') if w]


def test_commands_and_options():
    assert complete('st') == ['stats ']
    assert set(complete('')) >= {'apply', 'cli', 'stats', 'sessions', 'clear', 'show', '--socket', '--json'}
    assert complete('--json', 'cle') == ['clear ']
    assert complete('show', '') == ['config', '--socket', '--json', '--help', '--cli']
    assert complete('show', 'config', '--c') == ['--cli ']


def test_filters_stay_open_for_their_value():
    assert complete('sessions', 'dp') == ['dport=']
    assert complete('clear', 'proto=17', 'po') == ['policy=']


def test_files_where_a_command_takes_one(tmp_path):
    (tmp_path / 'policies.yaml').write_text('')
    assert complete('apply', 'pol', cwd=tmp_path) == ['policies.yaml']
    assert complete('--socket', '', cwd=tmp_path) == ['policies.yaml']


def test_schema_paths_word_by_word():
    assert complete('schema', 'fire') == ['firewall ']
    assert complete('schema', 'firewall', 'sc') == ['schedule ']
    assert complete('schema', 'firewall', 'schedule', '') == ['recurring ']
    assert set(complete('schema', 'system', '')) >= {'settings', 'interface', 'session-helper', 'arp-table'}


def test_schema_help_needs_no_daemon():
    run = lambda *a: subprocess.run([CTL, 'schema', *a], capture_output=True, text=True, timeout=30)
    listed = run()
    assert listed.returncode == 0 and 'firewall policy' in listed.stdout and 'voip profile' in listed.stdout
    policy = json.loads(run('firewall', 'policy', '--json').stdout)
    action = next(f for f in policy['fields'] if f['key'] == 'action')
    assert action['type'] == 'accept|deny' and action['default'] == 'accept' and action['live'] is True
    interface = json.loads(run('system', 'interface', '--json').stdout)
    assert next(f for f in interface['fields'] if f['key'] == 'dpdk-port')['live'] is False
    voip = run('voip', 'profile').stdout
    assert 'config sip' in voip and 'max-dialogs' in voip
    missing = run('firewall', 'nothing', '--json')
    assert missing.returncode == 2 and json.loads(missing.stdout)['ok'] is False
