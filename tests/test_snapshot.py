"""Tests of build-time pre-initialization on a small reactor-like module written in WAT."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from wasmtime import (
    Caller,
    Engine,
    Func,
    FuncType,
    Instance,
    Linker,
    Memory,
    Module,
    Store,
    ValType,
    WasiConfig,
    wat2wasm,
)

from pywasm_filter.wasm import binary, snapshot
from pywasm_filter.wasm.binary import Limits, SectionId
from pywasm_filter.wasm.snapshot import SnapshotError, data_spans

# Stands in for the CPython runtime. The first byte of the init argument picks a behaviour:
# F fails with a message on stderr, H calls the host, T traps, X exits; anything else succeeds.
# Its WASI stub for fd_prestat_get is reached through the table, as `pywasm_wasi_override` sets.
REACTOR_WAT = r"""
(module
  (type $prestat (func (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "env" "proxy_log" (func $proxy_log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 2 64)
  (table $table 2 2 funcref)
  (elem (i32.const 1) $noop)
  (global $sp (mut i32) (i32.const 65536))
  (global $heap (mut i32) (i32.const 8192))
  (global $counter (mut i64) (i64.const 0))
  (global $ratio (mut f32) (f32.const 0))
  (global $scale (mut f64) (f64.const 0))
  (global $answer i32 (i32.const 42))
  (global $initialized (mut i32) (i32.const 0))
  (global $prestat_slot (mut i32) (i32.const 0))
  (data $static (i32.const 1024) "static data")
  (data $wanted (i32.const 1100) "fd_prestat_get")
  (data $failure (i32.const 1200) "init failed\n")

  (func $noop (export "__pywasm_snapshot_noop"))

  (func (export "_initialize")
    (if (global.get $initialized) (then unreachable))
    (global.set $initialized (i32.const 1)))

  (func (export "proxy_on_memory_allocate") (param $size i32) (result i32)
    (local $pointer i32)
    (local.set $pointer (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $size)))
    (local.get $pointer))

  (func (export "pywasm_wasi_override")
    (param $name i32) (param $length i32) (param $slot i32) (result i32)
    (if (i32.ne (local.get $length) (i32.const 14)) (then (return (i32.const 1))))
    (if (i64.ne (i64.load (local.get $name)) (i64.load (i32.const 1100)))
      (then (return (i32.const 1))))
    (if (i64.ne (i64.load offset=6 (local.get $name)) (i64.load (i32.const 1106)))
      (then (return (i32.const 1))))
    (global.set $prestat_slot (local.get $slot))
    (i32.const 0))

  (func (export "pywasm_init") (param $pointer i32) (param $length i32) (result i32)
    (local $command i32)
    (memory.copy (i32.const 4096) (local.get $pointer) (local.get $length))
    (global.set $sp (i32.const 60000))
    (global.set $counter (i64.const 0x123456789))
    (global.set $ratio (f32.const 0.25))
    (global.set $scale (f64.const -2.5))
    (drop (memory.grow (i32.const 1)))
    (i32.store (i32.const 131072) (i32.const 0xC0FFEE))
    (if (local.get $length) (then (local.set $command (i32.load8_u (local.get $pointer)))))
    (if (i32.eq (local.get $command) (i32.const 70)) (then
      (i32.store (i32.const 2000) (i32.const 1200))
      (i32.store (i32.const 2004) (i32.const 12))
      (drop (call $fd_write (i32.const 2) (i32.const 2000) (i32.const 1) (i32.const 2008)))
      (return (i32.const 1))))
    (if (i32.eq (local.get $command) (i32.const 72)) (then
      (drop (call $proxy_log (i32.const 2) (i32.const 1024) (i32.const 11)))))
    (if (i32.eq (local.get $command) (i32.const 84)) (then unreachable))
    (if (i32.eq (local.get $command) (i32.const 88)) (then (call $proc_exit (i32.const 3))))
    (if (global.get $prestat_slot) (then
      (i32.store (i32.const 3000)
        (call_indirect (type $prestat) (i32.const 3) (i32.const 3004) (global.get $prestat_slot)))
      (global.set $prestat_slot (i32.const 0))))
    (i32.const 0))

  (func (export "log_argument") (result i32)
    (call $proxy_log (i32.const 2) (i32.const 4096) (i32.const 5)))

  (func (export "counter") (result i64) (global.get $counter))
  (func (export "sp") (result i32) (global.get $sp))
  (func (export "ratio") (result f32) (global.get $ratio))
  (func (export "scale") (result f64) (global.get $scale))
  (func (export "answer") (result i32) (global.get $answer))
  (func (export "initialized") (result i32) (global.get $initialized))
)
"""

ARGUMENT = b"hello, snapshot"


def reactor(wat: str = REACTOR_WAT) -> bytes:
    return bytes(wat2wasm(wat))


@dataclass
class Running:
    """An instance of a snapshot, with the messages it sent to env.proxy_log."""

    store: Store
    instance: Instance
    logged: list[tuple[int, bytes]]

    def call(self, name: str, *args: int) -> object:
        func = self.instance.exports(self.store)[name]
        assert isinstance(func, Func)
        return func(self.store, *args)

    def read(self, start: int, stop: int) -> bytes:
        memory = self.instance.exports(self.store)["memory"]
        assert isinstance(memory, Memory)
        return bytes(memory.read(self.store, start, stop))


def run(module: bytes) -> Running:
    engine = Engine()
    store = Store(engine)
    store.set_wasi(WasiConfig())
    linker = Linker(engine)
    linker.define_wasi()
    logged: list[tuple[int, bytes]] = []

    def proxy_log(caller: Caller, level: int, pointer: int, size: int) -> int:
        memory = caller["memory"]
        assert isinstance(memory, Memory)
        logged.append((level, bytes(memory.read(caller, pointer, pointer + size))))
        return 0

    i32 = ValType.i32()
    log_type = FuncType([i32, i32, i32], [i32])
    linker.define_func("env", "proxy_log", log_type, proxy_log, access_caller=True)
    return Running(store, linker.instantiate(store, Module(engine, module)), logged)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bundle")


@pytest.fixture(scope="module")
def snapshotted(bundle: Path) -> bytes:
    return snapshot.snapshot(reactor(), ARGUMENT, [(bundle, "/bundle")])


@pytest.fixture
def running(snapshotted: bytes) -> Running:
    return run(snapshotted)


def test_memory_is_carried_over(running: Running) -> None:
    assert running.read(4096, 4096 + len(ARGUMENT)) == ARGUMENT
    assert running.read(1024, 1035) == b"static data"
    assert running.read(131072, 131076) == (0xC0FFEE).to_bytes(4, "little")


def test_memory_minimum_grows_and_maximum_is_kept(snapshotted: bytes) -> None:
    payload = binary.find_section(binary.parse_module(snapshotted), SectionId.MEMORY)
    assert payload is not None
    assert binary.decode_memories(payload.payload) == [Limits(3, 64)]


def test_globals_are_carried_over(running: Running) -> None:
    assert running.call("sp") == 60000
    assert running.call("counter") == 0x123456789
    assert running.call("ratio") == 0.25
    assert running.call("scale") == -2.5
    assert running.call("answer") == 42
    assert running.call("initialized") == 1


def test_initialize_is_a_noop_and_build_time_exports_are_gone(
    running: Running, snapshotted: bytes
) -> None:
    running.call("_initialize")
    running.call("_initialize")
    names = [name for name, _, _ in binary.exports(snapshotted)]
    assert "_initialize" in names
    assert "pywasm_init" not in names
    assert "__pywasm_snapshot_noop" not in names
    assert "pywasm_wasi_override" not in names
    assert not any(name.startswith("__pywasm_snapshot") for name in names)


def test_real_host_calls_work_after_snapshot(running: Running) -> None:
    assert running.call("log_argument") == 0
    assert running.logged == [(2, ARGUMENT[:5])]


def test_wasi_override_reaches_preopened_directory(running: Running) -> None:
    assert running.read(3000, 3004) == bytes(4)  # errno 0: fd 3 is a preopened directory
    assert int.from_bytes(running.read(3008, 3012), "little") == len("/bundle")


def test_table_and_name_section_are_unchanged(snapshotted: bytes) -> None:
    sections = binary.parse_module(snapshotted)
    table = binary.find_section(sections, SectionId.TABLE)
    assert table is not None
    assert binary.decode_tables(table.payload)[0].type.limits == Limits(2, 2)
    assert "name" in [section.custom_name for section in sections]


def test_data_segments_cover_only_non_zero_memory(snapshotted: bytes) -> None:
    data = binary.find_section(binary.parse_module(snapshotted), SectionId.DATA)
    assert data is not None
    segments = binary.decode_data(data.payload)
    assert all(segment.offset is not None and segment.data for segment in segments)
    assert sum(len(segment.data) for segment in segments) < 4096


def test_without_wasi_override_there_is_no_preopen_probe(bundle: Path) -> None:
    module = reactor(REACTOR_WAT.replace('(export "pywasm_wasi_override")', ""))
    running = run(snapshot.snapshot(module, ARGUMENT, [(bundle, "/bundle")]))
    assert running.read(3000, 3004) == bytes(4)
    assert running.read(3008, 3012) == bytes(4)


def test_data_count_section_is_kept_consistent() -> None:
    module = reactor(REACTOR_WAT.replace("(func $noop", "(func $drop data.drop 0)\n(func $noop"))
    assert binary.find_section(binary.parse_module(module), SectionId.DATA_COUNT) is not None
    sections = binary.parse_module(snapshot.snapshot(module, ARGUMENT, []))
    count = binary.find_section(sections, SectionId.DATA_COUNT)
    data = binary.find_section(sections, SectionId.DATA)
    assert count is not None and data is not None
    assert binary.decode_data_count(count.payload) == len(binary.decode_data(data.payload))


def test_failed_init_reports_output(tmp_path: Path) -> None:
    log = tmp_path / "init.log"
    with pytest.raises(SnapshotError, match="pywasm_init failed with status 1") as caught:
        snapshot.snapshot(reactor(), b"F", [], log=log)
    assert caught.value.output == "init failed\n"
    assert log.read_text() == "init failed\n"


def test_host_call_during_init_is_reported() -> None:
    with pytest.raises(SnapshotError) as caught:
        snapshot.snapshot(reactor(), b"H", [])
    assert "host call env.proxy_log is not available while the module is pre-initialized" in str(
        caught.value
    )


def test_trap_during_init_is_reported() -> None:
    with pytest.raises(SnapshotError, match="pywasm_init trapped during pre-initialization"):
        snapshot.snapshot(reactor(), b"T", [])


def test_exit_during_init_is_reported() -> None:
    with pytest.raises(SnapshotError, match="exited with code 3"):
        snapshot.snapshot(reactor(), b"X", [])


def test_module_without_initialize() -> None:
    module = reactor(REACTOR_WAT.replace('(func (export "_initialize")', "(func"))
    running = run(snapshot.snapshot(module, ARGUMENT, []))
    assert running.call("initialized") == 0
    assert "_initialize" not in [name for name, _, _ in binary.exports(module)]


def test_initialize_runs_exactly_once() -> None:
    module = reactor(REACTOR_WAT.replace("(global.set $initialized (i32.const 1))", ""))
    running = run(snapshot.snapshot(module, ARGUMENT, []))
    assert running.call("initialized") == 0


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("(data $failure", '(data $passive "x")\n(data $failure'), "passive data segments"),
        (("(memory (export", '(import "other" "f" (func))\n(memory (export'), "other.f"),
        (('(export "pywasm_init")', ""), "does not export the function pywasm_init"),
        (('(func $noop (export "__pywasm_snapshot_noop"))', "(func $noop)"), "snapshot_noop"),
    ],
)
def test_unsupported_modules_are_rejected(edit: tuple[str, str], message: str) -> None:
    wat = REACTOR_WAT.replace(*edit)
    assert wat != REACTOR_WAT
    with pytest.raises(SnapshotError, match=message):
        snapshot.snapshot(reactor(wat), ARGUMENT, [])


def test_garbage_is_rejected() -> None:
    with pytest.raises(SnapshotError, match="cannot read the base module"):
        snapshot.snapshot(b"not wasm", ARGUMENT, [])


def test_missing_preopen_directory_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="not a directory"):
        snapshot.snapshot(reactor(), ARGUMENT, [(tmp_path / "missing", "/x")])


def test_data_spans_merge_short_zero_gaps() -> None:
    memory = bytearray(200)
    memory[10:12] = b"ab"
    memory[20:22] = b"cd"  # 8 zeros after "ab": merged
    memory[100:101] = b"e"  # 78 zeros before: separate
    memory[199] = 1
    assert data_spans(memory) == [(10, 22), (100, 101), (199, 200)]
    assert data_spans(bytearray(64)) == []
    assert data_spans(b"\x01" * 5) == [(0, 5)]
    assert data_spans(b"\x00\x00\x01\x00\x02\x00") == [(2, 5)]


def test_data_spans_respect_the_segment_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot, "MAX_DATA_SEGMENTS", 10)
    memory = bytearray(100 * 64)
    memory[::64] = b"\x01" * 100
    spans = data_spans(memory)
    assert len(spans) <= 10
    covered = bytearray(len(memory))
    for start, end in spans:
        covered[start:end] = memory[start:end]
    assert covered == memory
