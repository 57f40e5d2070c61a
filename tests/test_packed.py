"""The snapshot stored compressed: the runtime's decoder (runtime/expand.c) restores it exactly."""

from __future__ import annotations

import lzma
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from wasmtime import Engine, Func, Memory, Module, Store, Trap, WasiConfig

from benchmarks.footprint import stub_linker
from pywasm_filter import size_report, toolchain
from pywasm_filter.wasm import binary, packed
from pywasm_filter.wasm.binary import SectionId
from tests.conftest import EXAMPLES

PAGE = 65536


class Decoder:
    """The runtime base's `__pywasm_expand`, called on fresh (zeroed) pages of its memory."""

    def __init__(self) -> None:
        engine = Engine()
        module = Module(engine, toolchain.ensure_runtime_base().read_bytes())
        linker = stub_linker(engine, module)
        self.store = Store(engine)
        self.store.set_wasi(WasiConfig())
        exports = linker.instantiate(self.store, module).exports(self.store)
        memory, expand = exports["memory"], exports[packed.EXPAND_EXPORT]
        assert isinstance(memory, Memory) and isinstance(expand, Func)
        self.memory, self.expand = memory, expand

    def run(self, stream: bytes, size: int) -> bytes:
        """Expand `stream`, expected to hold `size` bytes; return what the decoder wrote."""
        out = self._grow(size + len(stream))
        source = out + size + 16
        self.memory.write(self.store, stream, source)
        scratch = (source + len(stream) + 7) & ~7
        self.expand(self.store, out, source, len(stream), scratch)
        return bytes(self.memory.read(self.store, out, out + size + 16))

    def run_below(self, stream: bytes, size: int) -> tuple[bytes, bytes]:
        """Expand `stream` placed below its bytes; return them and what is left of the stream."""
        source = self._grow(size + len(stream))
        out = (source + len(stream) + 7) & ~7
        self.memory.write(self.store, stream, source)
        self.expand(self.store, out, source, len(stream), (out + size + 7) & ~7)
        return (bytes(self.memory.read(self.store, out, out + size)),
                bytes(self.memory.read(self.store, source, source + len(stream))))

    def _grow(self, size: int) -> int:
        return int(self.memory.grow(self.store, (size + packed.EXPAND_SCRATCH) // PAGE + 2)) * PAGE


@pytest.fixture(scope="module")
def decoder() -> Decoder:
    return Decoder()


def _lzma(data: bytes, preset: int, lc: int, lp: int, pb: int) -> bytes:
    """`data` in runtime/expand.c's format, with LZMA settings other than the build's."""
    header = bytes([lc + 9 * lp + 45 * pb]) + len(data).to_bytes(4, "little")
    filters = [{"id": lzma.FILTER_LZMA1, "preset": preset, "lc": lc, "lp": lp, "pb": pb}]
    return header + lzma.compress(data, format=lzma.FORMAT_RAW, filters=filters)


def _memory_like(seed: int) -> bytes:
    """Zero runs, repeats and arbitrary bytes, as a snapshot's memory holds them."""
    rng = random.Random(seed)
    parts = []
    for _ in range(rng.randrange(30)):
        kind = rng.randrange(3)
        if kind == 0:
            parts.append(rng.randbytes(rng.randrange(300)))
        elif kind == 1:
            parts.append(bytes(rng.randrange(1, 5000)))
        else:
            parts.append(rng.randbytes(rng.randrange(1, 9)) * rng.randrange(1, 200))
    return b"".join(parts)


@pytest.mark.parametrize("preset", [0, 6, 9 | lzma.PRESET_EXTREME])
@pytest.mark.parametrize(("lc", "lp", "pb"), [(0, 0, 0), (2, 0, 4), (0, 2, 2), (1, 1, 3)])
def test_decoder_restores_what_lzma_compressed(decoder: Decoder, preset: int, lc: int, lp: int,
                                               pb: int) -> None:
    for seed in range(8):
        data = _memory_like(seed)
        written = decoder.run(_lzma(data, preset, lc, lp, pb), len(data))
        assert written == data + bytes(16), f"seed {seed}"


def test_settings_beyond_the_scratch_area_trap(decoder: Decoder) -> None:
    with pytest.raises(Trap):
        decoder.run(_lzma(b"some data" * 50, 6, 3, 0, 2), 450)


def test_a_stream_below_its_bytes_expands_and_is_zeroed(decoder: Decoder) -> None:
    data = _memory_like(5) + b"tail"
    stream = packed.compress(data)
    assert decoder.run_below(stream, len(data)) == (data, bytes(len(stream)))


def test_build_compresses_the_snapshot_by_default(decoder: Decoder) -> None:
    data = bytes(range(256)) * 40 + bytes(70_000) + b"tail"
    assert decoder.run(packed.compress(data), len(data)) == data + bytes(16)


@pytest.mark.parametrize("damage", [
    lambda stream: stream[:len(stream) // 2],
    lambda stream: stream[:5] + b"\x01" + stream[6:],
    lambda stream: stream[:1] + (10**6).to_bytes(4, "little") + stream[5:],
    lambda stream: stream[:40] + bytes(b ^ 0x5A for b in stream[40:]),
], ids=["truncated", "bad-first-byte", "size-too-large", "garbled"])
def test_damaged_stream_traps(decoder: Decoder, damage: Callable[[bytes], bytes]) -> None:
    data = _memory_like(3) + bytes(range(256)) * 8
    with pytest.raises(Trap):
        decoder.run(damage(packed.compress(data)), len(data))


def test_a_built_modules_vm_starts_with_the_snapshots_memory(
        built: Callable[[Path], Path]) -> None:
    module = built(EXAMPLES / "http_headers" / "http_headers.py").read_bytes()
    sections = binary.parse_module(module)
    data = binary.find_section(sections, SectionId.DATA)
    assert data is not None and len(binary.decode_data(data.payload)) >= 1
    image = packed.memory_image(module)
    assert b"proxywasm/_dispatch.py" in image
    engine = Engine()
    compiled = Module(engine, module)
    linker = stub_linker(engine, compiled)
    store = Store(engine)
    store.set_wasi(WasiConfig())
    memory = linker.instantiate(store, compiled).exports(store)["memory"]
    assert isinstance(memory, Memory)
    assert bytes(memory.read(store, 0, len(image))) == image


def test_size_report_lists_the_filters_stdlib_and_sdk_imports() -> None:
    assert size_report.imported_modules(EXAMPLES / "typed_config" / "typed_config.py") == [
        "dataclasses", "proxywasm.config"]
