"""Envoy's ``compress`` and ``uncompress`` foreign functions (zlib), ready for a test's host.

``Host(..., foreign_functions=ENVOY_FOREIGN_FUNCTIONS)`` lets a filter call them as it would in
Envoy. A foreign function fails the filter's call with a status by raising ``HostStatusError``.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

from ..types import Status
from .records import ForeignFunction, HostStatusError


def envoy_compress(data: bytes) -> bytes:
    """Envoy's ``compress``: zlib's ``compress`` at the default level."""
    return zlib.compress(data)


def envoy_uncompress(data: bytes) -> bytes:
    """Envoy's ``uncompress``: data that is not zlib fails with SERIALIZATION_FAILURE."""
    try:
        return zlib.decompress(data)
    except zlib.error as error:
        raise HostStatusError(Status.SERIALIZATION_FAILURE, f"uncompress: {error}") from None


ENVOY_FOREIGN_FUNCTIONS: Mapping[str, ForeignFunction] = {
    "compress": envoy_compress,
    "uncompress": envoy_uncompress,
}
