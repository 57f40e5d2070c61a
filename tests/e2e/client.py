"""A minimal HTTP client for the end-to-end tests: one GET, any status."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message


@dataclass
class Response:
    """What a client saw: status, headers (case-insensitive) and body."""

    status: int
    headers: Message
    body: bytes


def get(url: str, headers: dict[str, str] | None = None) -> Response:
    """Send one GET and return the response, whatever its status."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Response(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, error.headers, error.read())
