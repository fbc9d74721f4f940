"""Bearer-token access: the token from an environment variable or a file, never from the config.

    serving.auth.token_env: SERVING_TOKEN     the token is $SERVING_TOKEN
    serving.auth.token_file: /run/secrets/t   the token is the file's first line

A request without ``Authorization: Bearer <token>`` (REST) or that metadata (gRPC) is refused
with 401 / UNAUTHENTICATED. Tokens are compared in constant time. TLS belongs to a reverse proxy.
"""

from __future__ import annotations

import hmac
import os

from components import filesystem as fs
from pipelines.errors import ServingError

__all__ = ["check_bearer", "load_token"]


def load_token(token_env: str | None, token_file: str | None) -> str | None:
    """The bearer token the config points at, or None when access is open.

    Raises:
        ServingError: the variable is unset or empty, or the file is missing or empty.
    """
    if token_env:
        token = os.environ.get(token_env, "").strip()
        if not token:
            raise ServingError(
                f"serving.auth.token_env names ${token_env}, which is not set or empty",
                hint=f"export {token_env}=<token> before starting the server, or unset serving.auth.token_env",
            )
        return token
    if token_file:
        try:
            lines = fs.read_text(token_file).splitlines()
        except OSError as exc:
            raise ServingError(
                f"serving.auth.token_file {token_file} cannot be read ({exc.strerror or exc})",
                hint="write the token into that file, or unset serving.auth.token_file",
            ) from exc
        token = lines[0].strip() if lines else ""
        if not token:
            raise ServingError(f"serving.auth.token_file {token_file} is empty", hint="write the token into it")
        return token
    return None


def check_bearer(header: bytes | str | None, token: str) -> str | None:
    """None if ``header`` (the Authorization value) carries ``token``; else what is wrong."""
    if not header:
        return "missing bearer token: send 'Authorization: Bearer <token>'"
    text = header.decode("latin-1") if isinstance(header, bytes) else header
    scheme, _, given = text.strip().partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        return "wrong bearer token"
    return None
