"""`pywasm-filter build`: a filter source becomes one pre-initialized Proxy-Wasm module."""

from __future__ import annotations

import difflib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proxywasm._bootstrap import MARKER as BUILD_ERROR_MARKER
from proxywasm._bootstrap import NOTE_MARKER as BUILD_NOTE_MARKER

from . import bundle, bytecode, linking, packages, runtime_modules, stdlib_closure, toolchain
from .abi import Host
from .errors import FilterSourceError, PywasmFilterError
from .progress import step
from .verify import verify
from .wasm import binary, recursion
from .wasm.shrink import shrink
from .wasm.snapshot import SnapshotError, snapshot

# Where the build-time interpreter sees the stdlib and the SDK (the filter keeps its own path,
# so tracebacks name the user's real files).
GUEST_STDLIB = "/python/stdlib"
GUEST_SDK = "/python/sdk"
GUEST_BYTECODE = "/python/bytecode"  # sys.pycache_prefix: the stdlib's precompiled bytecode
# Loop iterations and Python calls one callback may run before it raises CallbackTimeout
# (runtime/limits.c); a tight `while True: pass` reaches it in well under a second.
DEFAULT_CALLBACK_BUDGET = 10_000_000
# How to fix each kind of failure the bootstrap reports.
_FIXES = {
    "syntax": "fix the Python syntax at this line",
    "import": "import the standard library, proxywasm, files beside the filter, or pure-Python "
              "packages installed where pywasm-filter runs (or in a --path directory)",
    "no_context": "call proxywasm.set_root_context(...) or "
                  "proxywasm.set_http_context(...) at module level",
    "missing_name": "check the name, or import it from the module that defines it",
    "host_call": "module-level code runs at build time with no proxy attached: "
                 "move host calls into on_vm_start/on_configure or a callback",
    "exception": "module-level code runs once, at build time: fix the error it raised, or "
                 "move that code into on_vm_start/on_configure or a callback",
}
Sites = dict[str, tuple[Path, int]]


@dataclass(frozen=True)
class BuildResult:
    """What a build produced, for the CLI's summary and for benchmarks."""

    output: Path
    file_bytes: int
    code_bytes: int
    data_bytes: int
    seconds: float
    plan: linking.Plan
    """The target hosts, the host functions linked and why the others are not."""
    packages: tuple[str, ...] = ()
    """The third-party packages bundled, e.g. ``jwt (PyJWT 2.15.1)``."""
    notes: tuple[str, ...] = ()
    """What the user should know about the bundled packages (``proxywasm._packages``)."""


def _sdk_root() -> Path:
    """The directory holding the `proxywasm` package."""
    import proxywasm

    return Path(proxywasm.__file__).parent.parent


def _stage_sdk(destination: Path) -> None:
    """Copy the guest-side SDK (its .py files, not the host-only parts) for bundling."""
    source = _sdk_root() / bundle.SDK_PACKAGE
    target = destination / bundle.SDK_PACKAGE
    target.mkdir(parents=True)
    for file in source.glob("*.py"):
        shutil.copy2(file, target / file.name)


def _init_spec(source: bundle.FilterSource, imports: list[str], plan: linking.Plan,
               bytecode: bool, callback_budget: int, roots: Sequence[Path],
               third_party: Sequence[str]) -> bytes:
    lines = [
        f"budget={callback_budget}",
        *([f"pycache={GUEST_BYTECODE}"] if bytecode else []),
        f"path={source.search_root}",
        f"path={GUEST_SDK}",
        f"path={GUEST_STDLIB}",
        *(f"path={root}" for root in roots),
        f"main={source.module}",
        f"user_root={source.user_root}",
        *(f"import={name}" for name in imports),
        *(f"package={name}" for name in third_party),
        *plan.spec_lines(),
    ]
    return "\n".join(lines).encode()


def _report_error(report: dict[str, Any], source: bundle.FilterSource,
                  sites: Sites) -> FilterSourceError:
    """The error for one bootstrap report: where (the import's own line when the failure
    happened below it), what, with the user's frames, and the fix that fits."""
    file, line = report.get("file"), report.get("line")
    if file is None and report.get("importing") in sites:
        file, line = sites[report["importing"]]
    kind = report.get("kind", "")
    message, fix = str(report.get("message", "build failed")), _FIXES.get(kind, "")
    if kind == "missing_c_module":
        message, fix = runtime_modules.lacking(report["stdlib_module"], report["module"])
    if kind == "missing_name":
        close = difflib.get_close_matches(report["name"], report["candidates"].split(), n=1)
        message += f": did you mean '{close[0]}'?" if close else ""
    if report.get("traceback"):
        message += "\n  traceback (your code, most recent call last):\n    " + report[
            "traceback"].replace("\n", "\n    ")
    return FilterSourceError(file or source.path, line, message, fix)


