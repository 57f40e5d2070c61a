"""End-to-end tests: built filters in a real Envoy on 127.0.0.1."""

from collections.abc import Callable
from contextlib import AbstractContextManager

from pywasm_filter.envoy import Envoy

# The type of the `run_envoy` fixture: run_envoy(*filters, concurrency=1) starts an Envoy.
RunEnvoy = Callable[..., AbstractContextManager[Envoy]]

# The type of the `start_envoy` fixture: start_envoy(bootstrap_dict, concurrency=1).
StartEnvoy = Callable[..., AbstractContextManager[Envoy]]
