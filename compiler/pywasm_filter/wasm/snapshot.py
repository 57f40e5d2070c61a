"""Build-time pre-initialization (a Wizer-style snapshot) of the embedded-CPython module.

The module's initialization runs once under wasmtime at build time; its resulting linear memory
and globals are then written back into the original module, so the runtime starts initialized.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO, NoReturn, TypeVar

from wasmtime import (
    Caller,
    Config,
    Engine,
    ExitTrap,
    Func,
    FuncType,
    Global,
    Instance,
    Linker,
    Memory,
    Module,
    Store,
    Table,
    Trap,
    ValType,
    WasiConfig,
    WasmtimeError,
)

from . import binary, packed, recursion
from .binary import ExternKind, Section, SectionId

INITIALIZE_EXPORT = "_initialize"
ALLOCATE_EXPORT = "proxy_on_memory_allocate"
INIT_EXPORT = "pywasm_init"
NOOP_EXPORT = "__pywasm_snapshot_noop"
WASI_OVERRIDE_EXPORT = "pywasm_wasi_override"
# Build-time exports that measure and cap the recursion depth (runtime/limits.c, recursion.py).
PROBE_EXPORT = "pywasm_probe_recursion"
COUNTER_EXPORT = "pywasm_recursion_counter"
CAP_EXPORT = "pywasm_cap_recursion"
BUILD_TIME_EXPORTS = (INIT_EXPORT, NOOP_EXPORT, WASI_OVERRIDE_EXPORT, PROBE_EXPORT, COUNTER_EXPORT,
                      CAP_EXPORT)
GLOBAL_EXPORT_PREFIX = "__pywasm_snapshot_global_"
MEMORY_EXPORT = "__pywasm_snapshot_memory"
TABLE_EXPORT = "__pywasm_snapshot_table"
WASI_MODULE = "wasi_snapshot_preview1"
HOST_MODULE = "env"

# Every wasi_snapshot_preview1 function, offered to the module's `pywasm_wasi_override`.
WASI_FUNCTIONS = (
    "args_get args_sizes_get environ_get environ_sizes_get clock_res_get clock_time_get "
    "fd_advise fd_allocate fd_close fd_datasync fd_fdstat_get fd_fdstat_set_flags "
    "fd_fdstat_set_rights fd_filestat_get fd_filestat_set_size fd_filestat_set_times fd_pread "
    "fd_prestat_get fd_prestat_dir_name fd_pwrite fd_read fd_readdir fd_renumber fd_seek "
    "fd_sync fd_tell fd_write path_create_directory path_filestat_get path_filestat_set_times "
    "path_link path_open path_readlink path_remove_directory path_rename path_symlink "
    "path_unlink_file poll_oneoff proc_exit proc_raise sched_yield random_get sock_accept "
    "sock_recv sock_send sock_shutdown"
).split()

# Zero runs up to this long stay inside a data segment: a new segment costs about as many bytes.
MAX_ZERO_GAP = 16
# wasmparser (wasmtime) and V8 both reject modules with more data segments than this.
MAX_DATA_SEGMENTS = 100_000
_DATA_NAMES = 9  # id of the name-section subsection naming data segments
_EMPTY_SIGNATURE = binary.FuncType((), ())

_T = TypeVar("_T")
_E = TypeVar("_E", Func, Global, Memory, Table)


class SnapshotError(Exception):
    """Pre-initialization failed; `output` is what the module wrote to stdout and stderr."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.output = output


class _HostCallError(Exception):
    """Raised inside a stub host function when the module calls the host during init."""


@dataclass(frozen=True)
class _Layout:
    """The parts of the original module that the snapshot reads or rewrites."""

    sections: list[Section]
    imported_globals: int
    globals: list[binary.Global]
    exports: list[binary.Export]
    memory: binary.Limits
    tables: list[binary.Table]
    noop: int  # function index of NOOP_EXPORT
    noop_type: int  # its type index: [] -> []
    wasi_override: bool  # whether the module exports WASI_OVERRIDE_EXPORT
    expand: int | None  # function index of packed.EXPAND_EXPORT: store the data compressed


@dataclass(frozen=True)
class _State:
    """Linear memory and global values captured after initialization."""

    memory: bytearray
    pages: int
    globals: dict[int, int | float]


