"""Run an example's own envoy.yaml in the e2e tests: its routes and plugin configuration, with
ports the kernel picks and the modules the test built."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml


def example_bootstrap(config: Path, built: dict[str, Path],
                      configuration: str | None = None) -> dict[str, Any]:
    """``config`` (an example's envoy.yaml) with free ports, each ``NAME.wasm`` it loads
    replaced by ``built[NAME]``, and the Wasm filters' configuration by ``configuration``."""
    bootstrap = yaml.safe_load(config.read_text())
    bootstrap["admin"]["address"]["socket_address"]["port_value"] = 0
    for listener in bootstrap["static_resources"]["listeners"]:
        listener["address"]["socket_address"]["port_value"] = 0
        if configuration is not None:
            for chain in listener["filter_chains"]:
                for network_filter in chain["filters"]:
                    for http_filter in network_filter["typed_config"].get("http_filters", []):
                        plugin = http_filter["typed_config"].get("config", {})
                        if "configuration" in plugin:
                            plugin["configuration"]["value"] = configuration
    text = json.dumps(bootstrap)
    for name, module in built.items():
        text = text.replace(f'"filename": "{name}.wasm"', f'"filename": {json.dumps(str(module))}')
    loaded: dict[str, Any] = json.loads(text)
    return loaded
