"""Verify a JSON Web Token (HS256) on every request with PyJWT, keys from the configuration.

Python's packages are why a filter is written in Python: this one is ``pip install pyjwt`` and
``import jwt``, and ``pywasm-filter build`` bundles PyJWT's pure-Python code (its RSA and EC
algorithms need the ``cryptography`` C extension and stay off; its JWKS client needs sockets
and is kept as a placeholder, as the build's note says).

The token comes as ``authorization: Bearer <token>``; its ``kid`` header picks the key (a token
without one is verified with the only key, if there is only one). Expiry (``exp``, required)
and ``nbf`` are checked against the proxy's clock, which the emulator controls in tests. A
missing, malformed, unsigned, expired or wrongly issued token is answered 401 with the reason;
a valid one goes on with its subject in ``x-jwt-sub`` (a client's own ``x-jwt-sub`` is dropped).

Configuration (JSON):
``{"keys": {"kid1": "<a secret of 32 bytes or more>"}, "issuer": "https://issuer.example"}``
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt

import proxywasm
from proxywasm import Action, HttpContext, RootContext
from proxywasm.config import ConfigError, load

# RFC 7518 section 3.2: an HS256 key must be at least as long as the hash (32 bytes).
MIN_KEY_BYTES = 32


@dataclass
class Settings:
    """What the plugin configuration may say."""

    keys: dict[str, str]
    issuer: str | None = None
    audience: str | None = None
    leeway_seconds: int = 0
    subject_header: str = "x-jwt-sub"

    def __post_init__(self) -> None:
        """Refuse an empty key set and keys too short for HS256."""
        short = [kid for kid, key in self.keys.items() if len(key.encode()) < MIN_KEY_BYTES]
        if not self.keys or short:
            raise ConfigError(f"give keys of at least {MIN_KEY_BYTES} bytes "
                              f"(too short: {', '.join(short)})")


class TokenError(Exception):
    """The request carries no token this filter accepts; the message says why."""


class JwtAuthRoot(RootContext):
    """Loads and checks the keys; each request context verifies tokens with them."""

    settings: Settings

    def on_configure(self, plugin_configuration_size: int) -> bool:
        self.settings = load(Settings, self.get_plugin_configuration())  # ConfigError refuses it
        proxywasm.log_info(f"verifying HS256 tokens with keys {', '.join(self.settings.keys)}")
        return True

    def create_http_context(self, context_id: int) -> HttpContext:
        return JwtAuth(context_id, self.context_id, self.settings)


class JwtAuth(HttpContext):
    """Lets a request through only with a valid token, naming its subject upstream."""

    def __init__(self, context_id: int, root_context_id: int, settings: Settings) -> None:
        super().__init__(context_id, root_context_id)
        self.settings = settings

    def on_http_request_headers(self, num_headers: int, end_of_stream: bool) -> Action:
        self.remove_http_request_header(self.settings.subject_header)
        try:
            claims = self.verify(self.get_http_request_header("authorization") or "")
        except TokenError as error:
            challenge = f'Bearer error="invalid_token", error_description="{error}"'
            self.send_http_response(401, headers=[("www-authenticate", challenge)],
                                    body=f"{error}\n".encode())
            return Action.PAUSE
        self.set_http_request_header(self.settings.subject_header, str(claims["sub"]))
        return Action.CONTINUE

    def verify(self, authorization: str) -> dict[str, Any]:
        """The claims of the bearer token in ``authorization``, or TokenError saying why not."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise TokenError("missing bearer token")
        claims = self.decode(token.strip())
        now = self.get_current_time().timestamp()
        leeway = self.settings.leeway_seconds
        if not isinstance(claims["exp"], int | float) or claims["exp"] + leeway <= now:
            raise TokenError("token expired")
        if isinstance(claims.get("nbf"), int | float) and claims["nbf"] - leeway > now:
            raise TokenError("token not yet valid")
        return claims

    def decode(self, token: str) -> dict[str, Any]:
        """The token's claims once its signature, issuer and audience are checked (the time
        claims are checked by ``verify``, against the proxy's clock)."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.DecodeError:
            raise TokenError("malformed token") from None
        keys = self.settings.keys
        if kid is not None:
            key = keys.get(kid)
        else:
            key = next(iter(keys.values())) if len(keys) == 1 else None
        if key is None:
            raise TokenError("unknown key id")
        try:
            return jwt.decode(
                token, key, algorithms=["HS256"], issuer=self.settings.issuer,
                audience=self.settings.audience,
                options={"require": ["exp", "sub"], "verify_exp": False, "verify_nbf": False,
                         "verify_iat": False})
        except jwt.InvalidSignatureError:
            raise TokenError("bad signature") from None
        except jwt.InvalidIssuerError:
            raise TokenError("wrong issuer") from None
        except jwt.InvalidAudienceError:
            raise TokenError("wrong audience") from None
        except jwt.MissingRequiredClaimError as error:
            raise TokenError(f"missing claim {error.claim}") from None
        except jwt.InvalidTokenError:
            raise TokenError("malformed token") from None


proxywasm.set_root_context(JwtAuthRoot)