def snapshot(
    base: bytes,
    init_argument: bytes,
    preopens: Sequence[tuple[Path, str]],
    *,
    log: Path | None = None,
    recursion_cap: int | None = None,
    seed: bytes = b"",
) -> bytes:
    """Run `base`'s initialization once and return it with the resulting state baked in.

    `preopens` maps host directories to guest paths; `log` also receives the module's output.
    `recursion_cap` is the runtime's measured cap (`recursion.cached_cap`); without it, the
    probes run here, in this process. The same `base`, `init_argument`, `seed` (the filter's
    source) and bundled files give the same module, byte for byte: see `_Reproducible`.
    """
    try:
        layout = _inspect(base)
        entropy = _Reproducible(base + init_argument + seed)
        with _initialized(_instrument(layout), init_argument, preopens, log,
                          entropy) as (session, state):
            if PROBE_EXPORT in session.exports:
                cap = recursion_cap if recursion_cap is not None else session.measure_cap(state)
                state = session.cap_recursion(state, cap)
        result = _rewrite(layout, state)
    except binary.WasmFormatError as error:
        raise SnapshotError(f"cannot read the base module: {error}") from error
    return result


def measure_recursion_cap(base: bytes, init_argument: bytes,
                          preopens: Sequence[tuple[Path, str]]) -> int:
    """Initialize `base` as `snapshot` does and return the recursion cap its stacks allow."""
    try:
        wasm = _instrument(_inspect(base))
    except binary.WasmFormatError as error:
        raise SnapshotError(f"cannot read the base module: {error}") from error
    with _initialized(wasm, init_argument, preopens, None,
                      _Reproducible(base + init_argument)) as (session, state):
        if PROBE_EXPORT not in session.exports:
            raise SnapshotError(f"the runtime does not export {PROBE_EXPORT}")
        return session.measure_cap(state)


def _inspect(base: bytes) -> _Layout:
    """Decode what the rewrite needs and reject modules the snapshot cannot represent."""
    sections = binary.parse_module(base)

    def decoded(section_id: SectionId, decode: Callable[[bytes], list[_T]]) -> list[_T]:
        section = binary.find_section(sections, section_id)
        return decode(section.payload) if section else []

    imports = decoded(SectionId.IMPORT, binary.decode_imports)
    memory = _only_memory(imports, decoded(SectionId.MEMORY, binary.decode_memories))
    if any(segment.passive for segment in decoded(SectionId.DATA, binary.decode_data)):
        raise SnapshotError("the base module has passive data segments, which cannot be snapshot")
    globals_ = decoded(SectionId.GLOBAL, binary.decode_globals)
    for index, global_ in enumerate(globals_):
        if global_.type.mutable and global_.type.valtype not in binary.NUMERIC_TYPES:
            raise SnapshotError(f"mutable global {index} has a non-numeric type; cannot snapshot")

    exports = decoded(SectionId.EXPORT, binary.decode_exports)
    signatures = decoded(SectionId.TYPE, binary.decode_types)
    functions = [
        entry.desc
        for entry in imports
        if entry.kind == ExternKind.FUNC and isinstance(entry.desc, int)
    ]
    functions += decoded(SectionId.FUNCTION, binary.decode_functions)
    by_name = {export.name: export for export in exports}
    for name in (ALLOCATE_EXPORT, INIT_EXPORT, NOOP_EXPORT):
        if name not in by_name:
            raise SnapshotError(f"the base module does not export the function {name}")
    for name in (INITIALIZE_EXPORT, ALLOCATE_EXPORT, INIT_EXPORT, NOOP_EXPORT):
        if name in by_name and by_name[name].kind != ExternKind.FUNC:
            raise SnapshotError(f"the base module's export {name} is not a function")
    for name in (INITIALIZE_EXPORT, NOOP_EXPORT):
        if name in by_name and signatures[functions[by_name[name].index]] != _EMPTY_SIGNATURE:
            raise SnapshotError(f"the base module's {name} must take and return nothing")

    tables = decoded(SectionId.TABLE, binary.decode_tables)
    wasi_override = WASI_OVERRIDE_EXPORT in by_name
    if wasi_override and (
        any(entry.kind == ExternKind.TABLE for entry in imports)
        or not tables
        or tables[0].type.reftype != binary.FUNCREF
    ):
        raise SnapshotError(
            f"the base module exports {WASI_OVERRIDE_EXPORT}, so its first table must be a "
            "module-defined funcref table"
        )
    imported_globals = sum(entry.kind == ExternKind.GLOBAL for entry in imports)
    return _Layout(
        sections,
        imported_globals,
        globals_,
        exports,
        memory,
        tables,
        by_name[NOOP_EXPORT].index,
        functions[by_name[NOOP_EXPORT].index],
        wasi_override,
        by_name[packed.EXPAND_EXPORT].index if packed.EXPAND_EXPORT in by_name else None,
    )


