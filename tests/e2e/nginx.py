"""A real nginx (Debian's ``nginx-light``) in front of hub processes, for the reverse-proxy tests.

nginx runs in the foreground as a child process (``daemon off``, no master), from a config file
written into the test's folder: TLS terminated with the test CA's server certificate, listening on
a loopback port, proxying to one or more hub nodes. Its connections to the hubs leave from
``127.0.0.2`` (``proxy_bind``), so a hub can trust exactly that address while the test's own
direct requests (from 127.0.0.1) stay untrusted. The directives follow deploy/nginx/pgs-hub.conf.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.harness import Tls, free_port

PROXY_ADDRESS = "127.0.0.2"  # where nginx's upstream connections come from
INSTALL = "apt-get install -y nginx-light"


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if found is None:
        pytest.fail(f"nginx is not installed; install Debian's: {INSTALL}", pytrace=False)
    return found


@dataclass
class Nginx:
    process: subprocess.Popen[bytes]
    port: int
    folder: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def error_log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def config(folder: Path, port: int, upstreams: list[int], tls: Tls) -> str:
    servers = "\n".join(
        f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=30s;" for p in upstreams
    )
    temp = "\n".join(
        f"    {name}_temp_path {folder / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""
daemon off;
master_process off;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} info;
events {{ worker_connections 512; }}
http {{
    access_log {folder / "access.log"};
{temp}
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    upstream pgs_hub {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {tls.cert};
        ssl_certificate_key {tls.key};
        client_max_body_size 2m;
        location / {{
            proxy_pass http://pgs_hub;
            proxy_bind {PROXY_ADDRESS};
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_request_buffering off;
            proxy_buffering off;
            proxy_read_timeout 1h;
            proxy_next_upstream error timeout;
            proxy_connect_timeout 2s;
        }}
    }}
}}
"""


def start_nginx(folder: Path, upstreams: list[int], tls: Tls) -> Nginx:
    """Start nginx in front of hub nodes on ``upstreams`` and wait until it accepts."""
    binary = nginx_binary()
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    path = folder / "nginx.conf"
    path.write_text(config(folder, port, upstreams, tls))
    process = subprocess.Popen(  # noqa: S603 - Debian's nginx with our generated config
        [binary, "-c", str(path), "-p", str(folder), "-e", str(folder / "error.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    proxy = Nginx(process, port, folder)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"nginx exited at start-up:\n{proxy.error_log()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proxy
        except OSError:
            time.sleep(0.05)
    proxy.stop()
    pytest.fail(f"nginx did not start listening:\n{proxy.error_log()}")


def established_from_proxy(hub_port: int) -> int:
    """How many ESTABLISHED TCP connections nginx (from PROXY_ADDRESS) holds to ``hub_port``,
    read from the kernel's table (/proc/net/tcp)."""
    remote = socket.inet_aton(PROXY_ADDRESS)[::-1].hex().upper() + ":"
    local_port = f":{hub_port:04X}"
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(local_port) and fields[2].startswith(remote) and fields[3] == "01":
            count += 1
    return count
