"""What an operator installs: the wheel (with every data file the hub reads at run time), the
systemd unit (checked by systemd's own analyser where it exists) and the nginx site.

The wheel is built from a clean copy of the tracked sources, installed into a fresh virtual
environment, and run from outside the repository, so that nothing can come from the worktree.
The fresh environment borrows the already installed dependencies (a path line, which does not
bring the worktree's editable install with it) instead of downloading them again.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.e2e.nginx import nginx_binary
from tests.e2e.tls_ca import make_ca

REPO = Path(__file__).parents[2]
PACKAGES = ("hub", "crypto", "protocols", "migrations")
UNIT = REPO / "deploy" / "systemd" / "pgs-hub.service"
MAX_EXPOSURE = 2.0  # systemd-analyze security: 0 is fully locked down, 10 is not at all


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(  # noqa: S603 - tools and our own command, with test arguments
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def tracked_files() -> list[str]:
    listed = run("git", "ls-files", "-z", cwd=REPO)
    return [name for name in listed.split("\0") if name]


def test_the_wheel_carries_its_data_and_runs_in_a_fresh_environment(tmp_path: Path) -> None:
    source = tmp_path / "src"
    for name in tracked_files():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    run(
        sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
        "--wheel-dir", tmp_path / "dist", source, cwd=tmp_path,
    )  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("pgs_hub-*.whl")

    # every file the packages hold besides code (templates, static files, policy, code lists,
    # demo content, catalogues, the migrations' template) is in the wheel
    data = {
        name
        for name in tracked_files()
        if name.split("/")[0] in PACKAGES and not name.endswith(".py")
    }
    assert data, "no data files found"
    assert {"hub/console/static/console.css", "hub/policy/default.toml"} <= data
    with zipfile.ZipFile(wheel) as archive:
        assert data <= set(archive.namelist()), data - set(archive.namelist())

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    run(
        sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
        "--no-index", wheel, cwd=tmp_path,
    )  # fmt: skip
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path)
    (Path(site.strip()) / "borrowed-dependencies.pth").write_text(
        sysconfig.get_path("purelib") + "\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PGS_", "PYTHON"))}
    where = run(python, "-c", "import hub; print(hub.__file__)", cwd=tmp_path, env=env)
    assert where.strip().startswith(str(venv)), where  # the installed copy, not the worktree
    helped = run(venv / "bin" / "pgs", "--help", cwd=tmp_path, env=env)
    assert "Global Shield Hub" in helped
    created = run(
        venv / "bin" / "pgs", "init", tmp_path / "home", "--insecure-plain-keys",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert "created hub home" in created
    assert (tmp_path / "home" / "policy.toml").read_text() == (
        REPO / "hub" / "policy" / "default.toml"
    ).read_text()
    assert (tmp_path / "home" / "hub.db").stat().st_size > 0  # migrated from the wheel


def test_the_systemd_unit_verifies_and_is_hardened(tmp_path: Path) -> None:
    analyser = shutil.which("systemd-analyze")
    if analyser is None:
        pytest.skip("systemd-analyze is not available on this machine")
    # verify checks that ExecStart exists: point it at this environment's pgs
    unit = tmp_path / UNIT.name
    unit.write_text(
        UNIT.read_text().replace("/opt/pgs/bin/pgs", str(Path(sys.executable).parent / "pgs"))
    )
    output = run(analyser, "verify", unit, cwd=tmp_path)
    assert output.strip() == "", output  # no warning at all
    report = run(analyser, "security", "--offline=true", "--no-pager", unit, cwd=tmp_path)
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", report)
    assert found is not None, report
    assert float(found.group(1)) <= MAX_EXPOSURE, report


def test_the_nginx_site_is_valid(tmp_path: Path) -> None:
    """deploy/nginx/pgs-hub.conf inside an http block, with test certificates: nginx -t."""
    ca, cert, key = make_ca(tmp_path)
    del ca
    site = (REPO / "deploy" / "nginx" / "pgs-hub.conf").read_text()
    site = site.replace("/etc/ssl/certs/hub.example.org.pem", str(cert))
    site = site.replace("/etc/ssl/private/hub.example.org.key", str(key))
    site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{_port()} ssl;")
    site = site.replace("listen [::]:443 ssl;", "")
    temp = "".join(f"    {n}_temp_path {tmp_path / n};\n" for n in ("client_body", "proxy"))
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\n"
        f"events {{}}\nhttp {{\n    access_log off;\n{temp}{site}\n}}\n"
    )
    output = run(nginx_binary(), "-t", "-c", conf, "-p", tmp_path, "-e", tmp_path / "error.log",
                 cwd=tmp_path)  # fmt: skip
    assert "test is successful" in output


def _port() -> int:
    from tests.e2e.harness import free_port

    return free_port()
