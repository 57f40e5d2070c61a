"""The one place that imports ``_proxywasm``; other modules call ``_host.<function>(...)``.

The functions of the bound host module are copied into this module's namespace, so a host
call costs one attribute lookup. Inside a proxy the C module is bound at import; the test
emulator binds its own module with ``bind``. Unbound, any host call raises RuntimeError, so
the SDK can still be imported for type checking and plain unit tests.
"""

from __future__ import annotations

from . import errors as _errors

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from ._proxywasm import *  # noqa: F403

_bound: list[str] = []
_on_bind: list[Callable[[], None]] = []
"""Called after every ``bind`` (``hostcalls`` re-points the context methods that are host
functions)."""
_NOT_IN_A_PROXY = (
    "proxywasm host calls only work inside a proxy (in a module built by pywasm-filter) or "
    "under the proxywasm.testing emulator"
)
_unbound_reason = _NOT_IN_A_PROXY
_module: object | None = None
_native = False


def bind(module: object | None, unbound_reason: str = _NOT_IN_A_PROXY) -> None:
    """Route host calls to ``module`` (``_proxywasm`` or an emulator of it).

    With None, host calls raise RuntimeError explaining ``unbound_reason``.
    """
    global _unbound_reason, _module, _native
    namespace = globals()
    for name in _bound:
        del namespace[name]
    _bound.clear()
    _unbound_reason = unbound_reason
    _module = module
    _native = getattr(module, "__name__", None) == "_proxywasm"
    if module is not None:
        for name in dir(module):
            if not name.startswith("_") and name not in namespace:
                namespace[name] = getattr(module, name)
                _bound.append(name)
        namespace["set_error_factory"](_errors.error_for)
    for hook in _on_bind:
        hook()


def bound_module() -> object | None:
    """The module host calls currently go to, or None."""
    return _module


def native() -> bool:
    """Whether host calls go to the runtime's C ``_proxywasm`` (inside a proxy)."""
    return _native


class NoHostError(RuntimeError):
    """A host call made where no proxy is attached (at build time, or outside a proxy)."""


def _unavailable(name: str) -> NoHostError:
    return NoHostError(f"host call {name}() is not available: {_unbound_reason}")


if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        if name.startswith("_"):
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        raise _unavailable(name)

    try:
        import _proxywasm
    except ModuleNotFoundError as missing:
        if missing.name != "_proxywasm":
            raise
    else:
        bind(_proxywasm)
