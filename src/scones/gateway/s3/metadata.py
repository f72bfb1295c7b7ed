"""What an object has besides its bytes, kept in ``<state_dir>/metadata.sqlite``, never in a bucket.

An object's record (ETag, content type, user metadata, checksum...) is only believed while the file is the
one it was written for: the record keeps the file's size, mtime and inode, and a file changed or dropped in
by hand (or by another scones step through ``LocalStore``) gets *derived* metadata instead — MD5 ETag
computed once and cached, content type from the name. So the folder stays the truth and metadata survives
restarts. Multipart uploads in progress (their records) live here too; their parts' bytes live in
``<state_dir>/uploads/<id>/``.

One SQLite connection in WAL mode, shared by the event loop and worker threads under a lock; recent
records are also kept in memory so a hot GET costs no query and no JSON parse.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

#: Records kept in memory (each a few hundred bytes).
CACHE_SIZE: Final = 20_000


@dataclass(frozen=True, slots=True)
class ObjectMeta:
    """An object's metadata, and the file fingerprint it belongs to."""

    size: int
    mtime_ns: int
    ino: int
    etag: str  # without quotes
    content_type: str = "binary/octet-stream"
    metadata: dict[str, str] = field(default_factory=dict)
    #: Content-Disposition, Cache-Control, Content-Encoding, Content-Language, Expires... as sent.
    headers: dict[str, str] = field(default_factory=dict)
    checksum_algorithm: str | None = None
    checksum: str | None = None
    checksum_type: str | None = None
    #: A multipart object's part sizes, in order (for GetObject/HeadObject by ``partNumber``).
    parts: tuple[int, ...] | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def matches(self, st: os.stat_result) -> bool:
        return st.st_size == self.size and st.st_mtime_ns == self.mtime_ns and st.st_ino == self.ino

    def _doc(self) -> str:
        return json.dumps({"ct": self.content_type, "m": self.metadata, "h": self.headers,
                           "ca": self.checksum_algorithm, "c": self.checksum, "cty": self.checksum_type,
                           "p": self.parts, "t": self.tags}, separators=(",", ":"))

    @classmethod
    def _from_row(cls, size: int, mtime_ns: int, ino: int, etag: str, doc: str) -> ObjectMeta:
        d = json.loads(doc)
        parts = tuple(d["p"]) if isinstance(d["p"], list) else None
        return cls(size, mtime_ns, ino, etag, d["ct"], d["m"], d["h"], d["ca"], d["c"], d["cty"], parts,
                   d.get("t") or {})


@dataclass(frozen=True, slots=True)
class Upload:
    upload_id: str
    bucket: str
    key: str
    initiated: float
    #: The object's future metadata (content type, user metadata, headers, tags) and checksum settings.
    template: ObjectMeta


@dataclass(frozen=True, slots=True)
class Part:
    number: int
    size: int
    etag: str
    last_modified: float
    checksum: str | None  # base64, of the upload's algorithm
    crc64: str  # CRC64NVME of the part, for the default full-object checksum


