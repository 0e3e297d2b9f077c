"""Open a page in headless Chromium and report what a reader would see, via the DevTools Protocol.

``inspect_page(url, screenshot)`` starts ``chromium --headless`` with its own profile and
``--remote-debugging-port=0`` (the chosen port is read from DevToolsActivePort, listening on
127.0.0.1 only), loads the page with network access off, and returns the console messages, the
uncaught exceptions, the browser log (failed loads, blocked requests), the size of every <img> and
<svg>, and a full-page screenshot.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = os.environ.get("VFACTORY_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
    "--window-size=1200,900",
]

# Figures in the rendered DOM: visible size and, for images, whether the data decoded.
_FIGURES_JS = """JSON.stringify({
  title: document.title,
  h1: (document.querySelector('h1') || {}).textContent || null,
  sections: [...document.querySelectorAll('section')].map(s => s.id),
  imgs: [...document.images].map(i => ({alt: i.alt, w: i.getBoundingClientRect().width,
          h: i.getBoundingClientRect().height, nw: i.naturalWidth, nh: i.naturalHeight,
          complete: i.complete})),
  svgs: [...document.querySelectorAll('svg')].map(s => ({label: s.getAttribute('aria-label'),
          w: s.getBoundingClientRect().width, h: s.getBoundingClientRect().height,
          rects: s.querySelectorAll('rect').length})),
  scripts: document.scripts.length,
  bodyText: document.body.innerText.length
})"""


class DevTools:
    """A minimal synchronous CDP session on one page target."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, timeout: float = 60.0, **params) -> dict:
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            msg = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_for(self, event: str, timeout: float = 60.0) -> dict:
        for e in self.events:
            if e["method"] == event:
                return e
        deadline = time.monotonic() + timeout
        while True:
            msg = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if "method" in msg:
                self.events.append(msg)
                if msg["method"] == event:
                    return msg

    def drain(self, seconds: float) -> None:
        """Collect events for a while (late console messages, lazy image decoding errors)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = json.loads(self.ws.recv(timeout=left))
            except TimeoutError:
                return
            if "method" in msg:
                self.events.append(msg)


def _port(profile: Path, proc: subprocess.Popen, timeout: float = 30.0) -> int:
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker.exists() and marker.read_text().strip():
            return int(marker.read_text().split()[0])
        if proc.poll() is not None:
            raise RuntimeError(f"chromium exited with {proc.returncode}: {proc.stderr.read()[-2000:]}")
        time.sleep(0.1)
    raise TimeoutError("chromium did not open its DevTools port")


def inspect_page(url: str, screenshot: Path | None = None) -> dict:
    """Load ``url`` and return {figures, console, exceptions, log, screenshot} (see module doc)."""
    if not os.access(CHROMIUM, os.X_OK):
        raise FileNotFoundError(
            f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium) "
            "or set VFACTORY_CHROMIUM to a Chromium/Chrome binary"
        )
    profile = Path(tempfile.mkdtemp(prefix="vf-chromium-"))
    proc = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        port = _port(profile, proc)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=20) as resp:
            targets = json.load(resp)
        page = next(t for t in targets if t.get("type") == "page")
        from websockets.sync.client import connect

        with connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=20) as ws:
            dt = DevTools(ws)
            for domain in ("Page", "Runtime", "Log", "Network"):
                dt.call(f"{domain}.enable")
            # the report must work offline: any request leaving the file is a failure
            dt.call("Network.emulateNetworkConditions", offline=True, latency=0,
                    downloadThroughput=-1, uploadThroughput=-1)
            dt.call("Page.navigate", url=url)
            dt.wait_for("Page.loadEventFired")
            dt.drain(1.0)
            value = dt.call("Runtime.evaluate", expression=_FIGURES_JS, returnByValue=True)
            figures = json.loads(value["result"]["value"])
            shot = None
            if screenshot is not None:
                metrics = dt.call("Page.getLayoutMetrics")
                size = metrics.get("cssContentSize") or metrics["contentSize"]
                data = dt.call(
                    "Page.captureScreenshot", format="png", captureBeyondViewport=True,
                    clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                          "scale": 1},
                )["data"]
                screenshot.write_bytes(base64.b64decode(data))
                shot = screenshot
            dt.drain(0.5)
            events = dt.events
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
    console = [
        {"type": e["params"]["type"],
         "text": " ".join(str(a.get("value", a.get("description", ""))) for a in e["params"]["args"])}
        for e in events if e["method"] == "Runtime.consoleAPICalled"
    ]
    exceptions = [e["params"]["exceptionDetails"] for e in events
                  if e["method"] == "Runtime.exceptionThrown"]
    log = [e["params"]["entry"] for e in events if e["method"] == "Log.entryAdded"]
    requests = [e["params"]["request"]["url"] for e in events
                if e["method"] == "Network.requestWillBeSent"]
    failed = [e["params"] for e in events if e["method"] == "Network.loadingFailed"]
    return {"figures": figures, "console": console, "exceptions": exceptions, "log": log,
            "requests": requests, "failed_requests": failed, "screenshot": shot}
