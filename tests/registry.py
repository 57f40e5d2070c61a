"""A real OCI registry (Debian's `docker-registry`) on 127.0.0.1 for the push/pull tests."""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

import bcrypt
import yaml

from pywasm_filter.envoy import free_port

INSTALL_HINT = "run scripts/install-system-packages.sh (installs Debian's docker-registry)"


class Registry:
    """A docker-registry process storing into `workdir`, optionally behind htpasswd auth."""

    def __init__(self, workdir: Path, users: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.users = users or {}
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def _config(self) -> dict[str, object]:
        config: dict[str, object] = {
            "version": 0.1,
            "log": {"level": "warn"},
            "storage": {"filesystem": {"rootdirectory": str(self.workdir / "data")}},
            "http": {"addr": self.host},
        }
        if self.users:
            htpasswd = self.workdir / "htpasswd"
            htpasswd.write_text("".join(
                f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()}\n"
                for user, password in self.users.items()))
            config["auth"] = {"htpasswd": {"realm": "pywasm-test", "path": str(htpasswd)}}
        return config

    def start(self, timeout: float = 20.0) -> None:
        """Start the registry and wait until /v2/ answers."""
        binary = shutil.which("docker-registry")
        if binary is None:
            raise RuntimeError(f"docker-registry is not installed: {INSTALL_HINT}")
        self.workdir.mkdir(parents=True, exist_ok=True)
        config_path = self.workdir / "config.yml"
        config_path.write_text(yaml.safe_dump(self._config()))
        with open(self.workdir / "registry.log", "wb") as log:
            self._process = subprocess.Popen([binary, "serve", str(config_path)], stdout=log,
                                             stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {self.log()}")
            try:
                urllib.request.urlopen(f"http://{self.host}/v2/", timeout=1).close()
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"docker-registry did not answer in {timeout:.0f} s: {self.log()}")

    def log(self) -> str:
        """The registry's own log."""
        return (self.workdir / "registry.log").read_text(errors="replace")

    def stop(self) -> None:
        """Stop the registry process."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)

    def __enter__(self) -> Registry:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()
