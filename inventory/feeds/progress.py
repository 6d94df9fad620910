"""Progress reported from inside a transaction: a thread with its own database connection writes it.

A feed applied inside one transaction (the direct first import) cannot write its progress on its own
connection: nobody would see it before the commit. ``ProgressRelay.report`` queues each report (with the
progress callable's ``estimate`` of the total, taken at once if it has one: it reads the file's position)
and a thread, whose connection is outside that transaction, writes them in order.
"""

from __future__ import annotations

import logging
import queue
import threading

from django.db import connection

from .common import Progress

logger = logging.getLogger(__name__)
_STOP = object()


class ProgressRelay:
    def __init__(self, progress: Progress | None):
        self.progress = progress
        self._estimate = getattr(progress, "estimate", None)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ProgressRelay:
        if self.progress is not None:
            self._thread = threading.Thread(target=self._run, name="feed-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()

    def report(self, done: int) -> None:
        if self._thread is not None:
            self._queue.put((done, self._estimate(done) if self._estimate else None))

    def _run(self) -> None:
        try:
            while (item := self._queue.get()) is not _STOP:
                self.progress(*item)
        except Exception:  # progress is a courtesy: never let it fail the apply
            logger.exception("writing feed progress failed")
            while self._queue.get() is not _STOP:
                pass
        finally:
            connection.close()  # this thread's own connection