def _build_failure(error: SnapshotError, source: bundle.FilterSource,
                   sites: Sites) -> PywasmFilterError:
    """Turn the interpreter's failure report into an error naming the user's file and line."""
    for line in error.output.splitlines():
        if line.startswith(BUILD_ERROR_MARKER):
            return _report_error(json.loads(line[len(BUILD_ERROR_MARKER):]), source, sites)
    return PywasmFilterError(
        f"{source.path}: error: the interpreter failed while importing the filter:\n"
        f"{error.output.strip() or error}"
    )


def _notes(output: str) -> tuple[str, ...]:
    """The build-time interpreter's notes on third-party modules it kept as placeholders."""
    notes = []
    for line in output.splitlines():
        if line.startswith(BUILD_NOTE_MARKER):
            note = json.loads(line[len(BUILD_NOTE_MARKER):])
            notes.append(f"{note['file']}:{note['line']}: note: {note['module']} is bundled as "
                         f"a placeholder whose names raise ImportError when used: "
                         f"{note['reason']}")
    return tuple(notes)


def _write_atomically(output: Path, module: bytes) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(module)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def build(filter_path: Path, output: Path, hosts: Sequence[Host] | None = None,
          callback_budget: int = DEFAULT_CALLBACK_BUDGET,
          paths: Sequence[Path] = ()) -> BuildResult:
    """Build `filter_path` into the module `output`; nothing is written if any step fails.

    ``hosts`` are the proxies the module must run in (a host that cannot run the filter is a
    HostTargetError naming the file and line); by default, every host that can run it.
    ``callback_budget`` bounds the loop iterations and calls of one callback (0: no bound).
    Third-party packages come from ``paths`` (``--path``), then this interpreter's sys.path.
    """
    if callback_budget < 0:
        raise PywasmFilterError(
            f"--callback-budget {callback_budget}: give a positive number of loop iterations "
            "and calls, or 0 for no budget")
    started = time.monotonic()
    source = bundle.locate(filter_path)
    cpython = toolchain.ensure_cpython()
    found = packages.Packages.from_environment(paths, own=source.search_root)
    sites = bundle.import_sites(source, cpython.stdlib, found)
    third_party = found.check(sites, cpython.stdlib)
    roots = found.roots
    plan = linking.plan(filter_path, hosts)
    # The SDK's own lazy imports of what the filter reaches (get_current_time's datetime) are
    # imported at build time too: a built module cannot import a module later.
    imports = [*sites, *sorted(plan.imports - sites.keys())]
    optional = stdlib_closure.optional_modules(
        [*imports, bundle.SDK_PACKAGE], [cpython.stdlib, _sdk_root(), *roots])
    base = toolchain.ensure_runtime_base(optional)
    stdlib_bytecode = bytecode.ensure_stdlib(cpython, GUEST_STDLIB)
    with (tempfile.TemporaryDirectory() as sdk_dir, tempfile.TemporaryDirectory() as sdk_code,
          tempfile.TemporaryDirectory() as scratch,
          step(f"pre-initializing {source.path.name}")):
        _stage_sdk(Path(sdk_dir))
        preopens = [
            (cpython.stdlib, GUEST_STDLIB),
            (Path(sdk_dir), GUEST_SDK),
            (source.search_root, str(source.search_root)),
            *((root, str(root)) for root in roots),
        ]
        if stdlib_bytecode is not None:
            package_code = [package.file for package in map(found.find, third_party)
                            if package is not None and package.file is not None]
            bytecode.with_sdk(stdlib_bytecode, Path(sdk_dir), GUEST_SDK, Path(sdk_code),
                              package_code)
            preopens.append((Path(sdk_code), GUEST_BYTECODE))
        try:
            spec = _init_spec(source, imports, plan, stdlib_bytecode is not None,
                              callback_budget, roots, third_party)
            cap = recursion.cached_cap(base, spec, preopens)
            log = Path(scratch) / "build.log"
            module = snapshot(base.read_bytes(), spec, preopens, log=log, recursion_cap=cap,
                              seed=source.path.read_bytes())
        except SnapshotError as error:
            raise _build_failure(error, source, sites) from None
        notes = _notes(log.read_text(errors="replace"))
    with step("removing build-time-only code"):
        module = shrink(module, plan.stubs())
    verify(module, plan.targets)
    _write_atomically(output, module)
    return BuildResult(
        output=output,
        file_bytes=len(module),
        code_bytes=binary.code_size(module),
        data_bytes=binary.data_size(module),
        seconds=time.monotonic() - started,
        plan=plan,
        packages=tuple(found.labels(third_party)),
        notes=notes,
    )
