"""Webhook signatures: HMAC-SHA256 over ``{timestamp}.{body}``, the scheme Stripe uses.

Every delivery carries ``Hubsense-Signature: t=<unix seconds>,v1=<hex digest>``.  The receiver
recomputes ``HMAC-SHA256(secret, f"{t}.".encode() + raw_body)``, compares it in constant time with
each ``v1`` value (several appear while a secret is being rotated) and refuses a ``t`` more than
five minutes from its own clock, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

HEADER = "Hubsense-Signature"
TOLERANCE_S = 300


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secrets_: list[str], timestamp: int, body: bytes) -> str:
    """The header value: one ``v1`` per secret (the current one first)."""
    return ",".join([f"t={timestamp}", *(f"v1={digest(s, timestamp, body)}" for s in secrets_)])


def verify(secret: str, header: str, body: bytes, now: float, tolerance_s: float = TOLERANCE_S) -> bool:
    """The receiver's check (what docs/integrations.md shows in 15 lines)."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit() or abs(now - int(stamps[0])) > tolerance_s:
        return False
    expected = digest(secret, int(stamps[0]), body)
    return any(hmac.compare_digest(expected, v) for k, v in parts if k == "v1")
