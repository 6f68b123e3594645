"""One `git cat-file --batch` process for many objects: blobs for CI's thousands, and in a hook
run everything read by name (the settings and trust files of HEAD or the parent, which commit a
name is, an entry's mode), so a hook costs few git processes."""

from __future__ import annotations

import os
import subprocess
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

ZERO = "0" * 40


class BlobReader:
    """Blobs read are kept (objects never change; up to CACHE_BYTES): a range reads each
    version once to hand it to the validator early and again to audit it. Which commit a name
    is, is kept too: only for as long as the reader is open, since a name can move."""

    CACHE_BYTES = 32 << 20
    BATCH = 64  # names written before reading answers: their bytes fit any pipe's buffer

    def __init__(self, cwd: Path | None = None) -> None:
        self.cwd = cwd
        self.proc = subprocess.Popen(
            ["git", "cat-file", "--batch"], cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self._kept: OrderedDict[str, bytes] = OrderedDict()
        self._kept_bytes = 0
        self._commits: dict[str, tuple[str, bytes] | None] = {}

    def read(self, sha: str) -> bytes | None:
        if sha == ZERO:
            return None
        if sha in self._kept:
            return self._kept[sha]
        return self._keep(sha, self._object(sha))

    def read_many(self, shas: Sequence[str]) -> None:
        """Read these blobs into the cache in few round trips (answers read after a batch of
        names is written, not one by one)."""
        wanted = list(dict.fromkeys(s for s in shas if s != ZERO and s not in self._kept))
        for at in range(0, len(wanted), self.BATCH):
            batch = wanted[at : at + self.BATCH]
            assert self.proc.stdin is not None
            self.proc.stdin.write(b"".join(os.fsencode(s) + b"\n" for s in batch))
            self.proc.stdin.flush()
            for sha in batch:
                self._keep(sha, self._answer())

    def _keep(self, sha: str, data: bytes | None) -> bytes | None:
        if data is not None and len(data) <= self.CACHE_BYTES:
            self._kept[sha] = data
            self._kept_bytes += len(data)
            while self._kept_bytes > self.CACHE_BYTES:
                self._kept_bytes -= len(self._kept.popitem(last=False)[1])
        return data

    def read_at(self, rev: str, path: str) -> bytes | None:
        """Bytes of `path` at `rev` without a git process of its own; None if absent there."""
        if "\n" in path:  # a batch name ends at a newline
            return read_blob_process(rev, path, cwd=self.cwd)
        return self._object(f"{rev}:{path.lstrip('/')}")

    def commit(self, rev: str) -> tuple[str, bytes] | None:
        """(id, raw commit object) of the commit `rev` names, as `rev-parse --verify
        rev^{commit}` finds it; None when it names none. Asked once per name."""
        if rev not in self._commits:
            found = self._typed(f"{rev}^{{commit}}")
            self._commits[rev] = (found[0], found[2]) if found and found[1] == "commit" else None
        return self._commits[rev]

    def entry_mode(self, rev: str, path: str) -> str | None:
        """The git mode of `path` in `rev`'s tree (as ls-tree prints it); None when absent."""
        parent, _, name = path.strip("/").rpartition("/")
        found = self._typed(f"{rev}:{parent}")
        if found is None or found[1] != "tree":
            return None
        data, want, at = found[2], os.fsencode(name), 0
        while at < len(data):
            space = data.index(b" ", at)
            nul = data.index(b"\0", space)
            if data[space + 1 : nul] == want:
                return data[at:space].decode().zfill(6)
            at = nul + 21  # the entry's 20-byte object id follows the name
        return None

    def _object(self, name: str) -> bytes | None:
        found = self._typed(name)
        return found[2] if found and found[1] == "blob" else None

    def _typed(self, name: str) -> tuple[str, str, bytes] | None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(os.fsencode(name) + b"\n")
        self.proc.stdin.flush()
        return self._answer_typed()

    def _answer(self) -> bytes | None:
        found = self._answer_typed()
        return found[2] if found and found[1] == "blob" else None

    def _answer_typed(self) -> tuple[str, str, bytes] | None:
        assert self.proc.stdout is not None
        header = self.proc.stdout.readline().split()
        if len(header) < 3 or header[-1] in (b"missing", b"ambiguous"):
            return None
        size = int(header[2])
        data = self.proc.stdout.read(size)
        self.proc.stdout.read(1)  # trailing newline
        return header[0].decode(), header[1].decode(), data

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_blob_process(rev: str, path: str, *, cwd: Path | None = None) -> bytes | None:
    """`read_blob` by a process of its own (any path, a newline in it too)."""
    proc = subprocess.run(
        ["git", "cat-file", "blob", os.fsencode(f"{rev}:{path.lstrip('/')}")],
        cwd=cwd,
        capture_output=True,
        check=False,
    )
    return proc.stdout if proc.returncode == 0 else None
