"""A small traceback formatter: file, line and function of each frame, then the exception.

The ``traceback`` module is not used: it reads source files, which do not exist at run time,
and it would add to every module's snapshot.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Container
    from types import TracebackType

_REPEAT_LIMIT = 3
_CAUSE = "The above exception was the direct cause of the following exception:"
_CONTEXT = "During handling of the above exception, another exception occurred:"


def frames(tb: TracebackType | None) -> list[tuple[str, int, str]]:
    """Return ``(file, line, function)`` for each frame of a traceback, outermost first."""
    result: list[tuple[str, int, str]] = []
    while tb is not None:
        code = tb.tb_frame.f_code
        result.append((code.co_filename, tb.tb_lineno, code.co_name))
        tb = tb.tb_next
    return result


def describe(exc: BaseException) -> str:
    """Return ``Type: message`` for an exception, qualified by module unless built in."""
    cls = type(exc)
    name = cls.__qualname__
    if cls.__module__ not in ("builtins", "__main__"):
        name = f"{cls.__module__}.{name}"
    try:
        text = str(exc)
    except Exception:  # a broken __str__ must not hide the original error
        text = "<the exception's str() failed>"
    return f"{name}: {text}" if text else name


def format_exception(exc: BaseException, hidden_files: Container[str] = ()) -> str:
    """Format an exception and its cause or context chain like the interpreter does.

    Frames of ``hidden_files`` (the SDK's dispatcher, which calls every callback) are left out.
    """
    lines: list[str] = []
    _format(exc, lines, set(), hidden_files)
    return "\n".join(lines)


def _format(
    exc: BaseException, lines: list[str], seen: set[int], hidden_files: Container[str]
) -> None:
    seen.add(id(exc))
    cause, context = exc.__cause__, exc.__context__
    if cause is not None and id(cause) not in seen:
        _format(cause, lines, seen, hidden_files)
        lines.extend(("", _CAUSE, ""))
    elif context is not None and not exc.__suppress_context__ and id(context) not in seen:
        _format(context, lines, seen, hidden_files)
        lines.extend(("", _CONTEXT, ""))
    if exc.__traceback__ is not None:
        lines.append("Traceback (most recent call last):")
        entries = [entry for entry in frames(exc.__traceback__) if entry[0] not in hidden_files]
        _format_frames(entries, lines)
    lines.append(describe(exc))
    notes = getattr(exc, "__notes__", None)
    if isinstance(notes, list):
        lines.extend(str(note) for note in notes)


def _format_frames(entries: list[tuple[str, int, str]], lines: list[str]) -> None:
    previous: tuple[str, int, str] | None = None
    repeats = 0
    for entry in entries:
        if entry == previous:
            repeats += 1
            if repeats >= _REPEAT_LIMIT:
                continue
        else:
            _flush_repeats(repeats, lines)
            previous, repeats = entry, 0
        file, line, function = entry
        lines.append(f'  File "{file}", line {line}, in {function}')
    _flush_repeats(repeats, lines)


def _flush_repeats(repeats: int, lines: list[str]) -> None:
    if repeats >= _REPEAT_LIMIT:
        hidden = repeats - _REPEAT_LIMIT + 1
        lines.append(f"  [Previous line repeated {hidden} more time{'s' if hidden > 1 else ''}]")
