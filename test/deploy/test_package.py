"""The Debian package (scripts/package, debian/, deploy/): built with debhelper from this checkout,
installed with dpkg -i, and checked as an operator would: sipalgd --version, the systemd unit verified
by systemd-analyze, the configuration files as conffiles, and an upgrade (the same package again) that
keeps an edited configuration. Purged at the end, so the machine is as it was."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = Path('/usr/lib/systemd/system/sipalgd.service')


def run(*cmd, check=True):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if check and r.returncode != 0:
        pytest.fail(f'{" ".join(cmd)}: exit {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}')
    return r


def installed():
    r = run('dpkg-query', '-W', '-f=${Status}', 'sipalg', check=False)
    return r.returncode == 0 and 'install ok installed' in r.stdout


@pytest.fixture(scope='module')
def package(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip('installing a package needs root')
    if installed():
        pytest.skip('a sipalg package is installed on this machine already: not replaced by a test')
    out = tmp_path_factory.mktemp('package')
    deb = Path(run(str(ROOT / 'scripts' / 'package'), str(out)).stdout.strip().splitlines()[-1])
    assert deb.name.startswith('sipalg_') and deb.name.endswith('_amd64.deb') and deb.exists()
    try:
        run('dpkg', '-i', str(deb))
        yield deb
    finally:
        run('dpkg', '--purge', 'sipalg', check=False)


def test_installed_files_and_version(package):
    version = run('sipalgd', '--version').stdout
    meson_version = next(line.split("'")[1] for line in (ROOT / 'meson.build').read_text().splitlines()
                         if line.strip().startswith('version :'))
    assert meson_version in version
    assert meson_version in run('sipalgctl', '--version').stdout
    listed = run('dpkg', '-L', 'sipalg').stdout.split()
    for path in ['/usr/bin/sipalgd', '/usr/bin/sipalgctl', str(UNIT), '/etc/default/sipalgd', '/etc/sipalg/sipalgd.yaml',
                 '/usr/libexec/sipalg/sipalgd-prepare', '/usr/libexec/sipalg/hugepages', '/usr/libexec/sipalg/devbind',
                 '/usr/share/bash-completion/completions/sipalgctl']:
        assert path in listed, path
    conffiles = run('dpkg-query', '-W', '-f=${Conffiles}', 'sipalg').stdout
    assert '/etc/sipalg/sipalgd.yaml' in conffiles and '/etc/default/sipalgd' in conffiles
    # The group that may use the control socket.
    assert run('getent', 'group', 'sipalg', check=False).returncode == 0


def test_unit_verifies(package):
    r = run('systemd-analyze', 'verify', str(UNIT), check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    text = UNIT.read_text()
    assert 'ExecStart=/usr/bin/sipalgd ' in text and '--control-socket /run/sipalg/sipalgd.sock' in text
    assert 'RuntimeDirectory=sipalg' in text and 'ProtectSystem=strict' in text and 'CapabilityBoundingSet=' in text
    # Installed, not enabled: it needs its NICs and configuration first.
    assert not Path('/etc/systemd/system/multi-user.target.wants/sipalgd.service').exists()


def test_the_shipped_files_are_the_checkouts(package):
    # deploy/sipalgd.yaml is loaded and planned by test/control/test_config.cpp; this is that file.
    assert Path('/etc/sipalg/sipalgd.yaml').read_text() == (ROOT / 'deploy' / 'sipalgd.yaml').read_text()
    assert Path('/etc/default/sipalgd').read_text() == (ROOT / 'deploy' / 'sipalgd.default').read_text()


def test_upgrade_keeps_the_configuration(package):
    conf = Path('/etc/sipalg/sipalgd.yaml')
    edited = conf.read_text() + '# edited by the operator\n'
    conf.write_text(edited)
    run('dpkg', '-i', str(package))
    assert conf.read_text() == edited
    assert Path('/etc/default/sipalgd').exists()


if __name__ == '__main__':
    sys.exit(pytest.main([__file__, '-q']))
