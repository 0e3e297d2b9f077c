"""Malformed and hostile uploads are answered with a precise 4xx (never a 500 or a traceback), and
the service stays healthy afterwards."""

from __future__ import annotations

import io
import stat
import time
import zipfile

import httpx
import pytest

from .helpers import TINY_LAYOUT, submit, wait_state

LAYOUT_FILE = ("layout", ("line.yaml", TINY_LAYOUT.encode(), "application/yaml"))


def _zip(entries: dict[str, bytes], symlink: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]\n"
    for i in range(8)
)


def attach(*pairs: tuple[str, bytes]) -> list:
    return [LAYOUT_FILE] + [("attachments", (n, d, "application/octet-stream")) for n, d in pairs]


def layout_only(name: str, data: bytes) -> list:
    return [("layout", (name, data, "application/yaml"))]


# (id, files, form data, extra headers, expected status, fragment of the error message)
CASES = [
    ("missing-layout", attach(("times.csv", b"x\n1\n"))[1:], {}, {}, 422, "missing the 'layout'"),
    ("empty-layout", layout_only("line.yaml", b""), {}, {}, 422, "is empty"),
    ("not-yaml", layout_only("line.yaml", b"factory: [unclosed\n  - {"), {}, {}, 422, "line.yaml:"),
    (
        "yaml-alias-bomb",
        layout_only("line.yaml", BILLION_LAUGHS.encode()),
        {},
        {},
        422,
        "expands to more than",
    ),
    (
        "yaml-deep-nesting",
        layout_only("line.yaml", b"a: " + b"[" * 500 + b"]" * 500),
        {},
        {},
        422,
        "nests deeper",
    ),
    (
        "huge-layout",
        layout_only("line.yaml", b"# " + b"x" * 250_000 + b"\n"),
        {},
        {},
        413,
        "larger than the limit",
    ),
    ("binary-garbage", layout_only("line.yaml", bytes(range(256)) * 8), {}, {}, 422, "not UTF-8"),
    ("nul-bytes", layout_only("line.yaml", b"factory:\x00\x00\n"), {}, {}, 422, "NUL"),
    ("unknown-kind", [LAYOUT_FILE], {"kind": "frobnicate"}, {}, 422, "unknown kind 'frobnicate'"),
    (
        "unavailable-kind",
        [LAYOUT_FILE],
        {"kind": "broken"},
        {},
        422,
        "kind 'broken' is not available on this server; available:",
    ),
    (
        "bad-options-json",
        [LAYOUT_FILE],
        {"options": "{replications: 3"},
        {},
        422,
        "options: not valid JSON",
    ),
    ("options-not-object", [LAYOUT_FILE], {"options": "[1, 2]"}, {}, 422, "expected a JSON object"),
    (
        "bad-option-value",
        [LAYOUT_FILE],
        {"options": '{"replications": "many"}'},
        {},
        422,
        "options.replications: expected an integer >= 1",
    ),
    (
        "unknown-option",
        [LAYOUT_FILE],
        {"options": '{"replicatoins": 5}'},
        {},
        422,
        "options.replicatoins: unknown option",
    ),
    (
        "reserved-option",
        [LAYOUT_FILE],
        {"options": '{"cluster": "ray://evil:10001"}'},
        {},
        422,
        "set by the service operator",
    ),
    (
        "oversized-attachment",
        attach(("big.csv", b"1\n" * 600_000)),
        {},
        {},
        413,
        "larger than the limit of 1000000 bytes per file",
    ),
    (
        "oversized-body",
        attach(*[(f"f{i}.csv", b"1\n" * 450_000) for i in range(4)]),
        {},
        {},
        413,
        "over the limit",
    ),
    (
        "path-traversal-name",
        attach(("../../etc/cron.d/evil", b"x")),
        {},
        {},
        422,
        "contains a path",
    ),
    ("absolute-name", attach(("/etc/passwd", b"x")), {}, {}, 422, "absolute path"),
    ("hidden-name", attach((".bashrc", b"x")), {}, {}, 422, "hidden"),
    ("dot-dot-name", attach(("..", b"x")), {}, {}, 422, "hidden or a path component"),
    (
        "duplicate-names",
        attach(("a.csv", b"1"), ("a.csv", b"2")),
        {},
        {},
        422,
        "two uploads have this name",
    ),
    (
        "zip-bomb",
        attach(("bomb.zip", _zip({"zeros.csv": b"0" * 900_000}))),
        {},
        {},
        422,
        "zip bomb",
    ),
    (
        "zip-traversal",
        attach(("evil.zip", _zip({"../../outside.csv": b"1"}))),
        {},
        {},
        422,
        "climbs out",
    ),
    (
        "zip-absolute",
        attach(("evil.zip", _zip({"/tmp/abs.csv": b"1"}))),
        {},
        {},
        422,
        "absolute path",
    ),
    ("zip-symlink", attach(("link.zip", _zip({}, symlink="passwd"))), {}, {}, 422, "symbolic link"),
    (
        "zip-too-many-entries",
        attach(("many.zip", _zip({f"f{i}.csv": b"1" for i in range(60)}))),
        {},
        {},
        422,
        "more than the limit of 50",
    ),
    (
        "not-a-zip",
        attach(("data.zip", b"PK\x03\x04 this is not really a zip")),
        {},
        {},
        422,
        "not a readable zip",
    ),
    (
        "too-many-files",
        attach(*[(f"f{i}.csv", b"1") for i in range(8)]),
        {},
        {},
        422,
        "at most 8 per job",
    ),
    (
        "bad-idempotency-key",
        [LAYOUT_FILE],
        {},
        {"Idempotency-Key": "x" * 300},
        422,
        "Idempotency-Key",
    ),
]


