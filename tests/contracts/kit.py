"""Test kit for the internal transport: an HTTP client bound to this same app, and real-socket faults.

The contract suites use ``remote_in_process``; the transport tests also use the loopback servers
(a remote that accepts and never answers, one that answers a fixed status) and a closed port.
"""

from __future__ import annotations

import inspect
import socket
import threading
import typing
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx
from django.conf import settings
from django.test.utils import CaptureQueriesContext

from shop import registry
from shop.registry.transport.client import RemoteContext
from shop.registry.transport.inprocess import InProcessWSGIApp
from tests import helpers

T = TypeVar("T")
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def bound(protocol: type[T], binding: str) -> T:
    """``local``: what ``registry.local`` returns; ``http``: the RemoteContext through this same app."""
    return registry.local(protocol) if binding == "local" else remote_in_process(protocol)


def remote_in_process(protocol: type[T], *, app: WSGIApp | None = None, **options: Any) -> T:
    """The HTTP client for ``protocol``, reaching this process through ``httpx.WSGITransport``.

    Runs on the caller's thread and database connection, so it sees the test's transaction.
    Typed as the Protocol: callers cannot tell it from the local implementation.
    """
    transport = httpx.WSGITransport(app=app or InProcessWSGIApp())
    return remote(protocol, urls=["http://testserver"], transport=transport, **options)


def remote(protocol: type[T], *, urls: list[str], **options: Any) -> T:
    options.setdefault("secret", settings.SHOP_INTERNAL_SECRET)
    return RemoteContext(protocol=protocol, urls=urls, **options)  # type: ignore[return-value]


@contextmanager
def method_queries(connection: Any, *, exactly: int | None = None, at_most: int | None = None) -> Iterator[None]:
    """What a method costs on ``connection``, whichever the binding: the server's nonce bookkeeping
    (each signed call runs once, ``shop.registry.transport.replay``) is the transport's, not the method's."""
    with CaptureQueriesContext(connection) as captured:
        yield
    queries = helpers.method_queries(captured)
    listing = "\n".join(queries)
    if exactly is not None:
        assert len(queries) == exactly, f"{len(queries)} queries, {exactly} expected:\n{listing}"
    if at_most is not None:
        assert len(queries) <= at_most, f"{len(queries)} queries, at most {at_most} expected:\n{listing}"


def closed_port() -> int:
    """A loopback port nobody listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LoopbackServer:
    """A real TCP server thread on 127.0.0.1 that counts connections and either never answers
    (``status=None``: accepts, reads, holds the socket open) or answers every request with ``status``."""

    def __init__(self, *, status: int | None = None) -> None:
        self.status = status
        self.connections = 0
        self._lock = threading.Lock()
        self._held: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=32)
        self._listener.settimeout(0.05)
        self.port = int(self._listener.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._running = True
        self._thread = threading.Thread(target=self._serve, daemon=True, name=f"loopback-{self.port}")
        self._thread.start()

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._running = False
        self._thread.join(timeout=2)
        self._listener.close()
        with self._lock:
            held, self._held = self._held, []
        for sock in held:
            sock.close()

    def _serve(self) -> None:
        while self._running:
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._held.append(conn)
            if self.status is not None:
                threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(2)
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            body = b'{"status": "down"}'
            conn.sendall(
                f"HTTP/1.1 {self.status} Whatever\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
        except OSError:
            pass
        finally:
            conn.close()


def signature_shape(func: Callable[..., Any]) -> tuple[Any, ...]:
    """Parameter names, kinds, defaults and resolved annotations, and the return annotation."""
    hints = typing.get_type_hints(func)
    params = [(p.name, p.kind, p.default, hints.get(p.name)) for p in inspect.signature(func).parameters.values()]
    return (*params, hints.get("return"))


def assert_implements(protocol: type[Any], implementation: type[Any]) -> None:
    """Every method of ``protocol`` exists on ``implementation`` with the same signature, and on the
    HTTP client: a drift between the contract and either side fails here, not in production."""
    from shop.registry.transport import codec

    client = remote_in_process(protocol)
    for name, declared in codec.public_methods(protocol).items():
        assert signature_shape(getattr(implementation, name)) == signature_shape(declared), name
        assert callable(getattr(client, name)), name
