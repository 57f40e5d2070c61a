"""Typed metrics: declare a ``Counter``, ``Gauge`` or ``Histogram`` once, use it anywhere.

Declare metrics at module level; each is defined in the host lazily, on first use in each VM
(host calls are not available at build time). Labels are encoded into the metric name as
``<name>.<label>.<value>`` pairs, in the declared order, so Envoy's ``stats_tags`` can turn
them back into tags: ``metric.stats_tags()`` returns the entries to put in the bootstrap.
Envoy prefixes every Wasm metric with ``wasmcustom.``. Dots in label values become ``_``.
"""

from __future__ import annotations

from . import _targets, hostcalls
from .types import MetricType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

ENVOY_PREFIX = "wasmcustom."
"""The prefix Envoy gives the names of metrics defined by Wasm plugins."""


class _Metric:
    """A metric family: one host metric per combination of label values."""

    __slots__ = ("_ids", "labels", "name")
    _type: MetricType

    def __init__(self, name: str, labels: Sequence[str] = ()) -> None:
        if not name:
            raise ValueError("a metric needs a name")
        self.name = name
        self.labels = tuple(labels)
        for label in self.labels:
            if not label or "." in label:
                raise ValueError(f"metric {name!r}: label names must be non-empty, without '.'")
        self._ids: dict[tuple[str, ...], int] = {}

    def full_name(self, values: Sequence[str] = ()) -> str:
        """The host metric name for these label values (without Envoy's prefix)."""
        if len(values) != len(self.labels):
            raise ValueError(
                f"metric {self.name!r} has labels {self.labels}, got values {tuple(values)}"
            )
        parts = [self.name]
        for label, value in zip(self.labels, values, strict=True):
            parts.append(f"{label}.{str(value).replace('.', '_')}")
        return ".".join(parts)

    def _id(self, values: tuple[str, ...]) -> int:
        metric_id = self._ids.get(values)
        if metric_id is None:
            metric_id = hostcalls.define_metric(self._type, self.full_name(values))
            self._ids[values] = metric_id
        return metric_id

    def stats_tags(self, prefix: str = ENVOY_PREFIX) -> list[dict[str, str]]:
        """Envoy ``stats_config.stats_tags`` entries that extract this metric's labels as tags."""
        escaped = (prefix + self.name).replace(".", r"\.")
        return [
            {
                "tag_name": label,
                "regex": rf"^{escaped}(?:\.[^.]+\.[^.]+)*?(\.{label}\.([^.]+))",
            }
            for label in self.labels
        ]


class Counter(_Metric):
    """A count that only goes up, e.g. requests seen."""

    __slots__ = ()
    _type = MetricType.COUNTER

    def increment(self, delta: int = 1, *label_values: str) -> None:
        """Add ``delta`` (not negative) for the given label values."""
        if delta < 0:
            raise ValueError(f"counter {self.name!r} cannot go down (delta {delta})")
        metric_id = self._id(label_values)
        if delta:  # Envoy answers BAD_ARGUMENT to adding 0 to a counter
            hostcalls.increment_metric(metric_id, delta)

    def get(self, *label_values: str) -> int:
        """Return the current count for the given label values."""
        return hostcalls.get_metric(self._id(label_values))


class Gauge(_Metric):
    """A value that goes up and down, e.g. requests in flight."""

    __slots__ = ()
    _type = MetricType.GAUGE

    def set(self, value: int, *label_values: str) -> None:
        """Set the gauge to ``value``."""
        hostcalls.record_metric(self._id(label_values), value)

    def increment(self, delta: int = 1, *label_values: str) -> None:
        """Add ``delta`` (negative to decrease).

        Where a target host increments counters only (Nginx WasmX), the gauge is read and the
        sum recorded: not atomic across workers there, unlike Envoy's increment.
        """
        metric_id = self._id(label_values)
        if _targets.increment_counters_only:
            hostcalls.record_metric(metric_id, hostcalls.get_metric(metric_id) + delta)
        else:
            hostcalls.increment_metric(metric_id, delta)

    def get(self, *label_values: str) -> int:
        """Return the gauge's current value."""
        return hostcalls.get_metric(self._id(label_values))


class Histogram(_Metric):
    """A distribution of samples, e.g. body sizes; the host computes the quantiles."""

    __slots__ = ()
    _type = MetricType.HISTOGRAM

    def record(self, value: int, *label_values: str) -> None:
        """Record one sample (not negative)."""
        if value < 0:
            raise ValueError(f"histogram {self.name!r} takes no negative samples ({value})")
        hostcalls.record_metric(self._id(label_values), value)