@pytest.fixture(scope="module")
def hostile(sqlite_service):
    token = sqlite_service.token("hostile")
    with sqlite_service.client(token) as http:
        yield http


@pytest.mark.parametrize(
    "files,data,headers,status,fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_malformed_upload(hostile, files, data, headers, status, fragment):
    r = hostile.post("/v1/jobs", files=files, data=data, headers=headers)
    assert r.status_code == status, r.text
    body = r.json()
    text = body["error"] + "\n" + "\n".join(body["issues"])
    assert fragment in text
    assert "Traceback" not in r.text


def test_invalid_layout_reports_file_line_and_field(hostile):
    bad = TINY_LAYOUT.replace("process_time: 2", "process_time: -2")
    r = submit(hostile, bad, name="my line.yaml")
    assert r.status_code == 422
    issues = r.json()["issues"]
    # the sanitised upload name is the file; process_time is on line 14, column 19
    assert any(
        i.startswith("my_line.yaml:14:") and "stations.saw.process_time" in i for i in issues
    ), issues


def test_windows_path_name_keeps_only_the_base_name(hostile):
    # The multipart parser drops a Windows client path (old browsers send one); what is stored is
    # the bare base name, never the path.
    r = hostile.post("/v1/jobs", files=attach(("C:\\Windows\\win.ini", b"x")))
    assert r.status_code == 201, r.text
    assert r.json()["attachments"] == ["win.ini"]


def test_wrong_content_type_and_auth(sqlite_service, hostile):
    r = hostile.post("/v1/jobs", json={"layout": TINY_LAYOUT})
    assert r.status_code == 415 and "multipart/form-data" in r.json()["error"]
    url = sqlite_service.url + "/v1/jobs"
    for headers in (
        {},
        {"Authorization": "Bearer vf_not_a_real_token"},
        {"Authorization": "Basic dXNlcjpwdw=="},
    ):
        r = httpx.post(url, files=[LAYOUT_FILE], headers=headers)
        assert r.status_code == 401, headers
        assert r.headers["www-authenticate"] == "Bearer"
    assert httpx.get(url).status_code == 401


def test_service_healthy_after_abuse(sqlite_service, hostile):
    for _name, files, data, headers, *_ in CASES:
        hostile.post("/v1/jobs", files=files, data=data, headers=headers)
    assert httpx.get(sqlite_service.url + "/healthz").json() == {"status": "ok"}
    staging = sqlite_service.data_dir / "staging"
    assert list(staging.iterdir()) == []  # rejected uploads leave nothing behind
    r = submit(hostile)
    assert r.status_code == 201
    assert wait_state(hostile, r.json()["id"])["state"] == "COMPLETE"


def test_rate_limit_answers_429_with_retry_after(sqlite_service):
    token = sqlite_service.token("chatty", rate_per_s=0.1, rate_burst=3)
    with sqlite_service.client(token) as http:
        codes = [http.get("/v1/jobs").status_code for _ in range(4)]
        assert codes[:3] == [200, 200, 200] and codes[3] == 429
        r = http.get("/v1/jobs")
        assert r.status_code == 429
        retry = int(r.headers["retry-after"])
        assert 1 <= retry <= 10  # one request's worth refills in 10 s at 0.1/s
        assert "rate limit" in r.json()["error"]
    other = sqlite_service.token("quiet")  # the limit is per token: others are unaffected
    with sqlite_service.client(other) as http:
        assert http.get("/v1/jobs").status_code == 200


def test_client_waits_out_429_with_retry_after(sqlite_service):
    from vfactory.client import Client, ClientError

    token = sqlite_service.token("patient", rate_per_s=1.0, rate_burst=1)
    with Client(sqlite_service.url, token) as client:
        t0 = time.monotonic()
        assert client.jobs() == [] and client.jobs() == []  # the second is answered 429 first
        assert time.monotonic() - t0 >= 0.9  # it waited for the Retry-After (1 s)
    fresh = sqlite_service.token("impatient", rate_per_s=1.0, rate_burst=1)
    with Client(sqlite_service.url, fresh, retries_429=0) as impatient:
        impatient.jobs()
        with pytest.raises(ClientError) as err:
            impatient.jobs()
        assert err.value.status == 429


def test_chunked_body_over_the_limit_is_cut_off(hostile):
    """No Content-Length (chunked transfer): the limit is enforced on the bytes as they stream."""
    boundary = "vfbound"

    def body():
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="layout";'
            f' filename="line.yaml"\r\nContent-Type: application/yaml\r\n\r\n'
        ).encode()
        for _ in range(40):  # 4 MB in 100 kB chunks, over the 3 MB limit
            yield b"#" * 100_000
        yield f"\r\n--{boundary}--\r\n".encode()

    r = hostile.post(
        "/v1/jobs",
        content=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 413 and "over the limit" in r.json()["error"]
