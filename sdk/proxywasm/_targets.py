"""What the build decided for this module: its target hosts' quirks, the host calls it left out.

``pywasm-filter build`` links only the host functions the filter reaches and every target host
implements; each other one is replaced inside the module by a function returning
``UNLINKED_STATUS``, which the SDK raises as ``HostCallUnavailableError`` with the reason recorded
here. The build sets this state before the snapshot (``configure``); the emulator sets its own.
"""

from __future__ import annotations

UNLINKED_STATUS = 0x7077
"""The status the module's replacement of a host function it does not link returns."""

HEADER_NAMES_KEEP_CASE = "header_names_keep_case"
INCREMENT_COUNTERS_ONLY = "increment_counters_only"

lower_header_names = False
"""Whether header names read from the host are lowercased (a target host keeps their case)."""

increment_counters_only = False
"""Whether gauges are changed by reading and recording (a target host increments counters only)."""

unavailable: dict[str, str] = {}
"""Host function name -> why this module does not link it and what to do instead."""


def configure(quirks: frozenset[str], reasons: dict[str, str]) -> None:
    """Record the target hosts' ``quirks`` and the ``reasons`` host functions are not linked."""
    global lower_header_names, increment_counters_only
    lower_header_names = HEADER_NAMES_KEEP_CASE in quirks
    increment_counters_only = INCREMENT_COUNTERS_ONLY in quirks
    unavailable.clear()
    unavailable.update(reasons)
