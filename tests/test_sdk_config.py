"""Typed plugin configuration: JSON into dataclasses, errors that name the field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import pytest

from proxywasm.config import ConfigError, load


@dataclass
class Upstream:
    cluster: str
    timeout_ms: int = 500


@dataclass
class Settings:
    header: str
    ratio: float = 1.0
    enabled: bool = True
    paths: list[str] = field(default_factory=list)
    upstream: Upstream | None = None


def test_valid_configuration_builds_the_dataclass() -> None:
    settings = load(
        Settings, b'{"header": "x-a", "ratio": 1, "paths": ["/a"], "upstream": {"cluster": "auth"}}'
    )
    assert settings == Settings("x-a", 1.0, True, ["/a"], Upstream("auth", 500))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{", "the plugin configuration is not valid JSON"),
        (b"{}", "configuration: the field 'header' is required"),
        (b'{"header": 3}', "configuration.header must be a string, got 3"),
        (b'{"header": "x", "heder": 1}', "unknown field 'heder' (did you mean 'header'?)"),
        (b'{"header": "x", "enabled": 1}', "configuration.enabled must be true or false"),
        (b'{"header": "x", "paths": ["/a", 2]}', "configuration.paths[1] must be a string"),
        (
            b'{"header": "x", "upstream": {"cluster": "a", "timeout_ms": "1s"}}',
            "configuration.upstream.timeout_ms must be an integer, got '1s'",
        ),
    ],
)
def test_bad_configuration_names_the_field(data: bytes, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        load(Settings, data)
    assert message in str(error.value)


def test_empty_configuration_is_an_empty_object() -> None:
    @dataclass
    class Optional:
        level: int = 3

    assert load(Optional, None) == Optional()


def test_typing_spellings_and_mappings_are_understood() -> None:
    @dataclass
    class Limits:
        per_route: dict[str, int]
        fallback: Optional[int] = None  # noqa: UP045 (the older spelling users still write)

    assert load(Limits, b'{"per_route": {"/a": 3}}') == Limits({"/a": 3})
    with pytest.raises(ConfigError, match=r"configuration.per_route./a must be an integer"):
        load(Limits, b'{"per_route": {"/a": "3"}}')


def test_unsupported_annotation_is_named() -> None:
    @dataclass
    class Odd:
        value: set[int]

    with pytest.raises(ConfigError, match="unknown type 'set'"):
        load(Odd, b'{"value": [1]}')


@dataclass
class Checked:
    limit: int

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError(f"limit must be at least 1, got {self.limit}")


@dataclass
class Outer:
    inner: Checked


def test_dataclass_checks_become_config_errors_naming_where() -> None:
    expected = r"^configuration\.inner: limit must be at least 1, got 0$"
    with pytest.raises(ConfigError, match=expected):
        load(Outer, b'{"inner": {"limit": 0}}')


def test_config_error_from_a_check_keeps_its_own_message() -> None:
    @dataclass
    class Strict:
        name: str

        def __post_init__(self) -> None:
            raise ConfigError(f"configuration.name {self.name!r} is taken")

    with pytest.raises(ConfigError, match=r"^configuration\.name 'a' is taken$"):
        load(Strict, b'{"name": "a"}')