_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS objects (bucket TEXT, key TEXT, size INTEGER, mtime_ns INTEGER, ino INTEGER,
    etag TEXT, doc TEXT, PRIMARY KEY (bucket, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS buckets (bucket TEXT PRIMARY KEY, created REAL, doc TEXT);
CREATE TABLE IF NOT EXISTS uploads (upload_id TEXT PRIMARY KEY, bucket TEXT, key TEXT, initiated REAL,
    size INTEGER, mtime_ns INTEGER, ino INTEGER, etag TEXT, doc TEXT);
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads (bucket, key);
CREATE TABLE IF NOT EXISTS parts (upload_id TEXT, number INTEGER, size INTEGER, etag TEXT, modified REAL,
    checksum TEXT, crc64 TEXT, PRIMARY KEY (upload_id, number)) WITHOUT ROWID;
"""


class MetadataStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # A crash may lose the last commits' metadata, never corrupt it; a lost record means derived metadata.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], ObjectMeta] = {}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _run(self, sql: str, args: Iterable[Any] = ()) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    # -- objects ---------------------------------------------------------------
    def get(self, bucket: str, key: str) -> ObjectMeta | None:
        found = self._cache.get((bucket, key))
        if found is not None:
            return found
        rows = self._run("SELECT size, mtime_ns, ino, etag, doc FROM objects WHERE bucket=? AND key=?", (bucket, key))
        if not rows:
            return None
        meta = ObjectMeta._from_row(*rows[0])
        self._remember(bucket, key, meta)
        return meta

    def put(self, bucket: str, key: str, meta: ObjectMeta) -> None:
        self._run("INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?, ?)",
                  (bucket, key, meta.size, meta.mtime_ns, meta.ino, meta.etag, meta._doc()))
        self._remember(bucket, key, meta)

    def put_derived(self, bucket: str, key: str, meta: ObjectMeta) -> ObjectMeta:
        """Record derived metadata unless a writer recorded the same file meanwhile (a listing thread may
        derive a file's metadata just as the PutObject that wrote it records the real one): the record
        that describes the file wins."""
        with self._lock:
            rows = self._db.execute("SELECT size, mtime_ns, ino, etag, doc FROM objects WHERE bucket=? AND key=?",
                                    (bucket, key)).fetchall()
            if rows:
                current = ObjectMeta._from_row(*rows[0])
                if (current.size, current.mtime_ns, current.ino) == (meta.size, meta.mtime_ns, meta.ino):
                    self._remember(bucket, key, current)
                    return current
            self._db.execute("INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (bucket, key, meta.size, meta.mtime_ns, meta.ino, meta.etag, meta._doc()))
            self._remember(bucket, key, meta)
        return meta

    def delete(self, bucket: str, key: str) -> None:
        self._cache.pop((bucket, key), None)
        self._run("DELETE FROM objects WHERE bucket=? AND key=?", (bucket, key))

    def markers(self, bucket: str, prefix: str) -> set[str]:
        """Folder-marker keys (ending in ``/``) recorded below ``prefix``."""
        rows = self._run("SELECT key FROM objects WHERE bucket=? AND key >= ? AND key < ? AND key LIKE '%/'",
                         (bucket, prefix, prefix + "\U0010ffff"))
        return {r[0] for r in rows}

    def _remember(self, bucket: str, key: str, meta: ObjectMeta) -> None:
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[(bucket, key)] = meta

    # -- buckets ---------------------------------------------------------------
    def bucket_created(self, bucket: str) -> float | None:
        rows = self._run("SELECT created FROM buckets WHERE bucket=?", (bucket,))
        return float(rows[0][0]) if rows else None

    def bucket_doc(self, bucket: str) -> dict[str, Any]:
        rows = self._run("SELECT doc FROM buckets WHERE bucket=?", (bucket,))
        return dict(json.loads(rows[0][0])) if rows and rows[0][0] else {}

    def set_bucket(self, bucket: str, created: float, doc: dict[str, Any] | None = None) -> None:
        self._run("INSERT OR REPLACE INTO buckets VALUES (?, ?, ?)", (bucket, created, json.dumps(doc or {})))

    def forget_bucket(self, bucket: str) -> None:
        self._cache = {k: v for k, v in self._cache.items() if k[0] != bucket}
        self._run("DELETE FROM buckets WHERE bucket=?", (bucket,))
        self._run("DELETE FROM objects WHERE bucket=?", (bucket,))

    # -- multipart uploads -----------------------------------------------------
    def add_upload(self, upload: Upload) -> None:
        t = upload.template
        self._run("INSERT INTO uploads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  (upload.upload_id, upload.bucket, upload.key, upload.initiated, t.size, t.mtime_ns, t.ino,
                   t.etag, t._doc()))

    def upload(self, upload_id: str) -> Upload | None:
        rows = self._run("SELECT upload_id, bucket, key, initiated, size, mtime_ns, ino, etag, doc FROM uploads "
                         "WHERE upload_id=?", (upload_id,))
        return self._upload(rows[0]) if rows else None

    def uploads(self, bucket: str) -> Iterator[Upload]:
        rows = self._run("SELECT upload_id, bucket, key, initiated, size, mtime_ns, ino, etag, doc FROM uploads "
                         "WHERE bucket=? ORDER BY key, initiated", (bucket,))
        return (self._upload(r) for r in rows)

    def all_upload_ids(self) -> set[str]:
        return {r[0] for r in self._run("SELECT upload_id FROM uploads")}

    @staticmethod
    def _upload(row: tuple[Any, ...]) -> Upload:
        return Upload(row[0], row[1], row[2], row[3], ObjectMeta._from_row(*row[4:]))

    def drop_upload(self, upload_id: str) -> None:
        self._run("DELETE FROM parts WHERE upload_id=?", (upload_id,))
        self._run("DELETE FROM uploads WHERE upload_id=?", (upload_id,))

    def put_part(self, upload_id: str, part: Part) -> None:
        self._run("INSERT OR REPLACE INTO parts VALUES (?, ?, ?, ?, ?, ?, ?)",
                  (upload_id, part.number, part.size, part.etag, part.last_modified, part.checksum, part.crc64))

    def parts(self, upload_id: str) -> list[Part]:
        rows = self._run("SELECT number, size, etag, modified, checksum, crc64 FROM parts WHERE upload_id=? "
                         "ORDER BY number", (upload_id,))
        return [Part(*r) for r in rows]
