"""A real SMTP server on loopback (aiosmtpd) that records what it is sent.

It can be stopped and started again on the same port (SMTP down, then back), and it can hold the
DATA phase (the client has sent the whole message and waits for the server's reply) so that a test
can kill the sending worker mid-send.

Every message whose DATA arrived is in ``received``. ``accepted`` is true once the server answered
"250" to a client that was still connected; a message whose client went away while it was held is
``aborted`` (the client never learnt that it arrived).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    accepted: bool = False
    aborted: bool = False

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def text(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None, "no text/plain part"
        return str(part.get_content())

    @property
    def html(self) -> str:
        part = self.message.get_body(("html",))
        assert part is not None, "no text/html part"
        return str(part.get_content())


@dataclass
class _Recorder:
    """The aiosmtpd handler: records each message, answers once ``hold`` is cleared."""

    received: list[Received] = field(default_factory=list)
    hold: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's hook name
        raw = envelope.original_content or envelope.content
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        entry = Received(mail_from=envelope.mail_from, rcpt_tos=list(envelope.rcpt_tos), message=message)
        with self.lock:
            self.received.append(entry)
        try:
            while self.hold.is_set():
                await asyncio.sleep(0.02)
        except asyncio.CancelledError:  # the client's connection closed while we held its message
            entry.aborted = True
            raise
        entry.accepted = True
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class SmtpSink:
    """An SMTP server on 127.0.0.1:``port``; ``stop()``/``start()`` take it down and bring it back."""

    def __init__(self) -> None:
        self.port = free_port()
        self._recorder = _Recorder()
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        if self._controller is not None:
            return
        # A new controller each time: a stopped one has closed its event loop.
        controller = Controller(
            self._recorder, hostname="127.0.0.1", port=self.port, server_hostname="sink.test", ready_timeout=5.0
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    # --- holding the DATA phase -----------------------------------------------------------------
    def hold(self) -> None:
        self._recorder.hold.set()

    def release(self) -> None:
        self._recorder.hold.clear()

    # --- what arrived ------------------------------------------------------------------------------
    def received(self, to: str | None = None) -> list[Received]:
        with self._recorder.lock:
            entries = list(self._recorder.received)
        return [e for e in entries if to is None or to in e.rcpt_tos]

    def delivered(self, to: str | None = None) -> list[Received]:
        """Messages the server acknowledged ("250") to a connected client."""
        return [e for e in self.received(to) if e.accepted]

    def wait_delivered(self, to: str, count: int = 1, timeout: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.delivered(to)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        found = self.delivered(to)
        assert len(found) >= count, f"{len(found)} message(s) to {to} within {timeout}s; got {self._summary()}"
        return found

    def _summary(self) -> list[tuple[list[str], str, bool]]:
        return [(e.rcpt_tos, e.subject, e.accepted) for e in self.received()]
