"""The library file: one SQLite database with FTS5 for words and sqlite-vec for sentence vectors.

Tables: ``videos`` (path, content hash, settings key, duration, settings, the
perception as JSON so a question can rebuild the typed context), ``entries``
(kind, start, end, text, line, search text, language), ``entries_fts`` (FTS5
over the search text, BM25), ``entry_vectors`` (the embedder's float32 unit
vectors) and ``entries_bits`` (a sqlite-vec ``vec0`` table of the same vectors
quantized to one bit per dimension, made when the first vectors arrive; the
embedder and the dimension are in ``meta``). Entry ids are shared by all four.

Nearest vectors (:meth:`Library.nearest`) are found in two steps: the Hamming
distance of the bits picks :data:`OVERSAMPLE` times as many candidates as
asked for, their exact cosine (``vec_distance_cosine`` on the float vectors)
orders them. A full float scan costs about 2.5 times the CPU of the bit scan
(200,000 vectors: about 120 ms against 45 ms, see ``docs/library.md``).

Every video is written in one transaction (:meth:`Library.put_video`): a
``kill -9`` loses at most the video being written, never a committed one, and
the journal is WAL so searches read while an index run writes.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from library.records import EntryRecord, Hit, VideoRecord
from perceive.records import Perception

OVERSAMPLE = 4   # bit-quantized candidates per wanted neighbour, reranked by exact cosine

SCHEMA = """
create table if not exists meta(key text primary key, value text not null);
create table if not exists videos(
    id integer primary key, path text not null unique, content_hash text not null, settings_key text not null,
    duration real, settings text not null default '{}', perception text);
create table if not exists entries(
    id integer primary key, video_id integer not null references videos(id) on delete cascade,
    kind text not null, start real not null, "end" real, text text not null, line text not null,
    search text not null, language text);
