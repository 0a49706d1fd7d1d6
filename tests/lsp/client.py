"""A small Language Server Protocol client for the tests: ``python -m regdsl lsp`` as a subprocess, over stdio.

It frames JSON-RPC messages as the protocol does (``Content-Length`` headers), answers the
server's own requests with nothing, and keeps every notification, so a test can wait for the
findings of a document's version.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from tests.conftest import ROOT

Message = dict[str, Any]


class Client:
    """One server process and what it sent."""

    def __init__(self, cwd: Path, *, encodings: list[str] | None = None) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "regdsl", "lsp", "--stdio"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
        )
        self.next_id = 0
        self.responses: dict[int, queue.Queue[Message]] = {}
        self.notifications: list[Message] = []
        self.arrived = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.errors: list[str] = []
        threading.Thread(target=self._drain, args=(self.process.stderr,), daemon=True).start()
        general: dict[str, object] = {"positionEncodings": encodings} if encodings else {}
        self.initialized = self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": cwd.as_uri(),
                "capabilities": {
                    "general": general,
                    "textDocument": {
                        "hover": {"contentFormat": ["markdown", "plaintext"]},
                        "publishDiagnostics": {"relatedInformation": True, "versionSupport": True},
                        "documentSymbol": {"hierarchicalDocumentSymbolSupport": True},
                    },
                },
            },
        )
        self.notify("initialized", {})

    def _drain(self, stream: IO[bytes]) -> None:
        for line in stream:
            self.errors.append(line.decode("utf-8", "replace"))

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in {b"\r\n", b"\n"}:
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value.strip())
            assert length is not None
            message: Message = json.loads(stream.read(length))
            if "id" in message and "method" in message:  # the server asks something: answer with nothing
                self._send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "id" in message:
                self.responses.setdefault(message["id"], queue.Queue()).put(message)
            else:
                with self.arrived:
                    self.notifications.append(message)
                    self.arrived.notify_all()

    def _send(self, message: Message) -> None:
        body = json.dumps(message).encode("utf-8")
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        stdin.flush()

    def request(self, method: str, params: object, timeout: float = 120) -> Any:
        """Send a request; return its result (fails on an error response or no answer in ``timeout`` seconds)."""
        self.next_id += 1
        number = self.next_id
        box = self.responses.setdefault(number, queue.Queue())
        self._send({"jsonrpc": "2.0", "id": number, "method": method, "params": params})
        answer = box.get(timeout=timeout)
        assert "error" not in answer, answer
        return answer.get("result")

    def notify(self, method: str, params: object) -> None:
        """Send a notification."""
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def wait(self, test: Callable[[Message], bool], timeout: float = 120, after: int = 0) -> Message:
        """Return the first notification from number ``after`` on passing ``test``; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                for message in self.notifications[after:]:
                    if test(message):
                        return message
                left = deadline - time.monotonic()
                assert left > 0, f"no such notification; got {self.notifications[after:]}"
                self.arrived.wait(left)

    def diagnostics(self, uri: str, version: int | None = None, after: int = 0) -> list[Message]:
        """Wait for the findings published for ``uri`` (of ``version``, if given); return them."""

        def wanted(message: Message) -> bool:
            params = message.get("params", {})
            return (
                message.get("method") == "textDocument/publishDiagnostics"
                and params.get("uri") == uri
                and (version is None or params.get("version") == version)
            )

        found: list[Message] = self.wait(wanted, after=after)["params"]["diagnostics"]
        return found

    def close(self, *, shutdown: bool = True) -> int:
        """Shut the server down (unless not ``shutdown``) and let it exit; return its exit code."""
        if shutdown and self.process.poll() is None:
            self.request("shutdown", None)
            self.notify("exit", None)
        code = self.process.wait(timeout=60)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return code
