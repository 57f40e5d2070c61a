"""Validate JSON request bodies: content type, then required keys and their types.

The Go SDK's ``json_validation`` example in Python, with the rules in the plugin
configuration (JSON):

    {"methods": ["POST", "PUT", "PATCH"], "required": {"id": "integer", "name": "string"}}

A request with one of ``methods`` must say ``content-type: application/json`` (else 415) and
carry a JSON object with every ``required`` key of its type (``string``, ``integer``,
``number``, ``boolean``, ``object``, ``array``, ``null``); otherwise the client gets a 400
whose JSON body says what is wrong. Valid requests go on unchanged. Other methods pass.
"""

from __future__ import annotations

import json

import proxywasm
from proxywasm import Action, HttpContext, RootContext

TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "object": (dict,), "array": (list,), "null": (type(None),),
}
JSON_HEADERS = [("content-type", "application/json")]


class Rules:
    """What a body must hold, read from the plugin configuration."""

    def __init__(self, methods: list[str], required: dict[str, str]) -> None:
        self.methods = frozenset(method.upper() for method in methods)
        self.required = required

    @classmethod
    def parse(cls, text: bytes) -> Rules:
        """The rules of a configuration; ValueError says what is wrong with it."""
        config = json.loads(text or b"{}")
        if not isinstance(config, dict) or set(config) - {"methods", "required"}:
            raise ValueError('the configuration is a JSON object with "methods" and '
                             '"required" only')
        methods = config.get("methods", ["POST", "PUT", "PATCH"])
        required = config.get("required", {})
        if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
            raise ValueError('"methods" must be a list of strings such as ["POST"]')
        if not isinstance(required, dict):
            raise ValueError('"required" must map keys to types, e.g. {"id": "integer"}')
        for key, kind in required.items():
            if kind not in TYPES:
                raise ValueError(f'"required": {key!r} has type {kind!r}; use one of '
                                 f"{', '.join(TYPES)}")
        return cls(methods, required)

    def problems(self, body: bytes) -> list[str]:
        """Why ``body`` is not a valid document (empty when it is)."""
        try:
            document = json.loads(body)
        except (ValueError, RecursionError) as error:
            return [f"the body is not JSON: {error}"]
        if not isinstance(document, dict):
            return [f"the body must be a JSON object, not {kind_of(document)}"]
        found = []
        for key, kind in self.required.items():
            if key not in document:
                found.append(f"missing key {key!r} ({kind})")
            elif not is_a(document[key], kind):
                found.append(f"key {key!r} must be {kind}, not {kind_of(document[key])}")
        return found


def is_a(value: object, kind: str) -> bool:
    """Whether ``value`` is of the JSON type ``kind`` (a boolean is no integer or number)."""
    if isinstance(value, bool) and kind != "boolean":
        return False
    return isinstance(value, TYPES[kind])


def kind_of(value: object) -> str:
    """The JSON type name of a decoded value."""
    for kind in ("boolean", "integer", "number", "string", "object", "array", "null"):
        if is_a(value, kind):
            return kind
    return type(value).__name__


class JsonValidationRoot(RootContext):
    """Loads the rules; a bad configuration is refused with the reason in the log."""

    rules: Rules

    def on_configure(self, plugin_configuration_size: int) -> bool:
        try:
            self.rules = Rules.parse(self.get_plugin_configuration() or b"")
        except ValueError as error:
            proxywasm.log_error(f"rejecting the plugin configuration: {error}")
            return False
        return True

    def create_http_context(self, context_id: int) -> HttpContext:
        return JsonValidation(self.rules)


class JsonValidation(HttpContext):
    """Checks the content type on the headers, then the whole body."""

    def __init__(self, rules: Rules) -> None:
        super().__init__()
        self.rules = rules
        self.checking = False

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        if self.get_http_request_header(":method") not in self.rules.methods:
            return Action.CONTINUE
        content_type = self.get_http_request_header("content-type") or ""
        if content_type.split(";")[0].strip().lower() != "application/json":
            return self.reject(415, f"content-type must be application/json, not "
                                    f"{content_type or 'absent'}")
        if end_of_stream:
            return self.reject(400, "a JSON body is required")
        self.checking = True
        return Action.CONTINUE

    def on_http_request_body(self, body_size: int, end_of_stream: bool) -> Action:
        if not self.checking:
            return Action.CONTINUE
        body = self.whole_http_request_body(body_size, end_of_stream)
        if body is None:
            return Action.PAUSE
        problems = self.rules.problems(body)
        if problems:
            return self.reject(400, "; ".join(problems))
        return Action.CONTINUE

    def reject(self, status: int, message: str) -> Action:
        """Answer with ``status`` and a JSON body saying why."""
        proxywasm.log_info(f"rejected ({status}): {message}")
        body = json.dumps({"error": message}).encode() + b"\n"
        self.send_http_response(status, JSON_HEADERS, body)
        return Action.PAUSE


proxywasm.set_root_context(JsonValidationRoot)
