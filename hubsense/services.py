"""Start private Mosquitto and InfluxDB processes (for the demo, tests and benchmarks), and
Debian's Chromium for browser tests and screenshots.

Each process gets its own config file and data directory and listens on a free
loopback port; nothing system-wide is touched.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path


class ServiceError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        # as servers bind: connections in TIME_WAIT (e.g. after a restart) do not count
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


CHROMIUM = "/usr/bin/chromium"  # Debian's package: Playwright never downloads a browser
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


def launch_chromium(playwright, extra_args: list[str] | None = None):
    """Headless Debian Chromium through a running ``sync_playwright()``."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                      args=CHROMIUM_ARGS + (extra_args or []))


def _wait(predicate, timeout: float, what: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise ServiceError(f"{what} exited with status {proc.returncode}:\n{tail}")
        if predicate():
            return
        time.sleep(0.02)
    raise ServiceError(f"{what} did not become ready within {timeout} s")


def tcp_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class Mosquitto:
    """A private Mosquitto broker. ``extra_config`` lines are appended to the config."""

    workdir: Path
    port: int = 0
    extra_config: list[str] = field(default_factory=list)
    listener_config: list[str] = field(default_factory=list)
    proc: subprocess.Popen | None = None

    @property
    def conf_path(self) -> Path:
        return self.workdir / "mosquitto.conf"

    @property
    def log_path(self) -> Path:
        return self.workdir / "mosquitto.log"

    def write_config(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "data").mkdir(exist_ok=True)
        lines = []
        if os.geteuid() == 0:
            lines.append("user root")  # else persistence fails with Permission denied
        lines += [
            "per_listener_settings false",
            f"listener {self.port} 127.0.0.1",
            *self.listener_config,
            "" if any(c.startswith("allow_anonymous") for c in self.extra_config) else "allow_anonymous true",
            "persistence true",
            f"persistence_location {self.workdir / 'data'}/",
            "autosave_interval 1",
            f"log_dest file {self.log_path}",
            "max_queued_messages 1000000",
            "max_inflight_messages 100",
            *self.extra_config,
        ]
        self.conf_path.write_text("\n".join(line for line in lines if line) + "\n")

    def start(self, timeout: float = 10.0) -> Mosquitto:
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(exe).exists():
            raise ServiceError("mosquitto is not installed: apt-get install -y mosquitto mosquitto-clients")
        if not self.port:
            self.port = free_port()
        elif port_in_use(self.port):
            raise ServiceError(f"port {self.port} is already in use; choose another MQTT port")
        self.write_config()
        # its own session: a Ctrl-C in the terminal reaches our process, which stops the broker last,
        # instead of killing the broker first under everything still connected to it
        self.proc = subprocess.Popen(
            [exe, "-c", str(self.conf_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        _wait(lambda: tcp_open(self.port), timeout, "mosquitto", self.proc, self.log_path)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass
class Influxd:
    """A private InfluxDB 1.x server (Debian's ``influxdb`` package); ``auth``: HTTP authentication on
    (then the first statement must be ``CREATE USER ... WITH ALL PRIVILEGES``)."""

    workdir: Path
    port: int = 0
    auth: bool = False
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "influxd.log"

    def write_config(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "influxdb.conf"
        conf.write_text(
            f"""reporting-enabled = false
bind-address = "127.0.0.1:{free_port()}"
[meta]
  dir = "{self.workdir}/meta"
[data]
  dir = "{self.workdir}/data"
  wal-dir = "{self.workdir}/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:{self.port}"
  log-enabled = false
{"  auth-enabled = true" if self.auth else ""}
[logging]
  level = "warn"
"""
        )
        return conf

    def _ping(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/ping", timeout=0.5) as r:
                return r.status == 204
        except OSError:
            return False

    def start(self, timeout: float = 20.0) -> Influxd:
        exe = shutil.which("influxd") or "/usr/bin/influxd"
        if not Path(exe).exists():
            raise ServiceError("influxd is not installed: apt-get install -y influxdb")
        if not self.port:
            self.port = free_port()
        conf = self.write_config()
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen([exe, "run", "-config", str(conf)], stdout=log, stderr=log)
        _wait(self._ping, timeout, "influxd", self.proc, self.log_path)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