create index if not exists entries_video on entries(video_id);
create virtual table if not exists entries_fts using fts5(search, content='entries', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2');
"""


def sqlite_module():
    """The ``sqlite3`` module to use: the standard one when it can load extensions (sqlite-vec), else
    ``pysqlite3`` (a Python built without loadable extensions, e.g. pyenv's default)."""
    if hasattr(sqlite3.Connection, "enable_load_extension"):
        return sqlite3
    try:
        import pysqlite3.dbapi2 as module
    except ImportError as exc:
        raise ValueError("this Python's sqlite3 cannot load extensions and pysqlite3 is not installed "
                         "(pip install pysqlite3-binary)") from exc
    return module


def is_sqlite(path: str | Path) -> bool:
    """Whether ``path`` is an SQLite database file (its 16-byte header), e.g. a library, not a video."""
    try:
        with open(path, "rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


class Library:
    """One library file, opened (and its schema made) on construction; use as a context manager or ``close()``."""

    def __init__(self, path: str | Path):
        import sqlite_vec

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite_module().connect(str(self.path), timeout=30, isolation_level=None)
        self.db.enable_load_extension(True)
        sqlite_vec.load(self.db)
        self.db.enable_load_extension(False)
        try:
            self.db.execute("pragma journal_mode=wal")
            self.db.execute("pragma foreign_keys=on")
            self.db.executescript(SCHEMA)
        except sqlite_module().DatabaseError as exc:   # e.g. a video given as --db
            self.db.close()
            raise ValueError(f"{self.path} is not a library file ({exc})") from None

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic write: committed whole at the end of the block, or not at all."""
        self.db.execute("begin immediate")
        try:
            yield
        except BaseException:
            self.db.execute("rollback")
            raise
        self.db.execute("commit")

    def meta(self, key: str) -> str | None:
        row = self.db.execute("select value from meta where key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("insert or replace into meta(key, value) values (?, ?)", (key, value))

    @property
    def embedder(self) -> str | None:
        """The embedder whose vectors the library holds (None: words only)."""
        return self.meta("embedder")

    def current(self, path: str, content_hash: str, settings_key: str) -> bool:
        """Whether ``path`` is indexed with this content and these settings (nothing to do)."""
        row = self.db.execute("select 1 from videos where path = ? and content_hash = ? and settings_key = ?",
                              (path, content_hash, settings_key)).fetchone()
        return row is not None

    def put_video(self, path: str, content_hash: str, settings_key: str, duration: float | None, settings: dict,
                  entries: Sequence[EntryRecord], vectors: np.ndarray | None = None, embedder: str | None = None,
                  perception: Perception | None = None) -> int:
        """Store one video and its entries (and their vectors) in one transaction, replacing the path's old rows."""
        with self.transaction():
            self._delete(path)
            video_id = self.db.execute(
                "insert into videos(path, content_hash, settings_key, duration, settings, perception) "
                "values (?, ?, ?, ?, ?, ?)",
                (path, content_hash, settings_key, duration, json.dumps(settings, default=str),
                 perception.model_dump_json() if perception is not None else None)).lastrowid
            ids = []
            for e in entries:
                ids.append(self.db.execute(
                    'insert into entries(video_id, kind, start, "end", text, line, search, language) '
                    "values (?, ?, ?, ?, ?, ?, ?, ?)",
                    (video_id, e.kind, e.start, e.end, e.text, e.line, e.search, e.language)).lastrowid)
                self.db.execute("insert into entries_fts(rowid, search) values (?, ?)", (ids[-1], e.search))
            if vectors is not None and len(ids):
                self._put_vectors(ids, vectors, embedder or "embedder")
        return video_id

    def _put_vectors(self, ids: list[int], vectors: np.ndarray, embedder: str) -> None:
        known = self.embedder
        if known is None:
            self.db.execute("create table if not exists entry_vectors(id integer primary key, embedding blob not null)")
            self.db.execute(f"create virtual table if not exists entries_bits using vec0(embedding bit[{vectors.shape[1]}])")
            self.set_meta("embedder", embedder)
            self.set_meta("dimension", str(vectors.shape[1]))
        elif known != embedder:
            raise ValueError(f"{self.path} holds vectors of {known}, not {embedder}; index into a new file")
        rows = [(i, np.asarray(v, np.float32).tobytes()) for i, v in zip(ids, vectors)]
        self.db.executemany("insert into entry_vectors(id, embedding) values (?, ?)", rows)
        self.db.executemany("insert into entries_bits(rowid, embedding) values (?, vec_quantize_binary(?))", rows)

    def _delete(self, path: str) -> None:
        row = self.db.execute("select id from videos where path = ?", (path,)).fetchone()
        if row is None:
            return
        old = self.db.execute("select id, search from entries where video_id = ?", (row[0],)).fetchall()
        self.db.executemany("insert into entries_fts(entries_fts, rowid, search) values ('delete', ?, ?)", old)
        if self.embedder and old:
            self.db.executemany("delete from entry_vectors where id = ?", [(i,) for i, _ in old])
            self.db.executemany("delete from entries_bits where rowid = ?", [(i,) for i, _ in old])
        self.db.execute("delete from entries where video_id = ?", (row[0],))
        self.db.execute("delete from videos where id = ?", (row[0],))

    def videos(self) -> list[VideoRecord]:
        """Every indexed video, in the order indexed."""
        rows = self.db.execute("select id, path, content_hash, settings_key, duration, settings from videos order by id")
        return [VideoRecord(id=r[0], path=r[1], content_hash=r[2], settings_key=r[3], duration=r[4],
                            settings=json.loads(r[5])) for r in rows]

    def count(self, table: str = "entries") -> int:
        return self.db.execute(f"select count(*) from {table}").fetchone()[0]

    def perception(self, video_id: int) -> Perception | None:
        """The stored perception of a video (None when it was indexed without one)."""
        row = self.db.execute("select perception from videos where id = ?", (video_id,)).fetchone()
        return Perception.model_validate_json(row[0]) if row and row[0] else None

    def words(self, match: str, limit: int) -> list[int]:
        """Entry ids for an FTS5 ``match`` expression, best BM25 first."""
        if not match:
            return []
        rows = self.db.execute("select rowid from entries_fts where entries_fts match ? order by rank limit ?",
                               (match, limit))
        return [r[0] for r in rows]

    def nearest(self, vector: np.ndarray, limit: int, min_cosine: float = -1.0) -> list[int]:
        """Entry ids of the ``limit`` unit vectors nearest to the unit ``vector`` (bits first, then the exact
        cosine), nearest first, those with a cosine similarity of at least ``min_cosine`` (none without vectors)."""
        if not self.embedder:
            return []
        blob = np.asarray(vector, np.float32).tobytes()
        candidates = [r[0] for r in self.db.execute(
            "select rowid from entries_bits where embedding match vec_quantize_binary(?) and k = ?",
            (blob, limit * OVERSAMPLE))]
        if not candidates:
            return []
        marks = ",".join("?" * len(candidates))
        rows = self.db.execute(f"select id, 1 - vec_distance_cosine(embedding, ?) as cosine from entry_vectors "
                               f"where id in ({marks}) order by cosine desc limit ?", (blob, *candidates, limit))
        return [i for i, cosine in rows if cosine >= min_cosine]

    def hits(self, scored: dict[int, float]) -> list[Hit]:
        """The hits of scored entry ids, best first."""
        if not scored:
            return []
        marks = ",".join("?" * len(scored))
        rows = self.db.execute(
            f'select e.id, v.path, v.id, e.kind, e.start, e."end", e.line, e.text, e.language '
            f"from entries e join videos v on v.id = e.video_id where e.id in ({marks})", list(scored))
        hits = [Hit(video=r[1], video_id=r[2], kind=r[3], start=r[4], end=r[5], line=r[6], text=r[7],
                    score=round(scored[r[0]], 5), language=r[8]) for r in rows]
        return sorted(hits, key=lambda h: (-h.score, h.video, h.start))
