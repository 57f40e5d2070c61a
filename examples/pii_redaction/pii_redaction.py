"""Redact PII from response bodies with ``re``: emails, card numbers, phone numbers.

Text responses (``text/*``, JSON, XML, form data, or no content type) are buffered whole and
searched with bounded regular expressions (linear time on any body):

- email addresses become ``[email]``;
- card numbers (13 to 19 digits, spaces or dashes allowed between them) that pass the Luhn
  check become ``[card]`` (other long numbers, such as order ids, are left alone);
- international (``+44 20 7946 0958``) and North American (``(555) 010-4477``) phone numbers
  become ``[phone]``.

The filter asks the upstream for an uncompressed answer (it drops ``accept-encoding``), drops
the response's ``content-length`` (the redacted body is shorter or longer), and logs what it
redacted per response.
"""

from __future__ import annotations

import re

import proxywasm
from proxywasm import Action, HttpContext

EMAIL = re.compile(rb"[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}"
                   rb"(?![A-Za-z0-9-])")
CARD = re.compile(rb"(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])")
PHONE = re.compile(rb"(?<![0-9A-Za-z+])\+[1-9](?:[ .-]?[0-9]){7,14}(?![0-9])"
                   rb"|(?<![0-9A-Za-z])\(?[2-9][0-9]{2}\)?[ .-]?[0-9]{3}[ .-][0-9]{4}(?![0-9])")
KINDS = {"email": EMAIL, "card": CARD, "phone": PHONE}
"""What is redacted, in this order: an address goes whole (digits in it too), then cards
(their digits are no phone number)."""
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript",
              "application/x-www-form-urlencoded", "+json", "+xml")


def luhn_valid(digits: bytes) -> bool:
    """Whether a string of ASCII digits passes the Luhn checksum of card numbers."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = char - ord("0")
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def redact(body: bytes) -> tuple[bytes, dict[str, int]]:
    """``body`` with its PII replaced, and how many of each kind were found."""
    counts = dict.fromkeys(KINDS, 0)
    for kind, pattern in KINDS.items():
        def replace(match: re.Match[bytes], kind: str = kind) -> bytes:
            if kind == "card" and not luhn_valid(match[0].translate(None, b" -")):
                return match[0]
            counts[kind] += 1
            return f"[{kind}]".encode()
        body = pattern.sub(replace, body)
    return body, counts


def is_text(content_type: str | None) -> bool:
    """Whether a response of this content type is text the filter can search."""
    if content_type is None:
        return True
    media = content_type.split(";")[0].strip().lower()
    return any(media.startswith(kind) or media.endswith(kind) for kind in TEXT_TYPES)


class PiiRedaction(HttpContext):
    """Buffers each text response whole, redacts it, and logs the counts."""

    path = ""
    redacting = False

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.path = self.get_http_request_header(":path") or ""
        self.remove_http_request_header("accept-encoding")
        return Action.CONTINUE

    def on_http_response_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        encoding = self.get_http_response_header("content-encoding")
        if encoding not in (None, "identity"):
            proxywasm.log_warn(f"{self.path}: a {encoding}-encoded response cannot be searched; "
                               "passing it unchanged")
        elif is_text(self.get_http_response_header("content-type")):
            self.redacting = True
            self.remove_http_response_header("content-length")
        return Action.CONTINUE

    def on_http_response_body(self, body_size: int, end_of_stream: bool) -> Action:
        if not self.redacting:
            return Action.CONTINUE
        body = self.whole_http_response_body(body_size, end_of_stream)
        if body is None:
            return Action.PAUSE
        redacted, counts = redact(body)
        if redacted != body:
            self.set_http_response_body(0, len(body), redacted)
            found = ", ".join(f"{count} {kind}" for kind, count in counts.items() if count)
            proxywasm.log_info(f"{self.path}: redacted {found}")
        return Action.CONTINUE


proxywasm.set_http_context(PiiRedaction)