def _only_memory(imports: list[binary.Import], memories: list[binary.Limits]) -> binary.Limits:
    """The module's single memory, which must be defined by it, 32-bit and not shared."""
    if any(entry.kind == ExternKind.MEMORY for entry in imports):
        raise SnapshotError("the base module imports its memory; it must define it instead")
    if len(memories) != 1:
        raise SnapshotError(f"the base module must define one memory, not {len(memories)}")
    memory = memories[0]
    if memory.is_64 or memory.shared or memory.page_size_log2 is not None:
        raise SnapshotError("the base module's memory must be a plain (non-shared) 32-bit memory")
    return memory


def _instrument(layout: _Layout) -> bytes:
    """The module with exports for its memory and mutable globals, and a growable table.

    Immutable globals keep their init expressions: their values cannot change.
    """
    sections = layout.sections
    extra = [binary.Export(MEMORY_EXPORT, ExternKind.MEMORY, 0)]
    for position, global_ in enumerate(layout.globals):
        if global_.type.mutable:
            index = layout.imported_globals + position
            extra.append(binary.Export(f"{GLOBAL_EXPORT_PREFIX}{index}", ExternKind.GLOBAL, index))
    if layout.wasi_override:
        extra.append(binary.Export(TABLE_EXPORT, ExternKind.TABLE, 0))
        first = layout.tables[0]
        unbounded = replace(first.type.limits, maximum=None)
        growable = replace(first, type=replace(first.type, limits=unbounded))
        tables = binary.encode_tables([growable, *layout.tables[1:]])
        sections = binary.replace_section(sections, Section(SectionId.TABLE, tables))
    taken = {export.name for export in layout.exports} & {export.name for export in extra}
    if taken:
        raise SnapshotError(f"the base module already exports reserved names: {sorted(taken)}")
    exports = binary.encode_exports([*layout.exports, *extra])
    sections = binary.replace_section(sections, Section(SectionId.EXPORT, exports))
    return binary.encode_module(sections)


class _Output:
    """Collects what the module writes to stdout and stderr, copying it to a log file if any."""

    def __init__(self, log: BinaryIO | None) -> None:
        self._chunks: list[bytes] = []
        self._log = log

    def write(self, data: bytes) -> None:
        """Record one write from the module."""
        self._chunks.append(data)
        if self._log is not None:
            self._log.write(data)
            self._log.flush()

    def text(self) -> str:
        """Everything written so far, decoded leniently."""
        return b"".join(self._chunks).decode("utf-8", errors="replace")


def _unavailable(name: str) -> Callable[..., NoReturn]:
    """A host function stub that fails the snapshot when the module calls it."""

    def call(*_args: object) -> NoReturn:
        raise _HostCallError(
            f"host call {HOST_MODULE}.{name} is not available while the module is "
            "pre-initialized at build time"
        )

    return call


