"""A headless Chromium driven over the DevTools protocol on a pipe, with the stdlib only.

``--remote-debugging-pipe`` makes Chromium read NUL-terminated JSON commands from fd 3
and write replies and events to fd 4, so no WebSocket client is needed. Headless
Chromium will not make a window narrower than 500 px, so the viewport (1280 or 390 px)
is set with ``Emulation.setDeviceMetricsOverride``. Used by the browser tests of the HTML
pages; ``chromium()`` is ``None`` where Debian's ``chromium`` is not installed.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import struct
import subprocess
import tempfile
import time
import zlib
from pathlib import Path
from types import TracebackType
from typing import Any

#: What the page reports about itself after it loaded (evaluated in the page; the pages
#: under test have no script of their own).
MEASURE = """(() => {
  const d = document.documentElement, b = document.body;
  const wide = [];
  for (const el of b.querySelectorAll('*')) {
    if (el.closest('.scroll')) continue;
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > innerWidth + 1) wide.push(el.tagName + '.' + el.className);
  }
  return JSON.stringify({
    innerWidth: innerWidth,
    scrollWidth: Math.max(d.scrollWidth, b.scrollWidth),
    textLength: b.innerText.trim().length,
    sections: [...document.querySelectorAll('section[id]')].map(s => s.id),
    emptySections: [...document.querySelectorAll('section[id]')]
      .filter(s => s.innerText.trim().length < 20 || s.getBoundingClientRect().height < 20)
      .map(s => s.id),
    scripts: document.scripts.length,
    tocShown: [...document.querySelectorAll('nav.toc')].some(n => n.offsetHeight > 0),
    scrolling: [...document.querySelectorAll('.scroll')]
      .filter(s => s.scrollWidth > s.clientWidth + 1)
      .map(s => (s.querySelector('table') || s).className.split(' ')[0] || 'table'),
    wide: wide.slice(0, 10),
    icons: [...document.querySelectorAll('header img.app-icon')].map(i => ({
      alt: i.alt, natural: i.naturalWidth, shown: Math.round(i.getBoundingClientRect().width),
    })),
  });
})()"""


def chromium() -> str | None:
    """The path of Debian's ``chromium`` (or ``chromium-browser``), if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """One headless Chromium process; use as a context manager."""

    def __init__(self, executable: str, *, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self._next_id = 0
        self._buffer = b""
        self.events: list[dict[str, Any]] = []
        self._profile = tempfile.TemporaryDirectory(prefix="permaudit-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # Above 4, so that putting them on 3 and 4 in the child cannot clobber one another.
        high_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
        high_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)

        def wire() -> None:  # in the child: the protocol's fds are 3 (in) and 4 (out)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self._process = subprocess.Popen(
            [
                executable, "--headless", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--no-default-browser-check", "--hide-scrollbars",
                "--disable-extensions", "--disable-background-networking",
                f"--user-data-dir={self._profile.name}", "--remote-debugging-pipe",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire,
            close_fds=True, pass_fds=(3, 4),
        )
        for fd in (to_child_r, from_child_w, high_r, high_w):
            os.close(fd)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Ask the browser to quit; kill it if it does not within a few seconds."""
        try:
            if self._process.poll() is None:
                self.send("Browser.close")
        except (OSError, TimeoutError, RuntimeError):
            pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        for fd in (self._to_child, self._from_child):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._profile.cleanup()

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("chromium did not answer in time")
            ready, _, _ = select.select([self._from_child], [], [], left)
            if ready:
                chunk = os.read(self._from_child, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the DevTools pipe")
                self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        message: dict[str, Any] = json.loads(raw)
        return message

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send one command and return its ``result``; events seen meanwhile are kept."""
        self._next_id += 1
        command: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session is not None:
            command["sessionId"] = session
        os.write(self._to_child, json.dumps(command).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._read_message(deadline)
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            self.events.append(message)

    def wait_for(self, method: str, session: str) -> dict[str, Any]:
        """Wait for the event ``method`` of ``session`` (or find it among those seen)."""
        deadline = time.monotonic() + self.timeout
        for event in self.events:
            if event.get("method") == method and event.get("sessionId") == session:
                return event
        while True:
            message = self._read_message(deadline)
            self.events.append(message)
            if message.get("method") == method and message.get("sessionId") == session:
                return message

    def render(self, url: str, width: int, height: int = 900, media: str = "") -> Rendered:
        """Load ``url`` in a fresh tab ``width`` px wide; measure it and take a screenshot.

        ``media`` ``print`` lays the page out as for paper.
        """
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        start = len(self.events)
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", session)
        self.send(
            "Emulation.setDeviceMetricsOverride", session,
            width=width, height=height, deviceScaleFactor=1, mobile=width < 600,
        )
        if media:
            self.send("Emulation.setEmulatedMedia", session, media=media)
        self.send("Page.navigate", session, url=url)
        self.wait_for("Page.loadEventFired", session)
        value = self.send(
            "Runtime.evaluate", session, expression=MEASURE, returnByValue=True
        )["result"]["value"]
        shot = self.send("Page.captureScreenshot", session, format="png")["data"]
        thumb = self.send(
            "Page.captureScreenshot", session, format="png",
            clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 0.25},
        )["data"]
        problems = [
            _problem(e) for e in self.events[start:]
            if e.get("sessionId") == session and _problem(e)
        ]
        self.send("Target.closeTarget", targetId=target)
        return Rendered(
            measures=json.loads(value), png=base64.b64decode(shot),
            thumbnail=base64.b64decode(thumb), console=problems,
        )


def _problem(event: dict[str, Any]) -> str:
    """The text of a console error, an uncaught exception or an error log entry; else ''."""
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
        return "console: " + " ".join(str(a.get("value", a)) for a in params.get("args", []))
    if method == "Runtime.exceptionThrown":
        return "exception: " + str(params.get("exceptionDetails", {}).get("text"))
    if method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
        return "log: " + str(params["entry"].get("text"))
    return ""


class Rendered:
    """What the browser showed: the page's measures, a PNG screenshot, console problems."""

    def __init__(
        self, *, measures: dict[str, Any], png: bytes, thumbnail: bytes, console: list[str]
    ) -> None:
        self.measures = measures
        self.png = png
        #: The viewport at a quarter of its size (cheap to decode for ``ink_fraction``).
        self.thumbnail = thumbnail
        self.console = console


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the unfiltered rows of an 8-bit RGB or RGBA PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", header[:10])
    if depth != 8 or color not in (2, 6):
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {color}")
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            corner = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, [bytes(r[i] for i in range(len(r)) if i % bpp < 3) for r in rows]


def ink_fraction(data: bytes) -> float:
    """The share of a PNG's pixels that are not (nearly) white: 0.0 for a blank page."""
    width, _, rows = png_pixels(data)
    inked = 0
    for row in rows[::4]:  # every fourth row and pixel is plenty for "is it blank"
        for x in range(0, width * 3, 12):
            if min(row[x], row[x + 1], row[x + 2]) < 235:
                inked += 1
    return inked / max(1, len(rows[::4]) * len(range(0, width * 3, 12)))


def write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
