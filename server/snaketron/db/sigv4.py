"""AWS Signature Version 4 for the lean data plane's one request shape.

botocore's `SigV4Auth.add_auth` was more than half of the lean path's CPU per
request (~130 µs): it builds an `AWSRequest`, parses the URL twice, walks an
email-style header map, formats a datetime and derives the signing key with four
HMACs, every request. Every lean request has the same shape (POST to "/" of one
host, no query, the same five headers), so here the canonical header block is
fixed but for the date, the target and the token, the timestamp string is made
once a second, and the signing key once a day per secret. The algorithm is the
one AWS documents (and botocore implements); `tests/db/test_db_sigv4.py` holds
it to botocore's `SigV4Auth` byte for byte, headers and signature.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Protocol
from urllib.parse import urlsplit

CONTENT_TYPE = "application/x-amz-json-1.0"
_ALGORITHM = "AWS4-HMAC-SHA256"
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Credentials(Protocol):
    """botocore's frozen credentials (`ReadOnlyCredentials`) have these."""

    @property
    def access_key(self) -> str: ...

    @property
    def secret_key(self) -> str: ...

    @property
    def token(self) -> str | None: ...


def canonical_host(url: str) -> str:
    """The host as SigV4 signs it (and as the HTTP client sends it): the port only
    when it is not the scheme's default."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


class SigV4Signer:
    """Signs POSTs of JSON bodies to one endpoint for one region and service."""

    def __init__(self, url: str, region: str, service: str = "dynamodb") -> None:
        self.host = canonical_host(url)
        self.region = region
        self.service = service
        self._second = -1
        self._amz_date = ""
        self._day = ""
        self._key_for: tuple[str, str] = ("", "")
        self._key = b""

    def _timestamp(self, now: float) -> tuple[str, str]:
        second = int(now)
        if second != self._second:
            self._second = second
            self._amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(second))
            self._day = self._amz_date[:8]
        return self._amz_date, self._day

    def _signing_key(self, secret: str, day: str) -> bytes:
        if self._key_for != (secret, day):
            key = hmac.digest(("AWS4" + secret).encode(), day.encode(), "sha256")
            for part in (self.region, self.service, "aws4_request"):
                key = hmac.digest(key, part.encode(), "sha256")
            self._key, self._key_for = key, (secret, day)
        return self._key

    def headers(self, body: bytes, target: str, credentials: Credentials, now: float | None = None) -> dict[str, str]:
        """The request headers, Authorization included, for `body` sent to `target`."""
        amz_date, day = self._timestamp(time.time() if now is None else now)
        token = credentials.token
        # Canonical headers: lower-case names in sorted order, values trimmed (ours
        # have no inner runs of spaces but the token might).
        canonical = f"accept-encoding:identity\ncontent-type:{CONTENT_TYPE}\nhost:{self.host}\nx-amz-date:{amz_date}\n"
        if token:
            canonical += f"x-amz-security-token:{' '.join(token.split())}\n"
            signed = "accept-encoding;content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
        else:
            signed = "accept-encoding;content-type;host;x-amz-date;x-amz-target"
        canonical += f"x-amz-target:{' '.join(target.split())}\n"
        request = f"POST\n/\n\n{canonical}\n{signed}\n{hashlib.sha256(body).hexdigest()}"
        scope = f"{day}/{self.region}/{self.service}/aws4_request"
        to_sign = f"{_ALGORITHM}\n{amz_date}\n{scope}\n{hashlib.sha256(request.encode()).hexdigest()}"
        signature = hmac.new(self._signing_key(credentials.secret_key, day), to_sign.encode(), "sha256").hexdigest()
        headers = {
            "Content-Type": CONTENT_TYPE,
            "X-Amz-Target": target,
            "Accept-Encoding": "identity",
            "X-Amz-Date": amz_date,
            "Authorization": (
                f"{_ALGORITHM} Credential={credentials.access_key}/{scope}, "
                f"SignedHeaders={signed}, Signature={signature}"
            ),
        }
        if token:
            headers["X-Amz-Security-Token"] = token
        return headers


__all__ = ["CONTENT_TYPE", "Credentials", "SigV4Signer", "canonical_host"]
