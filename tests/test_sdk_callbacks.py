"""The one declaration of the callbacks (proxywasm._callbacks) agrees with the code it drives."""

from __future__ import annotations

from proxywasm import HttpContext, StreamContext, _callbacks
from proxywasm import _dispatch as dispatch
from pywasm_filter import toolchain


def test_every_declared_callback_has_a_dispatcher_function() -> None:
    missing = [callback.name for callback in _callbacks.CALLBACKS
               if not callable(getattr(dispatch, callback.name, None))]
    assert missing == []


def test_every_inheritable_method_exists_on_its_context_class() -> None:
    missing = [callback.method for callback in _callbacks.INHERITABLE
               if not hasattr(HttpContext if callback.http else StreamContext, callback.method)]
    assert missing == []


def test_the_inherited_mask_fits_the_runtime_entry() -> None:
    assert len(_callbacks.INHERITABLE) <= 16  # callbacks.c keeps the mask in a uint16_t


def test_the_runtime_exports_every_declared_callback() -> None:
    exports = toolchain._render_callbacks()["callback_exports.h"].decode()
    missing = [callback.name for callback in _callbacks.CALLBACKS
               if f"PYWASM_EXPORT(proxy_{callback.name})" not in exports]
    assert missing == []
