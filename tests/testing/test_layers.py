"""The emulator is its own layer: it runs filters and modules, and never imports the compiler."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import EXAMPLES

_RUN_WITHOUT_THE_COMPILER = f'''
import pkgutil, sys
import proxywasm.testing
from proxywasm.testing import Host

for module in pkgutil.iter_modules(proxywasm.testing.__path__, "proxywasm.testing."):
    __import__(module.name)
host = Host.from_source(r"{EXAMPLES / "http_headers" / "http_headers.py"}")
assert host.start()
host.new_http_stream().send_request_headers({{":path": "/"}})
print(sorted(name for name in sys.modules if name.startswith("pywasm_filter")))
'''


def test_the_emulator_runs_a_filter_without_importing_the_compiler() -> None:
    result = subprocess.run([sys.executable, "-c", _RUN_WITHOUT_THE_COMPILER],
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
