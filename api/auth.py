"""API keys and share links: who is calling, and what the caller may read.

Auth is off while ``API_KEYS`` is empty: every caller is anonymous and sees every job (local
use). With keys, every ``/v1`` call needs ``X-API-Key``. A job or sweep belongs to the key that
made it (its ``owner``: the key's configured name, else a hash prefix of the key; never the key)
and any other key gets the same 404 as for an unknown id. A share link (``?share=TOKEN`` or
``X-Share-Token``) is an HMAC-SHA256 of one job id and an expiry, signed with
``SHARE_SECRET``: it grants GET on that job's results and nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import HTTPException, Request, Security
from fastapi.security import APIKeyHeader, APIKeyQuery
from pydantic import SecretStr

from api.models import Message
from store.settings import Settings, key_entry

KEY_HEADER = "X-API-Key"
SHARE_HEADER = "X-Share-Token"
CHALLENGE = {"WWW-Authenticate": f'APIKey header="{KEY_HEADER}"'}
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Message, "description": "no API key, a wrong one, or a bad share token"},
    403: {"model": Message, "description": "a share token used beyond its one job's results"},
}

api_key = APIKeyHeader(
    name=KEY_HEADER, scheme_name="APIKey", auto_error=False,
    description="one of the server's API_KEYS (only when auth is on)",
)  # fmt: skip
share_query = APIKeyQuery(
    name="share", scheme_name="ShareLink", auto_error=False,
    description="a share token from POST /v1/jobs/{job_id}/share: read one job's results",
)  # fmt: skip
share_header = APIKeyHeader(
    name=SHARE_HEADER, scheme_name="ShareToken", auto_error=False,
    description="the share token, as a header",
)  # fmt: skip


def key_id(key: str) -> str:
    """A stable, non-secret id of an unnamed key (what its jobs' ``owner`` says)."""
    return "key-" + hashlib.sha256(b"initlab key id\0" + key.encode()).hexdigest()[:16]


class KeyRing:
    """The configured keys, kept as SHA-256 digests, so comparisons have one length."""

    def __init__(self, entries: list[SecretStr]) -> None:
        self.keys: list[tuple[bytes, str]] = []
        for entry in entries:
            name, key = key_entry(entry.get_secret_value())
            self.keys.append((hashlib.sha256(key.encode()).digest(), name or key_id(key)))

    @property
    def enabled(self) -> bool:
        return bool(self.keys)

    def owner(self, presented: str) -> str | None:
        """The owner of ``presented``, or None; compared with every key, with no early exit."""
        digest = hashlib.sha256(presented.encode()).digest()
        found = None
        for key, owner in self.keys:
            if hmac.compare_digest(digest, key):
                found = owner
        return found


@dataclass(frozen=True)
class Principal:
    """The caller: an owner (a key), a share link's one job, or anyone (auth off)."""

    owner: str = ""  # "" when auth is off or for a share link
    subject: str = ""  # whom the limits count: the owner, or "ip:{address}" with auth off
    shared_job: str | None = None

    @property
    def anonymous(self) -> bool:
        return not self.owner and self.shared_job is None

    def owns(self, owner: str | None) -> bool:
        """Whether this caller may act on a job or sweep of ``owner``."""
        return self.anonymous or (bool(self.owner) and owner == self.owner)


def _ring(request: Request) -> KeyRing:
    return request.app.state.keyring  # type: ignore[no-any-return]


def _anonymous(request: Request) -> Principal:
    return Principal(subject=f"ip:{request.client.host if request.client else 'unknown'}")


def _by_key(ring: KeyRing, key: str) -> Principal:
    owner = ring.owner(key)
    if owner is None:
        raise HTTPException(401, f"the {KEY_HEADER} header holds no valid API key", CHALLENGE)
    return Principal(owner=owner, subject=owner)


async def require_key(
    request: Request, key: Annotated[str | None, Security(api_key)] = None
) -> Principal:
    """The caller, by API key (with auth on: 401 without a valid one, 403 with a share link)."""
    ring = _ring(request)
    if not ring.enabled:
        return _anonymous(request)
    if key is not None:
        return _by_key(ring, key)
    if "share" in request.query_params or SHARE_HEADER in request.headers:
        reason = (
            f"a share token grants GET on one job's results only; {request.method} "
            f"{request.url.path} needs an API key in the {KEY_HEADER} header"
        )
        raise HTTPException(403, reason)
    raise HTTPException(401, f"an API key is required in the {KEY_HEADER} header", CHALLENGE)


async def require_reader(
    request: Request,
    key: Annotated[str | None, Security(api_key)] = None,
    share: Annotated[str | None, Security(share_query)] = None,
    share_token: Annotated[str | None, Security(share_header)] = None,
) -> Principal:
    """The caller of a read of one job: an API key, else a share token for that job."""
    ring, token = _ring(request), share or share_token
    if not ring.enabled or key is not None or token is None:
        return await require_key(request, key)
    settings: Settings = request.app.state.settings
    if settings.share_secret is None:
        raise HTTPException(401, "share links are off on this server (no SHARE_SECRET set)")
    job_id = verify_share(token, settings.share_secret.get_secret_value(), time.time())
    return Principal(subject=f"share:{job_id}", shared_job=job_id)


# the one spelling of a token: ASCII only, the expiry with no leading zero (str.isdigit takes
# "²" and int() reads "٣" or "007"), the signature the 43 base64url characters of 32 bytes
SHARE_TOKEN = re.compile(
    r"(?P<job>[0-9a-f]{32})\.(?P<expiry>[1-9][0-9]{0,11})\.(?P<sig>[A-Za-z0-9_-]{43})"
)
MAX_SHARE_TOKEN_CHARS = 100


def _signature(job_id: str, expires_at: int, secret: str) -> str:
    message = f"initlab share v1\0{job_id}\0{expires_at}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign_share(job_id: str, expires_at: int, secret: str) -> str:
    """A token ``{job id}.{expiry, unix seconds}.{HMAC-SHA256, base64url}`` (URL-safe)."""
    return f"{job_id}.{expires_at}.{_signature(job_id, expires_at, secret)}"


def verify_share(token: str, secret: str, now: float) -> str:
    """The job id a genuine, unexpired token grants; else a 401 that says why."""
    parsed = SHARE_TOKEN.fullmatch(token) if len(token) <= MAX_SHARE_TOKEN_CHARS else None
    if parsed is None:
        raise HTTPException(401, "share token malformed: expected JOB_ID.EXPIRES.SIGNATURE")
    job_id, expiry, signature = parsed["job"], parsed["expiry"], parsed["sig"]
    expected = _signature(job_id, int(expiry), secret)
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        reason = "share token invalid: its signature does not match (altered or not ours)"
        raise HTTPException(401, reason)
    if int(expiry) <= now:
        when = datetime.fromtimestamp(int(expiry), UTC).isoformat().replace("+00:00", "Z")
        raise HTTPException(
            401, f"share token expired at {when}; ask the job's owner for a new one"
        )
    return job_id


def check_shared(principal: Principal, job_id: str) -> None:
    """403 when a share token is used on a job other than its own."""
    if principal.shared_job is not None and principal.shared_job != job_id:
        raise HTTPException(403, f"this share token grants GET on job {principal.shared_job} only")


async def metrics_access(
    request: Request, key: Annotated[str | None, Security(api_key)] = None
) -> None:
    """``GET /metrics`` is public unless METRICS_PUBLIC is false; then it needs an API key."""
    settings: Settings = request.app.state.settings
    if not settings.metrics_public:
        await require_key(request, key)
