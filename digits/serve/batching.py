"""Concurrent requests answered by one model call: a predictor that many threads call at once, batched.

A model call costs about the same for 1 image as for 32 (Keras' ``predict`` sets up a whole pipeline per call), so
the server does not call the model once per request. Each request's thread hands its images to a ``Batcher`` and
waits; the batcher's own thread takes the first waiting request, gathers those that arrive within ``wait``
seconds (up to ``max_images``), runs the model once on all of them and hands each request its rows back. One
thread per model also means the model is never called from two threads at once.
"""
from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future

import numpy as np

from digits.export import loaders

WAIT = 0.005  # seconds a batch stays open after its first request: small beside a model call (~20-50 ms)
MAX_IMAGES = 64  # per model call; a whole number is a few images, so a batch holds many requests


class Batcher:
    """``batcher(x)``: ``predict(x)``, run in a batch with the calls other threads make meanwhile."""

    def __init__(self, predict: loaders.Predictor, wait: float = WAIT, max_images: int = MAX_IMAGES):
        self.predict, self.wait, self.max_images = predict, wait, max_images
        self.requests: queue.Queue[tuple[np.ndarray, Future] | None] = queue.Queue()
        self.calls = 0  # model calls so far, and the images they took (GET /api/health shows the mean batch)
        self.images = 0
        self.thread = threading.Thread(target=self.serve, name="batcher", daemon=True)
        self.thread.start()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        done: Future = Future()
        self.requests.put((x, done))
        return done.result()

    def close(self) -> None:
        self.requests.put(None)
        self.thread.join()

    def gather(self, first: tuple[np.ndarray, Future]) -> list[tuple[np.ndarray, Future]]:
        """``first`` and the requests that arrive within ``wait`` seconds, up to ``max_images`` images."""
        batch, count = [first], len(first[0])
        deadline = time.monotonic() + self.wait
        while count < self.max_images:
            try:
                item = self.requests.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if item is None:  # closing: answer what is gathered, then stop
                self.requests.put(None)
                break
            batch.append(item)
            count += len(item[0])
        return batch

    def serve(self) -> None:
        while (first := self.requests.get()) is not None:
            batch = self.gather(first)
            try:
                probs = self.predict(np.concatenate([x for x, _ in batch]))
            except Exception as err:  # each waiting request gets the failure, the thread lives on
                for _, done in batch:
                    done.set_exception(err)
                continue
            self.calls, self.images = self.calls + 1, self.images + len(probs)
            start = 0
            for x, done in batch:
                done.set_result(probs[start:start + len(x)])
                start += len(x)
