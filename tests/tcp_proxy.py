"""A loopback TCP forwarder in front of a real service (the broker) that a test can break, while the
service itself (a system service shared by everyone) keeps running. Standard library only: the
e2e launcher uses it outside Django too."""

from __future__ import annotations

import socket
import threading
import time


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TcpProxy:
    """A loopback TCP forwarder in front of the broker that a test can break in two ways.

    ``cut()``: the broker is gone (connections reset, new ones refused). ``stall()``: the broker is
    unresponsive (a network partition, or RabbitMQ blocking publishers on a resource alarm): TCP stays
    up and accepts writes, but nothing is read or answered. ``restore()`` drops the broken connections
    and forwards again.
    """

    def __init__(self, target_host: str, target_port: int, port: int | None = None) -> None:
        self.target = (target_host, target_port)
        self.port: int = port or free_port()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._open: set[socket.socket] = set()
        self._stalled = threading.Event()
        self._lock = threading.Lock()

    @property
    def healthy(self) -> bool:
        return self._listener is not None and not self._stalled.is_set()

    def restore(self) -> None:
        if self._listener is not None and not self._stalled.is_set():
            return
        self.cut()
        self._stalled.clear()
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        listener.settimeout(0.1)
        self._listener = listener
        self._acceptor = threading.Thread(target=self._accept, args=(listener,), daemon=True, name="broker-proxy")
        self._acceptor.start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if self._acceptor is not None:
            self._acceptor.join(timeout=2)  # it polls with a timeout; once it is gone the port is free
            self._acceptor = None
        if listener is not None:
            listener.close()
        self._drop_all()

    def stall(self) -> None:
        self._stalled.set()

    def _drop_all(self) -> None:
        with self._lock:
            doomed, self._open = self._open, set()
        for sock in doomed:
            _close(sock)

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._open.add(client)
            if self._stalled.is_set():
                continue  # accepted by TCP, never answered
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                _close(client)
                continue
            client.settimeout(0.1)
            upstream.settimeout(0.1)
            with self._lock:
                self._open.add(upstream)
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                if self._stalled.is_set():
                    time.sleep(0.05)  # leave the bytes unread in the kernel, like a frozen peer
                    continue
                try:
                    data = src.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                if self._stalled.is_set():
                    continue  # stalled mid-read: the bytes are lost in the partition
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _close(src)
            _close(dst)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