class _Reproducible:
    """WASI randomness and clocks that do not make one build differ from the next.

    What the initialization draws (the string hash secret, `random`'s state) comes from a
    SHA-256 counter stream over the build's inputs instead of the OS, and the clocks read one
    microsecond more at each reading, from 0. (The file system's times and inode numbers are
    made constant by the runtime's WASI stubs, runtime/wasi_stubs.c.) In a proxy the runtime
    reseeds `random` and reads the host's clocks: only the hash secret is the build's.
    """

    def __init__(self, inputs: bytes) -> None:
        self.key = hashlib.sha256(inputs).digest()
        self.blocks = 0
        self.pending = b""
        self.now_ns = 0

    def draw(self, size: int) -> bytes:
        """The next ``size`` bytes of the stream."""
        while len(self.pending) < size:
            block = self.blocks.to_bytes(8, "little")
            self.pending += hashlib.sha256(self.key + block).digest()
            self.blocks += 1
        result, self.pending = self.pending[:size], self.pending[size:]
        return result

    def install(self, linker: Linker) -> None:
        """Put ``random_get`` and ``clock_time_get`` in place of WASI's in ``linker``."""
        i32, i64 = ValType.i32(), ValType.i64()
        linker.allow_shadowing = True
        linker.define_func(WASI_MODULE, "random_get", FuncType([i32, i32], [i32]),
                           self._random_get, access_caller=True)
        linker.define_func(WASI_MODULE, "clock_time_get", FuncType([i32, i64, i32], [i32]),
                           self._clock_time_get, access_caller=True)
        linker.allow_shadowing = False

    def _random_get(self, caller: Caller, buffer: int, size: int) -> int:
        _memory(caller).write(caller, self.draw(size), buffer)
        return 0

    def _clock_time_get(self, caller: Caller, _clock: int, _precision: int, result: int) -> int:
        self.now_ns += 1_000
        _memory(caller).write(caller, self.now_ns.to_bytes(8, "little"), result)
        return 0


def _memory(caller: Caller) -> Memory:
    memory = caller.get(MEMORY_EXPORT)
    if not isinstance(memory, Memory):
        raise SnapshotError(f"the module does not export its memory as {MEMORY_EXPORT}")
    return memory


def _linker(engine: Engine, module: Module, entropy: _Reproducible) -> Linker:
    """A linker with WASI (`entropy`'s randomness and clocks) and a trapping stub for every
    `env` function import."""
    linker = Linker(engine)
    linker.define_wasi()
    entropy.install(linker)
    for entry in module.imports:
        if entry.module == WASI_MODULE:
            continue
        if entry.module == HOST_MODULE and entry.name and isinstance(entry.type, FuncType):
            linker.define_func(HOST_MODULE, entry.name, entry.type, _unavailable(entry.name))
            continue
        raise SnapshotError(
            f"the base module imports {entry.module}.{entry.name}, which is neither a WASI "
            f"function nor an {HOST_MODULE}.* host function"
        )
    return linker


def _wasi(preopens: Sequence[tuple[Path, str]], output: _Output) -> WasiConfig:
    """WASI with only the given directories (read-only), no environment or arguments."""
    wasi = WasiConfig()
    for host, guest in preopens:
        if not host.is_dir():
            raise SnapshotError(f"cannot preopen {host} as {guest}: it is not a directory")
        wasi.preopen_dir(str(host), guest, fs_mutable=False)
    wasi.stdout_custom = output.write
    wasi.stderr_custom = output.write
    return wasi


