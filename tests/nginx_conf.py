"""A small nginx configuration reader for tests: directives, their unquoted arguments, blocks.

It follows nginx's own tokenizer (ngx_conf_file.c) where the generated configs need it:
`#` comments, single- and double-quoted arguments with `\\` escapes, `;` and `{ }`.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_ESCAPES = {"t": "\t", "r": "\r", "n": "\n"}
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
NGINX_HINT = "run scripts/install-system-packages.sh (installs Debian's nginx-light)"
_WASM_BLOCK = re.compile(r"^wasm \{.*?^\}\n", re.MULTILINE | re.DOTALL)
_BARE_FILTER = re.compile(r"^( *)proxy_wasm (\w+);", re.MULTILINE)


@dataclass
class Directive:
    """One directive: its name, arguments and, for a block, the directives inside."""

    name: str
    args: list[str]
    block: list[Directive] | None = None

    def find(self, name: str) -> list[Directive]:
        """The directives called ``name`` directly inside this block."""
        return [child for child in self.block or [] if child.name == name]

    def walk(self) -> Iterator[Directive]:
        """Every directive inside this block, at any depth, in file order."""
        for child in self.block or []:
            yield child
            yield from child.walk()

    def one(self, name: str, *args: str) -> Directive:
        """The single directive ``name`` (with leading ``args``) inside this block."""
        found = [child for child in self.find(name) if child.args[:len(args)] == list(args)]
        assert len(found) == 1, f"{self.name}: {len(found)} '{name} {' '.join(args)}'"
        return found[0]


def _tokens(text: str) -> list[tuple[bool, str]]:
    """(is_mark, text) per token: a mark is an unquoted `;`, `{` or `}`, else an argument."""
    tokens: list[tuple[bool, str]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char == "#":
            i = text.find("\n", i) if "\n" in text[i:] else len(text)
        elif char in ";{}":
            tokens.append((True, char))
            i += 1
        elif char in "'\"":
            value, i = _quoted(text, i)
            tokens.append((False, value))
        else:
            start = i
            while i < len(text) and not text[i].isspace() and text[i] not in ";{}":
                i += 1
            tokens.append((False, text[start:i]))
    return tokens


def _quoted(text: str, start: int) -> tuple[str, int]:
    quote, i, value = text[start], start + 1, []
    while text[i] != quote:
        if text[i] == "\\" and text[i + 1] in "\"'\\":
            value.append(text[i + 1])
            i += 2
        elif text[i] == "\\" and text[i + 1] in _ESCAPES:
            value.append(_ESCAPES[text[i + 1]])
            i += 2
        else:
            value.append(text[i])
            i += 1
    return "".join(value), i + 1


def parse(text: str) -> Directive:
    """The whole configuration as the block of a root directive named ``main``."""
    root = Directive("main", [], [])
    stack: list[list[Directive]] = [[]]
    root.block = stack[0]
    words: list[str] = []
    for is_mark, token in _tokens(text):
        if not is_mark:
            words.append(token)
            continue
        if token == "}":
            assert not words and len(stack) > 1, "an unbalanced '}'"
            stack.pop()
        else:
            assert words, f"'{token}' without a directive"
            block: list[Directive] | None = [] if token == "{" else None
            stack[-1].append(Directive(words[0], words[1:], block))
            if block is not None:
                stack.append(block)
        words = []
    assert len(stack) == 1 and not words, "an unclosed block or directive"
    return root


def without_wasmx(text: str) -> str:
    """Debian's nginx has no WasmX: strip wasm {}, resolver_add and wasm_response_body_buffers,
    and turn `proxy_wasm NAME CONFIG` into `add_header NAME CONFIG` (the same tokens; `''` for
    a filter without a config), so plain nginx checks the rest and echoes each configuration
    as it read it."""
    assert _WASM_BLOCK.search(text), "no top-level wasm {} block"
    plain = _WASM_BLOCK.sub("", text).replace("resolver_add ", "# resolver_add ")
    plain = plain.replace("wasm_response_body_buffers ", "# wasm_response_body_buffers ")
    plain = _BARE_FILTER.sub(r"\1proxy_wasm \2 '';", plain)
    return plain.replace("proxy_wasm ", "add_header ")


def _arguments(conf: str, workdir: Path) -> list[str]:
    assert NGINX is not None, NGINX_HINT
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    (workdir / "nginx.conf").write_text(conf)
    return [NGINX, "-p", str(workdir), "-c", str(workdir / "nginx.conf"), "-e", "stderr"]


def nginx_test(conf: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    """Run Debian nginx's `nginx -t` on ``conf`` from ``workdir`` (with logs/ created)."""
    return subprocess.run([*_arguments(conf, workdir), "-t"], capture_output=True, text=True,
                          timeout=60, check=False)


def two_free_ports() -> int:
    """A port P on 127.0.0.1 such that P and P + 1 are both free right now."""
    for _ in range(50):
        with socket.socket() as first, socket.socket() as second:
            first.bind(("127.0.0.1", 0))
            port: int = first.getsockname()[1]
            try:
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port
    raise RuntimeError("no two consecutive free ports on 127.0.0.1")


@contextmanager
def running_nginx(conf: str, workdir: Path, url: str) -> Iterator[subprocess.Popen[bytes]]:
    """Run nginx in the foreground on ``conf`` until ``url`` answers; stop it afterwards."""
    arguments = _arguments(conf, workdir)
    with open(workdir / "nginx.log", "wb") as log:
        process = subprocess.Popen(arguments, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, (workdir / "nginx.log").read_text()
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, (workdir / "nginx.log").read_text()
                time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=20)
