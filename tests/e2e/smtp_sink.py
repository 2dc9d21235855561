"""An SMTP sink for the end-to-end topology: accepts every message and appends it as one JSON line.

    python -m tests.e2e.smtp_sink --port 8125 --out /tmp/mail.jsonl

Each line: ``{"mail_from", "to", "subject", "message_id", "text", "html", "received_at"}`` (``to`` is the
envelope's recipients). The file is flushed per message, so a reader polling it sees a message as soon as
the SMTP transaction that delivered it ended.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


def _part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body(preferencelist=(subtype,))
    return str(body.get_content()) if body is not None else ""


class JsonLinesHandler:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = message_from_bytes(raw if isinstance(raw, bytes) else raw.encode(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        record = {
            "mail_from": envelope.mail_from,
            "to": list(envelope.rcpt_tos),
            "subject": str(message.get("Subject", "")),
            "message_id": str(message.get("Message-ID", "")),
            "text": _part(message, "plain"),
            "html": _part(message, "html"),
            "received_at": time.time(),
        }
        line = json.dumps(record, ensure_ascii=False)
        with self.lock, self.out.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()
        print(f"mail to {', '.join(record['to'])}: {record['subject']}", flush=True)
        return "250 Message accepted for delivery"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.touch()
    controller = Controller(JsonLinesHandler(args.out), hostname=args.host, port=args.port)
    controller.start()
    print(f"smtp sink listening on {args.host}:{args.port}, writing {args.out}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