class _Session:
    """One instance of the instrumented module, with errors turned into SnapshotError."""

    def __init__(self, store: Store, linker: Linker, instance: Instance, output: _Output) -> None:
        self.store = store
        self.linker = linker
        self.exports = instance.exports(store)
        self.output = output
        self.memory = self.export(MEMORY_EXPORT, Memory)

    def export(self, name: str, kind: type[_E]) -> _E:
        """The export called `name`, checked to be of the given kind."""
        item = self.exports[name]
        if not isinstance(item, kind):
            raise SnapshotError(f"the module's export {name} is not a {kind.__name__}")
        return item

    def call(self, name: str, *args: int) -> int:
        """Call an exported function; return its result (0 for none)."""
        func = self.export(name, Func)
        try:
            result = func(self.store, *args)
        except _HostCallError as error:
            raise SnapshotError(f"{name} failed: {error}", self.output.text()) from None
        except ExitTrap as error:
            message = f"{name} exited with code {error.code} during pre-initialization"
            raise SnapshotError(message, self.output.text()) from error
        except (Trap, WasmtimeError) as error:
            message = f"{name} trapped during pre-initialization: {error}"
            raise SnapshotError(message, self.output.text()) from error
        return int(result) if result is not None else 0

    def allocate(self, size: int) -> int:
        """Allocate `size` bytes of linear memory with the module's allocator."""
        pointer = self.call(ALLOCATE_EXPORT, size) & 0xFFFFFFFF
        if pointer == 0 and size:
            message = f"{ALLOCATE_EXPORT} could not allocate {size} bytes"
            raise SnapshotError(message, self.output.text())
        return pointer

    def override_wasi(self, buffer: int) -> None:
        """Let the module's WASI stubs call the real WASI functions through its table.

        `buffer` is scratch memory large enough for any WASI function name.
        """
        table = self.export(TABLE_EXPORT, Table)
        for name in WASI_FUNCTIONS:
            function = self.linker.get(self.store, WASI_MODULE, name)
            self.memory.write(self.store, name.encode(), buffer)
            slot = table.size(self.store)
            if self.call(WASI_OVERRIDE_EXPORT, buffer, len(name), slot) == 0:
                table.grow(self.store, 1, function)

    def state(self) -> _State:
        """The current memory and the values of the exported globals."""
        values: dict[int, int | float] = {}
        for name in self.exports:
            if name.startswith(GLOBAL_EXPORT_PREFIX):
                global_ = self.export(name, Global)
                values[int(name.removeprefix(GLOBAL_EXPORT_PREFIX))] = global_.value(self.store)
        return _State(self.memory.read(self.store), self.memory.size(self.store), values)

    def restore(self, state: _State) -> None:
        """Put memory and globals back as ``state`` has them (after a trap, too)."""
        size = self.memory.data_len(self.store)
        self.memory.write(self.store, bytes(state.memory), 0)
        if size > len(state.memory):
            self.memory.write(self.store, bytes(size - len(state.memory)), len(state.memory))
        for index, value in state.globals.items():
            self.export(f"{GLOBAL_EXPORT_PREFIX}{index}", Global).set_value(self.store, value)

    def recursion_depth(self, code: str) -> int:
        """The recursion count reached when running ``code`` overflowed a stack."""
        counter = self.call(COUNTER_EXPORT) & 0xFFFFFFFF
        source = code.encode()
        pointer = self.allocate(len(source))
        self.memory.write(self.store, source, pointer)
        try:
            self.export(PROBE_EXPORT, Func)(self.store, pointer, len(source),
                                            recursion.PROBE_LIMIT)
        except Trap:
            remaining = int.from_bytes(self.memory.read(self.store, counter, counter + 4),
                                       "little", signed=True)
            return recursion.PROBE_LIMIT - remaining
        raise SnapshotError("a recursion probe finished without overflowing the stack",
                            self.output.text())

    def measure_cap(self, state: _State) -> int:
        """Run every probe from ``state`` and return the recursion cap the stacks allow."""
        depths = []
        for code in recursion.PROBES.values():
            self.restore(state)
            depths.append(self.recursion_depth(code))
        self.restore(state)
        return recursion.safe_limit(depths)

    def cap_recursion(self, state: _State, cap: int) -> _State:
        """Cap the recursion limit at ``cap`` and return the new state."""
        self.call(CAP_EXPORT, cap)
        final = self.state()
        return replace(final, memory=final.memory[:len(state.memory)], pages=state.pages)


@contextmanager
def _initialized(
    wasm: bytes,
    init_argument: bytes,
    preopens: Sequence[tuple[Path, str]],
    log: Path | None,
    entropy: _Reproducible,
) -> Iterator[tuple[_Session, _State]]:
    """Instantiate the instrumented module, run its initialization and capture the state."""
    config = Config()
    config.max_wasm_stack = recursion.PROBE_STACK_BYTES
    engine = Engine(config)
    with ExitStack() as stack:
        output = _Output(stack.enter_context(log.open("wb")) if log else None)
        try:
            module = Module(engine, wasm)
        except WasmtimeError as error:
            raise SnapshotError(f"cannot compile the base module: {error}") from error
        store = Store(engine)
        store.set_wasi(_wasi(preopens, output))
        linker = _linker(engine, module, entropy)
        try:
            instance = linker.instantiate(store, module)
        except (Trap, WasmtimeError) as error:
            message = f"cannot instantiate the base module: {error}"
            raise SnapshotError(message, output.text()) from error
        session = _Session(store, linker, instance, output)

        if INITIALIZE_EXPORT in session.exports:
            session.call(INITIALIZE_EXPORT)
        longest_name = max(len(name) for name in WASI_FUNCTIONS)
        pointer = session.allocate(max(len(init_argument), longest_name))
        if WASI_OVERRIDE_EXPORT in session.exports:
            session.override_wasi(pointer)
        session.memory.write(session.store, init_argument, pointer)
        status = session.call(INIT_EXPORT, pointer, len(init_argument))
        if status != 0:
            message = f"{INIT_EXPORT} failed with status {status}; see the module's output"
            raise SnapshotError(message, output.text())
        yield session, session.state()


