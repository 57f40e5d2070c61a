"""The one place that imports ``_proxywasm``; other modules call ``_host.<function>(...)``.

The functions of the bound host module are copied into this module's namespace, so a host
call costs one attribute lookup. Inside a proxy the C module is bound at import; the test
emulator binds its own module with ``bind``. Unbound, any host call raises RuntimeError, so
the SDK can still be imported for type checking and plain unit tests.
"""

from . import errors as _errors

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._proxywasm import *  # noqa: F403

_bound: list[str] = []


def bind(module: object | None) -> None:
    """Route host calls to ``module`` (``_proxywasm`` or an emulator of it); None unbinds."""
    namespace = globals()
    for name in _bound:
        del namespace[name]
    _bound.clear()
    if module is None:
        return
    for name in dir(module):
        if not name.startswith("_") and name not in namespace:
            namespace[name] = getattr(module, name)
            _bound.append(name)
    namespace["set_error_factory"](_errors.error_for)


def _unavailable(name: str) -> RuntimeError:
    return RuntimeError(
        f"host call {name}() is not available: proxywasm host calls only work inside a proxy "
        "(in a module built by pywasm-filter) or under the proxywasm.testing emulator"
    )


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
