"""End-to-end tests: built filters in a real Envoy on 127.0.0.1."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from pywasm_filter.envoy import Envoy, HttpBootstrap, Upstream, WasmFilter

# The type of the `run_envoy` fixture: run_envoy(*filters, concurrency=1) starts an Envoy.
RunEnvoy = Callable[..., AbstractContextManager[Envoy]]

# The type of the `start_envoy` fixture: start_envoy(bootstrap_dict, concurrency=1).
StartEnvoy = Callable[..., AbstractContextManager[Envoy]]


def envoy_in_front(module: Path, upstream: Upstream, workdir: Path,
                   configuration: str = "") -> AbstractContextManager[Envoy]:
    """An Envoy running ``module`` (with its plugin ``configuration``) in front of
    ``upstream``, for a module of tests that share one Envoy."""
    filter_ = WasmFilter(module, configuration=configuration)
    config = HttpBootstrap(filters=[filter_], route_to=upstream.name,
                           clusters=[upstream]).to_config()
    return Envoy(config, workdir)
