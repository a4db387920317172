"""API keys, ownership and share links, on the real app and Redis (database 4; no worker)."""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from api.auth import key_id, sign_share
from api.main import create_app
from scripts.redis_server import RedisServer
from store.keys import Keys
from store.settings import Settings
from store.sync_store import JobStore
from tests.api.test_jobs import UNKNOWN, succeed
from tests.conftest import QUEUE

KEYS = {"alice": "alice-key-0123456789abcdef", "bob": "bob-key-0123456789abcdef00"}
UNNAMED = "an-unnamed-key-0123456789"
SECRET = "share-secret-0123456789abcdef0123456789"
A, B = ({"X-API-Key": KEYS[name]} for name in ("alice", "bob"))
READS = ("", "/metrics", "/events", "/parameters", "/dataset", "/plots/cost.svg")
ACTIONS = (("POST", "/cancel"), ("DELETE", ""), ("POST", "/share"))


def settings_for(redis_server: RedisServer, **extra: Any) -> Settings:
    url = f"redis://{redis_server.host}:{redis_server.port}/4"
    keys = [f"{name}:{key}" for name, key in KEYS.items()] + [UNNAMED]
    fields = {"api_keys": keys, "share_secret": SECRET, **extra}
    return Settings(redis_url=url, celery_queue=QUEUE + "-auth", **fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def auth(redis_server: RedisServer) -> Iterator[TestClient]:
    settings = settings_for(redis_server)
    redis.Redis.from_url(settings.redis_url).flushdb()
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def jobs(auth: TestClient) -> JobStore:
    return JobStore.from_url(auth.app.state.settings.redis_url)  # type: ignore[attr-defined]


_seed = iter(range(1, 10_000))


def make_job(client: TestClient, headers: dict[str, str], jobs: JobStore | None = None) -> str:
    """A new job of the key in ``headers``; succeeded (records, dataset) when ``jobs`` is given."""
    body = {"training": {"iterations": 1, "seed": next(_seed)}, "force": True}
    response = client.post("/v1/jobs", json=body, headers=headers)
    assert response.status_code == 202, response.text
    job_id: str = response.json()["id"]
    if jobs is not None:
        succeed(jobs, job_id)
        jobs.redis.hset(Keys(job_id).job, "iteration", 1)  # the last record, for the plots
    return job_id


def every_v1_operation(client: TestClient) -> list[tuple[str, str]]:
    """(method, path) of every /v1 operation in the served OpenAPI document."""
    paths = client.get("/openapi.json").json()["paths"]
    return [(m.upper(), p) for p, ops in paths.items() if p.startswith("/v1") for m in ops]


def test_every_v1_call_without_a_key_is_401_and_public_routes_stay_open(auth: TestClient) -> None:
    operations = every_v1_operation(auth)
    assert len(operations) >= 20
    for method, template in operations:
        path = re.sub(r"\{(job_id|sweep_id)\}", UNKNOWN, template).replace("{name}", "cost")
        response = auth.request(method, path, json={} if method == "POST" else None)
        assert response.status_code == 401, (method, path, response.text)
        assert "X-API-Key" in response.json()["detail"]
        assert response.headers["WWW-Authenticate"].startswith("APIKey")
    for path in ("/healthz", "/readyz", "/", "/embed/cost", "/static/js/api.js", "/metrics"):
        assert auth.get(path).status_code == 200, path


def test_a_wrong_key_is_401(auth: TestClient) -> None:
    for wrong in ("nope", KEYS["alice"][:-1], KEYS["alice"] + "x", KEYS["alice"].upper()):
        response = auth.get("/v1/jobs", headers={"X-API-Key": wrong})
        assert response.status_code == 401, wrong
        assert response.json()["detail"] == "the X-API-Key header holds no valid API key"


def test_a_key_reads_its_job_and_any_other_key_gets_the_404_of_an_unknown_id(
    auth: TestClient, jobs: JobStore
) -> None:
    job_id = make_job(auth, A, jobs)
    for suffix in READS:
        assert auth.get(f"/v1/jobs/{job_id}{suffix}", headers=A).status_code == 200, suffix
        mine, unknown = (auth.get(f"/v1/jobs/{i}{suffix}", headers=B) for i in (job_id, UNKNOWN))
        assert mine.status_code == unknown.status_code == 404, suffix
        assert mine.json()["detail"] == unknown.json()["detail"].replace(UNKNOWN, job_id)
    for method, suffix in ACTIONS:
        assert auth.request(method, f"/v1/jobs/{job_id}{suffix}", headers=B).status_code == 404
    assert auth.get(f"/v1/jobs/{job_id}", headers=A).json()["status"] == "succeeded"
    assert jobs.get(job_id).owner == "alice"  # type: ignore[union-attr]


def test_a_listing_holds_only_the_callers_jobs_by_status_and_page(
    auth: TestClient, jobs: JobStore
) -> None:
    mine = [make_job(auth, {"X-API-Key": UNNAMED}, jobs if i % 2 else None) for i in range(5)]
    others = [make_job(auth, A), make_job(auth, B)]
    listing = auth.get("/v1/jobs", params={"limit": 2}, headers={"X-API-Key": UNNAMED}).json()
    seen, page = [job["id"] for job in listing["data"]], listing
    while page["next"]:
        params = {"limit": 2, "cursor": page["next"]}
        page = auth.get("/v1/jobs", params=params, headers={"X-API-Key": UNNAMED}).json()
        seen += [job["id"] for job in page["data"]]
    assert seen == mine[::-1] and listing["count"] == 5
    for status, expected in (("succeeded", mine[1::2]), ("queued", mine[0::2])):
        params = {"status": status}
        body = auth.get("/v1/jobs", params=params, headers={"X-API-Key": UNNAMED}).json()
        assert [job["id"] for job in body["data"]] == expected[::-1]
        assert body["count"] == len(expected)
    theirs = {job["id"] for job in auth.get("/v1/jobs", headers=B).json()["data"]}
    assert others[1] in theirs and not theirs & {*mine, others[0]}
    assert jobs.get(mine[0]).owner == key_id(UNNAMED) != UNNAMED  # type: ignore[union-attr]


def test_a_sweep_and_its_jobs_belong_to_their_key(auth: TestClient) -> None:
    body = {"base": {"training": {"iterations": 1, "seed": 99}}, "vary": {"init.scale": [1, 2]}}
    sweep = auth.post("/v1/sweeps", json=body, headers=A).json()
    path = f"/v1/sweeps/{sweep['id']}"
    assert auth.get(path, headers=A).status_code == 200
    for method, suffix in (("GET", ""), ("POST", "/cancel"), ("DELETE", "")):
        assert auth.request(method, path + suffix, headers=B).status_code == 404
    assert sweep["id"] not in {s["id"] for s in auth.get("/v1/sweeps", headers=B).json()["data"]}
    assert sweep["id"] in {s["id"] for s in auth.get("/v1/sweeps", headers=A).json()["data"]}
    for variation in sweep["variations"]:
        assert auth.get(f"/v1/jobs/{variation['job_id']}", headers=B).status_code == 404


def test_an_identical_spec_reuses_only_the_callers_own_results(
    auth: TestClient, jobs: JobStore
) -> None:
    spec = {"training": {"iterations": 3, "seed": 4242}}
    first = auth.post("/v1/jobs", json=spec, headers=A).json()
    succeed(jobs, first["id"])
    theirs = auth.post("/v1/jobs", json=spec, headers=B).json()
    assert theirs["status"] == "queued" and theirs["reused_from"] is None  # it runs for B
    again = auth.post("/v1/jobs", json=spec, headers=A).json()
    assert again["status"] == "succeeded" and again["reused_from"] == first["id"]
    assert jobs.get(again["id"]).owner == "alice"  # type: ignore[union-attr]
    assert auth.get(f"/v1/jobs/{again['id']}", headers=B).status_code == 404


def test_a_key_is_compared_with_every_key_in_constant_time(
    auth: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = hmac.compare_digest

    def counted(a: bytes, b: bytes) -> bool:
        calls.append(len(a))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counted)
    for key in (KEYS["alice"], "wrong-key-0123456789", UNNAMED):  # the first key, none, the last
        calls.clear()
        auth.get("/v1/catalog", headers={"X-API-Key": key})
        assert calls == [32, 32, 32]  # every key, SHA-256 digests: one length, no early exit


def share(client: TestClient, job_id: str, **params: Any) -> dict[str, Any]:
    response = client.post(f"/v1/jobs/{job_id}/share", params=params, headers=A)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_share_token_reads_its_one_job_and_nothing_else(auth: TestClient, jobs: JobStore) -> None:
    job_id, other = make_job(auth, A, jobs), make_job(auth, A, jobs)
    link = share(auth, job_id, expires_in=600)
    token = link["token"]
    assert time.time() + 590 < _seconds(link["expires_at"]) <= time.time() + 601
    urls = link["urls"]
    assert {"plot_boundary", "plot_histograms", "embed_cost", "embed_network"} <= urls.keys()
    assert urls["embed_cost"] == f"/embed/cost?job={job_id}&share={token}"
    for name in ("job", "metrics", "events", "parameters", "dataset", "plot_cost"):
        assert auth.get(urls[name]).status_code == 200, name  # no key: the token is in the URL
    for suffix in READS:
        header = auth.get(f"/v1/jobs/{job_id}{suffix}", headers={"X-Share-Token": token})
        assert header.status_code == 200, suffix
        denied = auth.get(f"/v1/jobs/{other}{suffix}", params={"share": token})
        assert denied.status_code == 403 and job_id in denied.json()["detail"], suffix
    for method, suffix in ACTIONS:
        response = auth.request(method, f"/v1/jobs/{job_id}{suffix}", params={"share": token})
        assert response.status_code == 403, suffix
        assert "needs an API key" in response.json()["detail"]
    for path in ("/v1/jobs", "/v1/sweeps", "/v1/catalog", "/v1/datasets/moon"):
        assert auth.get(path, params={"share": token}).status_code == 403, path
    assert auth.get(f"/v1/jobs/{job_id}", headers=A).status_code == 200  # still there


def _seconds(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def test_an_expired_forged_or_altered_token_is_401_saying_why(
    auth: TestClient, jobs: JobStore
) -> None:
    job_id, other = make_job(auth, A, jobs), make_job(auth, A, jobs)
    token = share(auth, job_id)["token"]
    _, expiry, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    cases = {
        sign_share(job_id, int(time.time()) - 1, SECRET): "expired",
        sign_share(job_id, int(time.time()) + 60, "another-secret-0123456789abcdef0123"): "sign",
        f"{job_id}.{expiry}.{flipped}": "signature",
        f"{other}.{expiry}.{signature}": "signature",  # the signature of another job
        f"{job_id}.{int(expiry) + 1}.{signature}": "signature",  # a later expiry
        "not-a-token": "malformed",
        f"{job_id}.soon.{signature}": "malformed",
    }
    for bad, reason in cases.items():
        response = auth.get(f"/v1/jobs/{job_id}", params={"share": bad})
        assert response.status_code == 401, bad
        assert reason in response.json()["detail"], response.text


def test_a_token_has_one_spelling_and_a_bad_one_is_401_never_500(
    auth: TestClient, jobs: JobStore
) -> None:
    job_id = make_job(auth, A, jobs)
    token = share(auth, job_id)["token"]
    _, expiry, signature = token.split(".")
    assert auth.get(f"/v1/jobs/{job_id}", params={"share": token}).status_code == 200
    arabic = expiry.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    spellings = [
        f"{job_id}.{expiry[:-1]}².{signature}",  # str.isdigit takes it, int() does not
        f"{job_id}.0{expiry}.{signature}",  # the same number, another spelling
        f"{job_id}.{arabic}.{signature}",  # int() reads other scripts' digits
        f"{job_id}.{expiry}.{signature}=",
        f"{job_id}.{expiry}.{signature}" + "A" * 5000,
        f"{job_id.upper()}.{expiry}.{signature}",
    ]
    for bad in spellings:
        response = auth.get(f"/v1/jobs/{job_id}", params={"share": bad})
        assert response.status_code == 401, (bad, response.text)
        assert "malformed" in response.json()["detail"]


def test_only_the_owner_shares_and_for_a_bounded_time(auth: TestClient, jobs: JobStore) -> None:
    job_id = make_job(auth, A, jobs)
    assert auth.post(f"/v1/jobs/{job_id}/share", headers=B).status_code == 404
    for bad in (0, 366 * 24 * 3600):
        params = {"expires_in": bad}
        assert auth.post(f"/v1/jobs/{job_id}/share", params=params, headers=A).status_code == 422
    default = share(auth, job_id)
    assert abs(_seconds(default["expires_at"]) - time.time() - 7 * 24 * 3600) < 5


def test_private_plots_are_not_kept_by_shared_caches(auth: TestClient, jobs: JobStore) -> None:
    job_id = make_job(auth, A, jobs)
    response = auth.get(f"/v1/jobs/{job_id}/plots/cost.svg", headers=A)
    assert response.headers["Cache-Control"].startswith("private")


def test_without_a_secret_no_link_is_made_or_accepted(redis_server: RedisServer) -> None:
    settings = settings_for(redis_server, share_secret=None, metrics_public=False)
    with TestClient(create_app(settings)) as client:
        job_id = make_job(client, A)
        refused = client.post(f"/v1/jobs/{job_id}/share", headers=A)
        assert refused.status_code == 403 and "SHARE_SECRET" in refused.json()["detail"]
        token = sign_share(job_id, int(time.time()) + 60, SECRET)
        assert client.get(f"/v1/jobs/{job_id}", params={"share": token}).status_code == 401
        assert client.get("/metrics").status_code == 401  # METRICS_PUBLIC=false
        assert client.get("/metrics", headers=A).status_code == 200


def test_bad_key_settings_fail_at_start() -> None:
    for keys, reason in (("short", "16+ characters"), (f"a b:{'k' * 20}", "key name")):
        with pytest.raises(ValueError, match=re.escape(reason)):
            Settings(api_keys=keys)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="same key twice"):
        Settings(api_keys=f"a:{'k' * 20},b:{'k' * 20}")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="32"):
        Settings(share_secret="short")  # type: ignore[arg-type]
