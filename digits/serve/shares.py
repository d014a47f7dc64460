"""What the requests in progress share, each part bounded: ``Budget`` (request bodies held in memory, a slice kept
for small ones) with each request's ``Claim`` on it, and ``Lanes`` (images decoded at once: small ones in a lane of
their own, large ones by the memory their decoding takes, with a bounded queue). Both live on the event loop's
thread, so no request waiting for either holds a worker thread.
"""
from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from digits.serve import guards


class Budget:
    """Request-body bytes held in memory by all requests together, at most ``limit``; bodies over ``small`` bytes
    may not take the last ``reserve`` of it (event loop's thread only)."""

    def __init__(self, limit: int, small: int = 0, reserve: int = 0):
        self.limit, self.small, self.reserve, self.held = limit, small, reserve, 0

    def take(self, n: int, body: int) -> bool:
        """Take ``n`` more bytes for a body now ``body`` bytes long, if its size may."""
        if self.held + n > self.limit - (0 if body <= self.small else self.reserve):
            return False
        self.held += n
        return True

    def give(self, n: int) -> None:
        self.held -= n


class Claim:
    """One request's share of a ``Budget``: ``grow_to(n)`` if the budget allows, all of it given back by ``close``."""

    def __init__(self, budget: Budget):
        self.budget, self.bytes = budget, 0

    def grow_to(self, n: int) -> bool:
        if n > self.bytes and not self.budget.take(n - self.bytes, n):
            return False
        self.bytes = max(self.bytes, n)
        return True

    def close(self) -> None:
        self.budget.give(self.bytes)
        self.bytes = 0


class Full(Exception):
    """A lane's queue is full: the request is refused at once (503) rather than queued."""


class Lane:
    """At most ``slots`` decodes at once whose costs add up to at most ``room`` (one alone may cost all of it), first
    come first served, with at most ``queue`` waiting (``Full`` beyond)."""

    def __init__(self, name: str, slots: int, room: float, queue: int):
        self.name, self.slots, self.room, self.queue = name, slots, room, queue
        self.running, self.used = 0, 0
        self.waiting: deque[tuple[int, asyncio.Future]] = deque()

    def fits(self, cost: int) -> bool:
        return self.running < self.slots and self.used + cost <= self.room

    async def take(self, cost: int) -> None:
        if not self.waiting and self.fits(cost):
            self.running, self.used = self.running + 1, self.used + cost
            return
        if len(self.waiting) >= self.queue:
            raise Full(f"{self.queue} {self.name} images wait to be decoded already")
        turn = asyncio.get_running_loop().create_future()
        self.waiting.append((cost, turn))
        try:
            await turn
        except asyncio.CancelledError:  # (the server stopping): give back a turn given meanwhile, or leave the queue
            if turn.done() and not turn.cancelled():
                self.give(cost)
            else:
                self.waiting.remove((cost, turn))
            raise

    def give(self, cost: int) -> None:
        self.running, self.used = self.running - 1, self.used - cost
        while self.waiting and self.fits(self.waiting[0][0]):
            cost, turn = self.waiting.popleft()
            self.running, self.used = self.running + 1, self.used + cost
            turn.set_result(None)


class Lanes:
    """Decoding's two lanes: images of at most ``small_pixels`` pixels, ``decodes`` at once; the rest, ``decodes`` at
    once within ``decode_pixels`` of cost (``imagefile.cost``) and ``decode_queue`` waiting."""

    def __init__(self, limits: guards.Limits):
        self.small_pixels, self.room = limits.small_pixels, limits.decode_pixels
        self.small = Lane("small", limits.decodes, float("inf"), limits.max_connections)  # (waits: milliseconds)
        self.large = Lane("large", limits.decodes, limits.decode_pixels, limits.decode_queue)

    @asynccontextmanager
    async def hold(self, pixels: int, cost: int) -> AsyncIterator[Callable[[], None]]:
        """A turn in the image's lane until the block ends, or until the function it yields is called (from any
        thread; once is enough). ``Full`` when its lane's queue is."""
        lane = self.small if pixels <= self.small_pixels else self.large
        await lane.take(cost)
        loop, held = asyncio.get_running_loop(), [True]

        def release() -> None:  # (a worker thread calls it, and the block's end after that thread has finished)
            if held[0]:
                held[0] = False
                loop.call_soon_threadsafe(lane.give, cost)

        try:
            yield release
        finally:
            release()
