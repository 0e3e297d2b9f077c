"""Python client of the vfactory job API.

    from vfactory import Client
    job = Client("http://127.0.0.1:8000", token).submit("line.yaml", attachments=["demand.csv"])
    job.wait(progress=True)
    print(job.results()["throughput"])
    job.download("results/")

Every error answer of the service raises ``ClientError`` carrying the service's message (and, for
a bad layout, its ``file:line:column`` issues).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

TERMINAL_STATES = frozenset({"COMPLETE", "EXECUTOR_ERROR", "SYSTEM_ERROR", "CANCELED"})


class ClientError(Exception):
    """An error answer from the service (or no answer at all: ``status`` 0)."""

    def __init__(self, status: int, message: str, issues: list[str] | None = None):
        self.status = status
        self.message = message
        self.issues = list(issues or [])
        text = message if not self.issues else message + "\n" + "\n".join(self.issues)
        super().__init__(f"HTTP {status}: {text}" if status else text)


class Client:
    """A connection to one service with one tenant token."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 60.0,
        retries_429: int = 5,
        transport: httpx.BaseTransport | None = None,
    ):
        url = url or os.environ.get("VFACTORY_URL") or "http://127.0.0.1:8000"
        token = token or os.environ.get("VFACTORY_TOKEN")
        if not token:
            raise ClientError(0, "no token: pass token=... or set VFACTORY_TOKEN")
        self.url = url.rstrip("/")
        self.retries_429 = retries_429
        self._http = httpx.Client(
            base_url=self.url,
            timeout=timeout,
            transport=transport,
            headers={"Authorization": f"Bearer {token}"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call; 429 answers are retried after their Retry-After; errors raise ClientError."""
        for attempt in range(self.retries_429 + 1):
            try:
                resp = self._http.request(method, path, **kwargs)
            except httpx.HTTPError as exc:
                raise ClientError(0, f"cannot reach {self.url}: {exc}") from None
            if resp.status_code == 429 and attempt < self.retries_429:
                time.sleep(min(float(resp.headers.get("Retry-After", "1") or 1), 60.0))
                continue
            break
        if resp.status_code >= 400:
            raise _error(resp)
        return resp

    def service_info(self) -> dict[str, Any]:
        return self.request("GET", "/v1/service-info").json()

    def submit(
        self,
        layout: str | os.PathLike[str],
        attachments: Iterable[str | os.PathLike[str]] = (),
        kind: str = "simulate",
        options: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Job:
        """Upload a layout (+ attachments) and queue a job of ``kind``."""
        paths = [Path(layout), *[Path(a) for a in attachments]]
        for p in paths:
            if not p.is_file():
                raise ClientError(0, f"{p}: no such file")
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        handles = [p.open("rb") for p in paths]
        try:
            files = [("layout", (paths[0].name, handles[0], "application/yaml"))]
            files += [
                ("attachments", (p.name, h, "application/octet-stream"))
                for p, h in zip(paths[1:], handles[1:], strict=True)
            ]
            data = {"kind": kind, "options": json.dumps(options or {})}
            resp = self.request("POST", "/v1/jobs", files=files, data=data, headers=headers)
        finally:
            for h in handles:
                h.close()
        return Job(self, resp.json()["id"])

    def job(self, job_id: str) -> Job:
        return Job(self, job_id)

    def jobs(self, state: str | None = None, page_size: int = 50) -> list[dict[str, Any]]:
        """All of this tenant's jobs, newest first (follows the pages)."""
        out: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"page_size": page_size}
            if state:
                params["state"] = state
            if token:
                params["page_token"] = token
            body = self.request("GET", "/v1/jobs", params=params).json()
            out += body["jobs"]
            token = body.get("next_page_token")
            if not token:
                return out


class Job:
    """A submitted job: ``status() wait() results() download() cancel()``."""

    def __init__(self, client: Client, job_id: str):
        self.client = client
        self.id = job_id

    def __repr__(self) -> str:
        return f"Job({self.id!r})"

    def info(self) -> dict[str, Any]:
        return self.client.request("GET", f"/v1/jobs/{self.id}").json()

    def status(self) -> dict[str, Any]:
        """{'id', 'state', 'stage', 'percent', 'updated_at'}"""
        return self.client.request("GET", f"/v1/jobs/{self.id}/status").json()

    def wait(
        self,
        progress: bool | Callable[[dict[str, Any]], None] = False,
        timeout: float | None = None,
        poll: float = 1.0,
    ) -> dict[str, Any]:
        """Poll until the job has ended; returns the last status. ``progress=True`` prints a line
        per change to stderr; a callable gets every status. TimeoutError after ``timeout`` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        shown = None
        while True:
            st = self.status()
            if callable(progress):
                progress(st)
            elif progress:
                line = f"{self.id[:8]} {st['state']:<14} {st['percent']:5.1f}%  {st['stage']}"
                if line != shown:
                    print(line, file=sys.stderr, flush=True)
                    shown = line
            if st["state"] in TERMINAL_STATES:
                return st
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"job {self.id} still {st['state']} after {timeout} s")
            time.sleep(poll)

    def results(self) -> dict[str, Any]:
        """The results JSON of a COMPLETE job (ClientError 409 otherwise, with the reason)."""
        return self.client.request("GET", f"/v1/jobs/{self.id}/results").json()

    def artifacts(self) -> list[dict[str, Any]]:
        return self.client.request("GET", f"/v1/jobs/{self.id}/artifacts").json()["artifacts"]

    def download(self, folder: str | os.PathLike[str]) -> list[Path]:
        """Save every artifact under ``folder`` (created); returns the paths written."""
        root = Path(folder)
        root.mkdir(parents=True, exist_ok=True)
        written = []
        for art in self.artifacts():
            rel = Path(art["name"])
            if rel.is_absolute() or ".." in rel.parts:  # never trust a name, even the server's
                raise ClientError(0, f"refusing artifact name {art['name']!r}")
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with self.client._http.stream(
                "GET", f"/v1/jobs/{self.id}/artifacts/{art['name']}"
            ) as resp:
                if resp.status_code >= 400:
                    resp.read()
                    raise _error(resp)
                with open(target, "wb") as out:
                    for chunk in resp.iter_bytes():
                        out.write(chunk)
            written.append(target)
        return written

    def cancel(self) -> dict[str, Any]:
        return self.client.request("POST", f"/v1/jobs/{self.id}/cancel").json()


def _error(resp: httpx.Response) -> ClientError:
    try:
        body = resp.json()
        return ClientError(resp.status_code, str(body.get("error", body)), body.get("issues"))
    except (ValueError, AttributeError):
        return ClientError(resp.status_code, resp.text[:500] or resp.reason_phrase)
