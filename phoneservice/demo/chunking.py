"""The replay server's side of a connection: bytes out in random chunk sizes, cut, FIN or RST.

Asterisk writes whole messages per ``send``; a client must not rely on that. The writer here
splits its stream into seeded random chunk sizes, stops after a byte budget (to cut a
connection in the middle of a line or a UTF-8 character) and ends it with a FIN or a reset.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import random
import socket
import struct
import termios


class Cut(Exception):
    """The byte budget is spent: the script's cut point was reached."""


class ChunkedOutput:
    """The server's byte stream: random chunk sizes, a byte budget, one writer at a time."""

    def __init__(
        self,
        writer: asyncio.StreamWriter,
        rng: random.Random,
        chunks: tuple[int, int] | None,
        delay: float,
        budget: int | None,
    ) -> None:
        self.writer, self.rng, self.chunks, self.delay = writer, rng, chunks, delay
        self.budget = budget
        self.pending = bytearray()
        self.lock = asyncio.Lock()
        self.sent = 0
        self.size = self._draw()

    async def send(self, data: bytes, *, flush: bool = True) -> None:
        """Queue ``data``; write whole chunks now, and the tail too when ``flush``."""
        async with self.lock:
            self.pending += data
            await self._emit(flush)

    async def flush(self) -> None:
        """Write whatever is held back for the next chunk."""
        async with self.lock:
            await self._emit(True)

    async def close_write(self) -> None:
        """Send everything held back, then FIN; reading goes on so the close stays clean."""
        await self.flush()
        if self.writer.can_write_eof():
            with contextlib.suppress(OSError):  # the client may already have gone
                self.writer.write_eof()

    async def reset(self) -> None:
        """Abort with an RST once the peer's kernel has acknowledged every byte written."""
        transport = self.writer.transport
        sock = self.writer.get_extra_info("socket")
        deadline = asyncio.get_running_loop().time() + 2.0
        while transport.get_write_buffer_size() or _unacked(sock.fileno()):
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.002)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()

    async def _emit(self, final: bool) -> None:
        while self.pending and (final or self.size <= len(self.pending)):
            chunk = bytes(self.pending[: self.size])
            del self.pending[: self.size]
            self.size = self._draw()
            await self._write(chunk)

    async def _write(self, chunk: bytes) -> None:
        if self.budget is not None and self.sent + len(chunk) >= self.budget:
            chunk = chunk[: self.budget - self.sent]
            self.writer.write(chunk)
            self.sent += len(chunk)
            raise Cut
        self.writer.write(chunk)
        self.sent += len(chunk)
        await self.writer.drain()
        if self.delay:
            await asyncio.sleep(self.delay)

    def _draw(self) -> int:
        return self.rng.randint(*self.chunks) if self.chunks else 1 << 62


def _unacked(fd: int) -> int:
    """Bytes the kernel still holds for the peer (Linux SIOCOUTQ); 0 where unsupported."""
    try:
        raw = fcntl.ioctl(fd, termios.TIOCOUTQ, b"\0\0\0\0")
    except OSError:
        return 0
    return int(struct.unpack("i", raw)[0])