def _rewrite(layout: _Layout, state: _State) -> bytes:
    """The original module with the captured state as its initial state."""
    sections = layout.sections

    globals_ = [
        replace(global_, init=binary.encode_const(global_.type.valtype, value))
        if (value := state.globals.get(layout.imported_globals + position)) is not None
        else global_
        for position, global_ in enumerate(layout.globals)
    ]
    if globals_:
        payload = binary.encode_globals(globals_)
        sections = binary.replace_section(sections, Section(SectionId.GLOBAL, payload))

    exports = [
        replace(export, index=layout.noop) if export.name == INITIALIZE_EXPORT else export
        for export in layout.exports
        if export.name not in (*BUILD_TIME_EXPORTS, packed.EXPAND_EXPORT)
    ]
    payload = binary.encode_exports(exports)
    sections = binary.replace_section(sections, Section(SectionId.EXPORT, payload))
    # The start function, if any, already ran: its effects are part of the snapshot.
    sections = binary.remove_section(sections, SectionId.START)

    spans = data_spans(state.memory)
    if layout.expand is not None and spans:
        sections, pages = packed.pack(sections, state.memory, spans, state.pages, layout.expand,
                                      layout.noop_type)
    else:
        sections, pages = _plain_data(sections, state.memory, spans), state.pages
    memory = replace(layout.memory, minimum=pages)
    if memory.maximum is not None and memory.maximum < pages:
        raise SnapshotError(f"the compressed snapshot needs {pages} pages of memory, more than "
                            f"the module's maximum of {memory.maximum}")
    sections = binary.replace_section(
        sections, Section(SectionId.MEMORY, binary.encode_memories([memory])))

    # Names of the original data segments would now label the wrong segments.
    sections = [
        Section(section.id, binary.without_name_subsections(section.payload, {_DATA_NAMES}))
        if section.custom_name == "name"
        else section
        for section in sections
    ]
    return binary.encode_module(sections)


def _plain_data(sections: list[Section], memory: bytearray,
                spans: list[tuple[int, int]]) -> list[Section]:
    """`sections` with one data segment per span of memory."""
    view = memoryview(memory)
    payload = binary.encode_active_data((start, view[start:end]) for start, end in spans)
    sections = binary.replace_section(sections, Section(SectionId.DATA, payload))
    if binary.find_section(sections, SectionId.DATA_COUNT):
        payload = binary.encode_data_count(len(spans))
        sections = binary.replace_section(sections, Section(SectionId.DATA_COUNT, payload))
    return sections


def data_spans(memory: bytes | bytearray) -> list[tuple[int, int]]:
    """[start, end) spans covering every non-zero byte of `memory`, within the segment limit.

    Zero runs of up to MAX_ZERO_GAP bytes stay inside spans; the gap grows if there are too many.
    """
    gap = MAX_ZERO_GAP
    while len(spans := _nonzero_spans(memory, gap)) > MAX_DATA_SEGMENTS:
        gap *= 4
    return spans


def _nonzero_spans(memory: bytes | bytearray, max_gap: int) -> list[tuple[int, int]]:
    """Spans between the zero runs longer than `max_gap`, without zeros at either end."""
    spans = []
    start = 0
    for zeros in re.finditer(rb"\x00{%d,}" % (max_gap + 1), memory):
        if zeros.start() > start:
            spans.append(_trim(memory, start, zeros.start()))
        start = zeros.end()
    if start < len(memory):
        spans.append(_trim(memory, start, len(memory)))
    return spans


def _trim(memory: bytes | bytearray, start: int, end: int) -> tuple[int, int]:
    """Narrow a span holding some non-zero byte to its first and last non-zero bytes.

    Only the spans at the ends of memory can start or end with zeros, at most `max_gap` of them.
    """
    while memory[start] == 0:
        start += 1
    while memory[end - 1] == 0:
        end -= 1
    return start, end
