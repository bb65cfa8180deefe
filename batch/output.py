"""The batch's output: an append-only JSONL file that survives being killed.

Each record is appended as one complete line with a single write, then flushed
to disk (fsync), so a run killed at any moment leaves whole lines only, at
worst followed by one partial line that the next run cuts off before it resumes.
"""
from __future__ import annotations

import os
from pathlib import Path

from pydantic import ValidationError

from batch.records import TextualizedVideo

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None


class OutputBusy(ValueError):
    """Another run is appending to the same output file."""


class JsonlOutput:
    """An append-only JSONL file of :class:`TextualizedVideo` records that survives being killed.

    Opening it locks the file, cuts off a trailing partial line and reads the
    complete records already there (``records``); lines that do not validate are
    counted in ``invalid`` and otherwise left alone.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.records: list[TextualizedVideo] = []
        self.invalid = 0
        self.dropped_bytes = 0
        self._fd: int | None = None

    def __enter__(self) -> "JsonlOutput":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(self._fd)
                raise OutputBusy(f"{self.path} is being written by another textualize run") from None
        data = self.path.read_bytes()
        end = data.rfind(b"\n") + 1
        if end < len(data):  # killed in the middle of a write: drop the partial line
            self.dropped_bytes = len(data) - end
            os.ftruncate(self._fd, end)
            os.fsync(self._fd)
        for line in data[:end].splitlines():
            if line.strip():
                try:
                    self.records.append(TextualizedVideo.model_validate_json(line))
                except ValidationError:
                    self.invalid += 1
        return self

    def append(self, record: TextualizedVideo) -> None:
        """Append ``record`` as one complete line: a single write, then fsync."""
        data = (record.model_dump_json() + "\n").encode()
        written = os.write(self._fd, data)
        while written < len(data):  # only on a full disk or a signal; O_APPEND keeps it contiguous
            written += os.write(self._fd, data[written:])
        os.fsync(self._fd)

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock
            self._fd = None
