"""Vendor keypad's request sequences (reference §6) replayed its way, for comparison."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

_DUMMY = {"nothing": "nothing"}


class VendorReplay:
    """The vendor's keypad flows against a VALT server, request for request.

    Like the vendor client: plain urllib (a new connection for every request, no
    keep-alive), the token in the query, GETs for reads, POSTs with JSON bodies,
    every check and log-line lookup the vendor makes (reference §6.1-6.4, 6.6).
    """

    def __init__(
        self, server: str, username: str, password: str, room: int, timeout_s: float = 5
    ) -> None:
        self.base = server.rstrip("/") + "/api/v3/"
        self.username, self.password = username, password
        self.room = room
        self.timeout_s = timeout_s
        self.token = ""
        self.requests = 0
        # Wall-clock times of the last flow's action request, of its answer, and of
        # the moment the vendor's keypad shows the result (after the log-line reads).
        self.action_sent_at: float | None = None
        self.action_answered_at: float | None = None
        self.shown_at: float | None = None

    # -- transport, as urllib does it --------------------------------------------------
    def _call(self, path: str, body: Any = None) -> Any:
        separator = "&" if "?" in path else "?"
        url = (
            self.base
            + path
            + (f"{separator}access_token={self.token}" if self.token else "")
        )
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        self.requests += 1
        with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
            return json.loads(answer.read() or b"null")

    def connect(self) -> None:
        """§6.7: login, then the version."""
        self.token = ""
        self.token = self._call(
            "login", {"username": self.username, "password": self.password}
        )["data"]["access_token"]
        self._call("admin/general")

    # -- flows -------------------------------------------------------------------------
    def keypad(self, pin: str) -> str:
        """§6.1/6.2: PIN -> start (8 requests) or stop (5); bad PIN 1; busy 2."""
        users = self._call("admin/users")["data"]
        author = None
        for user in users:  # the last match wins, as in the vendor code
            if str(user.get("card_number")) == pin:
                author = user["id"]
        if author is None:
            return "denied"
        return self._toggle(author, panel=True)

    def card(self, card: str) -> str:
        """§6.6 (6.5+): card lookup by query, then the keypad pattern."""
        found = self._call(f"admin/users?cardNumber={card}")["data"]
        if not found:
            return "denied"
        # The card reader has no panel timer: 6 requests to start, 5 to stop (§6.6).
        return self._toggle(found[0]["id"], panel=False)

    def marker(self, name: str = "Accessory Comment") -> str:
        """§6.4 (C2 on 5.x): four reads, the POST, a read for the log line."""
        info = f"rooms/info/{self.room}"
        if not self._call(info)["data"].get("has_recording"):
            return "busy"
        self._call(info)
        self._call(info)
        time_s = self._call(info)["data"]["recording"]["time"]
        self.action_sent_at = time.time()
        self._call(
            f"rooms/{self.room}/record/markers",
            {"event": name, "time": time_s, "color": "red"},
        )
        self.action_answered_at = time.time()
        self._call(info)
        self.shown_at = time.time()
        return "marked"

    def _toggle(self, author: int, panel: bool) -> str:
        status = self._call(f"rooms/{self.room}/status")["data"]["status"]
        info = f"rooms/info/{self.room}"
        if status in ("available", "prepared"):
            if self._call(info)["data"].get("has_recording"):
                return "busy"
            self.action_sent_at = time.time()
            self._call(
                f"rooms/{self.room}/record/start",
                {"name": "Accessory Recording", "author": author},
            )
            self.action_answered_at = time.time()
            self._call(info)  # room name for the log line
            self._call(f"admin/users/{author}")  # user name for the same line
            self.shown_at = time.time()  # "Recording Started" on the keypad
            if panel:
                self._call(info)  # the panel seeds its timer: has_recording ...
                self._call(info)  # ... then recording.time
            return "started"
        if status == "recording":
            if not self._call(info)["data"].get("has_recording"):
                return "busy"
            self.action_sent_at = time.time()
            self._call(f"rooms/{self.room}/record/stop", _DUMMY)
            self.action_answered_at = time.time()
            self._call(info)
            self.shown_at = time.time()
            return "stopped"
        return "busy"  # paused, locked or unknown: 2 requests in all
