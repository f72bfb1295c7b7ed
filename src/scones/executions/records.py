"""Where finished executions are kept: the one sink every execution's history goes through.

Each execution is one object ``<name>.json`` in the executions store (its
DescribeExecution fields and its GetExecutionHistory events), written once, when
it ends, under a temporary name and then renamed, so it is never half-written.
Writing happens on one background thread: an execution hands its record over and
goes on; ``flush`` waits until everything handed over is written and raises the
first write error. Until then the record is still found (``find``), so a
DescribeExecution right after the end never misses it.

Names are unique, as on AWS: ``reserve`` claims a name before its execution starts
with a marker file created exclusively (two processes started at once with the
same ``--name`` cannot both run); the marker holds the claiming process id, so a
claim left behind by a killed process is taken over instead of blocking the name
for ever.

Listing many executions (ListExecutions, the console) reads a small SQLite index
kept beside the store, not every history; it is rebuilt from the ``.json`` files
when it is missing or damaged.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import queue
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from scones.errors import NotFoundError, StoreError, WorkflowError
from scones.workflow.asl.executor import (
    Execution,
    ExecutionStatus,
    execution_json_text,
    execution_key,
    load_execution,
)

if TYPE_CHECKING:
    from scones.store import Store

LOG = logging.getLogger(__name__)

_STOP: Final = object()
#: Executions the writer thread takes from its queue at once (one index transaction for them).
_BATCH: Final = 64
_INDEX_COLUMNS: Final = "name, execution_arn, state_machine_arn, status, start_time, stop_time"


@dataclass(frozen=True)
class ExecutionSummary:
    """One row of ListExecutions."""

    name: str
    execution_arn: str
    state_machine_arn: str
    status: ExecutionStatus
    start_time: float
    stop_time: float | None

    @classmethod
    def of(cls, execution: Execution) -> ExecutionSummary:
        return cls(execution.name, execution.execution_arn, execution.state_machine_arn, execution.status,
                   execution.start_time, execution.stop_time)


@dataclass(frozen=True)
class Page:
    """A page of summaries, newest first, and the token of the next page (None on the last)."""

    items: list[ExecutionSummary]
    next_token: str | None


class ExecutionRecords:
    """Keeps each finished execution as ``<name>.json`` in ``store``; one writer thread, one index."""

    def __init__(self, store: Store, *, index_path: Path | None = None, max_pending: int = 256) -> None:
        from scones.store import LocalStore

        self.store = store
        self.folder: Path | None = None
        if isinstance(store, LocalStore):
            store.base.mkdir(parents=True, exist_ok=True)
            self.folder = Path(os.path.realpath(store.base))
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_pending)
        self._lock = threading.Lock()
        self._pending: dict[str, Execution] = {}
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._index = _Index(index_path, self) if index_path is not None and self.folder is not None else None

    def open_index(self) -> None:
        """Keep the listing index open and write rows straight into it (processes that list executions);
        without it, rows wait as small files until something lists."""
        if self._index is not None:
            self._index.open()

    # -- names -------------------------------------------------------------------
    def exists(self, name: str) -> bool:
        with self._lock:
            if name in self._pending:
                return True
        return self._kept(name)

    def _kept(self, name: str) -> bool:
        """Whether ``<name>.json`` is in the store. Execution names hold no ``/`` (nor anything else a
        path could escape with), so a local store is asked with one ``stat``, not the store's own
        path-safety walk (``realpath`` of every component: the cost of a StartExecution otherwise)."""
        if self.folder is not None:
            return os.path.exists(os.path.join(self.folder, execution_key(name)))
        return self.store.exists(execution_key(name))

    def reserve(self, name: str) -> bool:
        """Claim ``name`` for an execution about to start: False when a kept execution or a running one
        (in this or another process) has it. ``release`` drops the claim; writing the record does too."""
        if self.exists(name):
            return False
        if self.folder is None:  # remote stores: the existence check is what S3 offers
            return True
        marker = self._marker(name)
        try:
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            if not _claim_is_stale(marker):
                return False
            with contextlib.suppress(FileNotFoundError):
                os.unlink(marker)
            return self.reserve(name)
        try:
            os.write(fd, str(os.getpid()).encode("ascii"))
        finally:
            os.close(fd)
        if self._kept(name):  # written between the check and the claim
            self.release(name)
            return False
        return True

    def release(self, name: str) -> None:
        if self.folder is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._marker(name))

    def _marker(self, name: str) -> Path:
        assert self.folder is not None
        # ``.tmp``: the store's listing skips it like any write in progress.
        return self.folder / f".{execution_key(name)}.running.tmp"

    # -- writing -----------------------------------------------------------------
    def submit(self, execution: Execution) -> None:
        """Keep ``execution`` (finished): written in the background, found by ``find`` at once."""
        with self._lock:
            self._pending[execution.name] = execution
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name="scones-history")
                self._thread.start()
        self._queue.put(execution)

    def flush(self) -> None:
        """Wait until every submitted execution is written; raise the first write error, if any."""
        if self._thread is not None:
            self._queue.join()
        error, self._error = self._error, None
        if error is not None:
            raise WorkflowError(f"Could not keep an execution history in {self.store.uri}: {error}",
                                hint="check the store's free space and permissions, or run with --no-history") \
                from error

    def close(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.join()
            self._queue.put(_STOP)
            thread.join()
        try:
            self.flush()
        finally:
            if self._index is not None:
                self._index.close()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            # Whatever else is waiting goes with it: one index transaction for the lot (many executions
            # ending at once is when writing must keep up).
            while len(batch) < _BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                executions = [item for item in batch if item is not _STOP]
                if executions:
                    self._write_batch(executions)
                if len(executions) < len(batch):
                    return
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _write_batch(self, executions: list[Execution]) -> None:
        """Every file, then the index rows of those written; a failure is reported by ``flush`` (the
        executions themselves are unaffected) and never ends the writer thread."""
        written = []
        for execution in executions:
            try:
                self._write_file(execution)
                written.append(execution)
            except Exception as exc:
                self._failed(execution, exc)
        try:
            if self._index is not None and written:
                self._index.put_many([ExecutionSummary.of(e) for e in written])
        except Exception as exc:
            self._failed(written[0], exc)
        for execution in executions:
            try:
                self._forget(execution)
            except Exception as exc:
                self._failed(execution, exc)

    def _failed(self, execution: Execution, exc: BaseException) -> None:
        LOG.error("could not write the history of %s: %s", execution.name, exc)
        if self._error is None:
            self._error = exc

    def write(self, execution: Execution) -> None:
        """Write one execution now, on this thread."""
        try:
            self._write_file(execution)
            if self._index is not None:
                self._index.put(ExecutionSummary.of(execution))
        finally:
            self._forget(execution)

    def _write_file(self, execution: Execution) -> None:
        text = execution_json_text(execution)
        key = execution_key(execution.name)
        if self.folder is None:
            self.store.put_text(key, text)
        else:
            _write_atomically(self.folder / key, text)

    def _forget(self, execution: Execution) -> None:
        """Written (or failed): the claim on its name goes, and ``find`` reads the file from now on."""
        try:
            self.release(execution.name)
        finally:
            with self._lock:
                if self._pending.get(execution.name) is execution:
                    del self._pending[execution.name]

    # -- reading -----------------------------------------------------------------
    def find(self, name: str) -> Execution | None:
        """A kept execution by name, or None."""
        try:
            return self.load(name)
        except NotFoundError:
            return None

    def load(self, name_or_arn: str) -> Execution:
        """A kept execution by name or ARN; ``NotFoundError`` names the store, ``StoreError`` a damaged file."""
        name = name_or_arn.rsplit(":", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn
        with self._lock:
            pending = self._pending.get(name)
        if pending is not None:
            return pending
        return load_execution(self.store, name_or_arn)

    def summaries(self, *, state_machine_arn: str | None = None, status: ExecutionStatus | None = None,
                  limit: int = 100, next_token: str | None = None, name_contains: str | None = None) -> Page:
        """Kept executions, newest first, ``limit`` at a time; ``name_contains``: names holding it, any case."""
        with self._lock:
            pending = [ExecutionSummary.of(e) for e in self._pending.values()]
        if self._index is not None:
            self._index.open()  # listing: rows go straight into the database from now on
            self._index.put_many(pending)
            return self._index.page(state_machine_arn, status, limit, next_token, name_contains)
        return page_of([*pending, *self._scan()], state_machine_arn, status, limit, next_token, name_contains)

    def _scan(self) -> Iterable[ExecutionSummary]:
        """Every kept execution, read from its file (slow: for stores without an index)."""
        for key in self.store.list(""):
            if "/" in key or not key.endswith(".json"):
                continue
            try:
                summary = _summary_of(self.store.get_text(key))
            except (StoreError, ValueError, KeyError, TypeError) as exc:
                LOG.warning("skipping %s in %s: %s", key, self.store.uri, exc)
                continue
            yield summary


def _write_atomically(path: Path, text: str) -> None:
    """``store.atomic_write_bytes`` for the hot path: the folder exists, the writer thread's id makes the
    temporary name unique (no ``mkstemp`` retries, no ``fchmod``), one ``write`` call."""
    tmp = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, text.encode("utf-8"))
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _claim_is_stale(marker: Path) -> bool:
    """A claim whose process is gone (killed before it could release it)."""
    try:
        pid = int(marker.read_text("ascii").strip() or "0")
    except (OSError, ValueError):
        return False  # being written right now, or unreadable: respect it
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _summary_of(text: str) -> ExecutionSummary:
    """The record part of a ``<name>.json`` file (the history is not needed for a list)."""
    from scones.workflow.asl.executor import _parse_iso

    d = json.loads(text)["execution"]
    return ExecutionSummary(d["name"], d["executionArn"], d["stateMachineArn"], ExecutionStatus(d["status"]),
                            _parse_iso(d["startDate"]), _parse_iso(d["stopDate"]) if "stopDate" in d else None)


def encode_token(start_time: float, name: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([start_time, name]).encode()).decode("ascii")


def decode_token(token: str) -> tuple[float, str]:
    """The position after which the next page starts; a token we did not make is a user error."""
    try:
        start, name = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        return float(start), str(name)
    except (ValueError, TypeError, UnicodeError) as exc:
        raise InvalidToken(f"Invalid Token: {token!r} is not a token this server gave out") from exc


class InvalidToken(WorkflowError):
    """A ``nextToken`` that was not handed out by a list call."""


def page_of(rows: Iterable[ExecutionSummary], machine: str | None, status: ExecutionStatus | None, limit: int,
            token: str | None, name_contains: str | None = None, *, more: bool = False) -> Page:
    """The page of ``rows`` the filters and ``token`` choose, as the index would answer it; a name given twice
    keeps its last row. ``more``: rows beyond these exist elsewhere (another page of the index)."""
    needle = name_contains.casefold() if name_contains else None
    chosen = {r.name: r for r in rows
              if (machine is None or r.state_machine_arn == machine) and (status is None or r.status is status)
              and (needle is None or needle in r.name.casefold())}
    ordered = sorted(chosen.values(), key=lambda r: (-r.start_time, r.name))
    if token is not None:
        start, name = decode_token(token)
        ordered = [r for r in ordered if (-r.start_time, r.name) > (-start, name)]
    return _first(ordered, limit, more=more)


def _first(ordered: list[ExecutionSummary], limit: int, *, more: bool = False) -> Page:
    """The first ``limit`` of ``ordered`` (newest first), with the token of what follows, if anything does."""
    items = ordered[:limit]
    more = more or len(ordered) > limit
    return Page(items, encode_token(items[-1].start_time, items[-1].name) if more and items else None)


class _Index:
    """ListExecutions without reading every history: one row per kept execution, in SQLite.

    A process that lists (``scones up``, the console, a batch) opens the database and writes rows
    straight into it. A short run that never lists (``scones workflow run``) does not pay for SQLite
    once the database exists: it appends its row to ``<index>.rows``, a JSON Lines journal, which the
    next lister takes in before it answers. One journal, not a file per row: after 100,000 scripted
    runs, taking in 100,000 small files took 85 s; the journal is one read and one transaction.
    (``<index>.pending/``, one file per row, is what earlier versions left; it is still taken in.)
    """

    def __init__(self, path: Path, records: ExecutionRecords) -> None:
        self.path = path
        self.pending = path.with_name(path.name + ".pending")
        self.journal = path.with_name(path.name + ".rows")
        self.records = records
        self._lock = threading.Lock()
        self._db: Any = None  # opened on first list (or ``open``): a short CLI run never opens it

    def open(self) -> None:
        """Write rows into the database from now on (long-lived processes)."""
        with self._lock:
            self._connection()

    def _connection(self) -> Any:
        """The database, opened (and built from the kept files, when new) on first use; call with the lock.

        It holds nothing the ``.json`` files do not: a damaged one (a crash, a disk filling up) is
        deleted and built again, rather than ending every listing with SQLite's error.
        """
        if self._db is not None:
            return self._db
        import sqlite3

        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            try:
                self._db = self._open(sqlite3)
            except sqlite3.DatabaseError as exc:
                if isinstance(exc, sqlite3.OperationalError):  # locked, unreadable: not damage, nothing to rebuild
                    raise
                LOG.warning("the executions index %s is damaged (%s): building it again from the kept executions",
                            self.path, exc)
                for suffix in ("", "-wal", "-shm"):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(f"{self.path}{suffix}")
                self._db = self._open(sqlite3)
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot open the executions index {self.path}: {exc}",
                             hint="check that folder's permissions and free space; deleting the file is safe "
                                  "(it is built again from the kept executions)") from exc
        return self._db

    def _open(self, sqlite3: Any) -> Any:
        """Connect, make the schema, and fill a new database from the kept files."""
        fresh = not self.path.exists()
        db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=10)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS executions (name TEXT PRIMARY KEY, execution_arn TEXT, "
                       "state_machine_arn TEXT, status TEXT, start_time REAL, stop_time REAL)")
            db.execute("CREATE INDEX IF NOT EXISTS by_start ON executions (start_time DESC, name)")
            db.execute("CREATE INDEX IF NOT EXISTS by_machine ON executions "
                       "(state_machine_arn, start_time DESC, name)")
            if fresh:
                _insert(db, [_row(r) for r in self.records._scan()])
        except BaseException:
            db.close()
            raise
        return db

    def _take_in_pending(self, db: Any) -> None:
        """Rows short runs left (the journal, and row files of earlier versions): into the database in one
        transaction, then their files go (call with the lock)."""
        rows, taken = _take_journal(self.journal)
        try:
            names = os.listdir(self.pending)
        except FileNotFoundError:
            names = []
        for name in names:
            if name.endswith(".tmp"):
                continue
            path = self.pending / name
            try:
                rows.append(_row_of(json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError, IndexError, KeyError, TypeError) as exc:
                LOG.warning("skipping the pending index row %s: %s", path, exc)
            taken.append(path)
        if rows:
            _insert(db, rows)
        for path in taken:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def put(self, row: ExecutionSummary) -> None:
        self.put_many([row])

    def put_many(self, rows: list[ExecutionSummary]) -> None:
        if not rows:
            return
        with self._lock:
            if self._db is None and self.path.exists():  # nobody lists in this process: leave them in the journal
                _append_rows(self.journal, [_row(r) for r in rows])
                return
            # A process that lists, or the first run in this home: the database (made now, when missing).
            _insert(self._connection(), [_row(r) for r in rows])

    def page(self, machine: str | None, status: ExecutionStatus | None, limit: int, token: str | None,
             name_contains: str | None = None) -> Page:
        where: list[str] = []
        args: list[Any] = []
        if name_contains:
            # instr(lower(...)) rather than LIKE: no wildcard characters to escape in a user's text.
            where.append("instr(lower(name), ?) > 0")
            args.append(name_contains.lower())
        if machine is not None:
            where.append("state_machine_arn = ?")
            args.append(machine)
        if status is not None:
            where.append("status = ?")
            args.append(status.value)
        if token is not None:
            start, name = decode_token(token)
            where.append("(start_time < ? OR (start_time = ? AND name > ?))")
            args += [start, start, name]
        sql = (f"SELECT {_INDEX_COLUMNS} FROM executions" + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY start_time DESC, name LIMIT ?")
        with self._lock:
            db = self._connection()
            self._take_in_pending(db)
            rows = db.execute(sql, [*args, limit + 1]).fetchall()
        return _first([ExecutionSummary(r[0], r[1], r[2], ExecutionStatus(r[3]), r[4], r[5]) for r in rows], limit)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def _row(r: ExecutionSummary) -> tuple[Any, ...]:
    return (r.name, r.execution_arn, r.state_machine_arn, r.status.value, r.start_time, r.stop_time)


def _row_of(values: Any) -> tuple[Any, ...]:
    """A row read back from JSON: the six columns, or an error for anything else."""
    if not isinstance(values, list) or len(values) != 6 or not all(isinstance(v, str) for v in values[:4]):
        raise ValueError(f"not an index row: {values!r}")
    return tuple(values)


def _insert(db: Any, rows: list[tuple[Any, ...]]) -> None:
    """One transaction for the lot: the connection autocommits, which would make one per row."""
    db.execute("BEGIN")
    try:
        db.executemany(f"INSERT OR REPLACE INTO executions ({_INDEX_COLUMNS}) VALUES (?,?,?,?,?,?)", rows)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _append_rows(journal: Path, rows: list[tuple[Any, ...]]) -> None:
    """Append whole lines to the journal under a shared lock, which a taker's exclusive lock waits for.

    A taker renames the journal before reading it: a writer that opened the file just before holds its
    shared lock (so the taker reads after this write), or finds the name now points elsewhere and
    opens the new journal. ``O_APPEND`` keeps concurrent writers' lines whole.
    """
    import fcntl

    data = "".join(json.dumps(row) + "\n" for row in rows).encode("utf-8")
    journal.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(100):
        fd = os.open(journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            try:
                current = os.stat(journal).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                current = False
            if current:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                return
        finally:
            os.close(fd)  # and the lock with it
    raise OSError(f"could not append to {journal}: it kept being taken away")


def _take_journal(journal: Path) -> tuple[list[tuple[Any, ...]], list[Path]]:
    """The rows of the journal, taken under a name of this lister's (and of any a killed lister left).

    Rows are whole executions' summaries: taking one twice (two listers at once) inserts it twice, which
    ``INSERT OR REPLACE`` makes harmless.
    """
    import fcntl

    with contextlib.suppress(FileNotFoundError):
        os.rename(journal, journal.with_name(f"{journal.name}.{os.getpid()}.{threading.get_ident()}.taking"))
    rows: list[tuple[Any, ...]] = []
    taken: list[Path] = []
    for path in journal.parent.glob(f"{journal.name}.*.taking"):
        try:
            with open(path, "rb") as file:
                fcntl.flock(file.fileno(), fcntl.LOCK_EX)  # writers that opened it before the rename finish
                data = file.read()
        except FileNotFoundError:
            continue  # another lister took it
        for line in data.splitlines():
            try:
                rows.append(_row_of(json.loads(line)))
            except ValueError as exc:
                LOG.warning("skipping a line of the index journal %s: %s", path, exc)
        taken.append(path)
    return rows, taken
