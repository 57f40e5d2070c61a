"""The benchmark's outputs: a printed table, a JSON file and a PNG chart."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

_ROWS = (
    ("cpu_us_per_request", "Envoy CPU per request (us)", "{:.2f}"),
    ("added_cpu_us_per_request", "added by the filter (us)", "{:.2f}"),
    ("server_cpu_us_per_request", "ext_proc server CPU per request (us)", "{:.2f}"),
    ("total_added_cpu_us_per_request", "added, Envoy + server (us)", "{:.2f}"),
    ("minor_faults_per_1k_requests", "Envoy page faults per 1k requests", "{:.2f}"),
    ("requests_per_second", "requests/s", "{:.0f}"),
    ("p50_ms", "p50 latency (ms)", "{:.3f}"),
    ("p99_ms", "p99 latency (ms)", "{:.3f}"),
    ("rss_mib_concurrency_1", "RSS, concurrency 1 (MiB)", "{:.1f}"),
    ("rss_mib_concurrency_2", "RSS, concurrency 2 (MiB)", "{:.1f}"),
    ("server_rss_mib", "ext_proc server RSS (MiB)", "{:.1f}"),
    ("load_seconds", "start -> first 200 (s)", "{:.3f}"),
    ("load_cpu_seconds", "Envoy CPU until first 200 (s)", "{:.3f}"),
    ("vm_to_first_callback_seconds", "VM created -> first callback (s)", "{:.3f}"),
    ("file_bytes", "module file (bytes)", "{:,}"),
    ("code_bytes", "code section (bytes)", "{:,}"),
    ("data_bytes", "data section (bytes)", "{:,}"),
    ("fuel_per_request", "wasmtime fuel per request", "{:,}"),
)


def table(variants: dict[str, dict[str, Any]]) -> str:
    """A fixed-width table: one row per figure, one column per variant."""
    names = list(variants)
    width = max(len(label) for _, label, _ in _ROWS) + 2
    lines = ["".ljust(width) + "".join(name.rjust(16) for name in names)]
    for key, label, form in _ROWS:
        cells = []
        for name in names:
            value = variants[name].get(key)
            cells.append(("-" if value is None else form.format(value)).rjust(16))
        lines.append(label.ljust(width) + "".join(cells))
    return "\n".join(lines)


def write_json(path: Path, summary: dict[str, Any]) -> None:
    """Write the summary, keys sorted, for other tools and for comparing runs."""
    path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")


def chart_missing() -> str | None:
    """Why ``write_chart`` cannot draw here (and what to install), or None: checked before a
    run rather than after its minutes of measuring."""
    if importlib.util.find_spec("matplotlib") is None:
        return ("results.png is drawn with matplotlib, which this Python lacks: install the "
                "bench extra (.venv/bin/pip install -e '.[bench]')")
    return None


def write_chart(path: Path, variants: dict[str, dict[str, Any]]) -> None:
    """Bar charts of added CPU per request, RSS and load time per variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (
        ("total_added_cpu_us_per_request", "added CPU/request, Envoy + server (us)"),
        ("rss_mib_concurrency_1", "Envoy RSS, concurrency 1 (MiB)"),
        ("load_seconds", "start -> first 200 (s)"),
    )
    figure, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6))
    names = list(variants)
    for axis, (key, title) in zip(axes, panels, strict=True):
        values = [float(variants[name].get(key) or 0.0) for name in names]
        bars = axis.bar(names, values, color=["#999999", "#4477aa", "#ee6677", "#228833",
                                            "#ccbb44", "#aa3377"][: len(names)])
        axis.bar_label(bars, fmt="%.2f", fontsize=8)
        axis.set_title(title, fontsize=10)
        axis.tick_params(axis="x", labelrotation=20, labelsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
