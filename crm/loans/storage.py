"""Write-once storage for application documents, kept outside the web root behind one interface."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Protocol

from crm.compliance.crypto import PiiCipher

# Each key segment starts with a letter or digit, so "..", hidden files and our own ".tmp-"
# files can never be named by a key; the narrow alphabet also rules out "\\", ":" and NUL.
SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
MAX_KEY_LENGTH = 512
EXTENSION = re.compile(r"\.[a-z0-9]{1,8}")
TOKEN_BYTES = 16  # 128 random bits: a key cannot be guessed from its org and application ids
FILE_MODE = 0o600
DIR_MODE = 0o700
TEMPORARY = ".tmp-"  # a file being written; no key can name it (SEGMENT)


class StorageError(Exception):
    """Base of the storage errors; none of them is the user's doing, so none is a DomainError."""


class InvalidKey(StorageError, ValueError):
    """The key is malformed or would resolve outside the storage root."""


class DocumentExists(StorageError, FileExistsError):
    """`put` to a key that already holds a document: stored documents are never overwritten."""


class DocumentNotFound(StorageError, KeyError):
    """No document under the key."""

    # KeyError would print repr(key) in quotes; read like the other storage errors instead.
    __str__ = Exception.__str__


class DocumentStorage(Protocol):
    """Where application documents live: local folder today, an object store later."""

    def put(self, key: str, data: bytes) -> None:
        """Store `data` under a new `key`; DocumentExists if the key is taken."""
        ...

    def get(self, key: str) -> bytes:
        """The document under `key`; DocumentNotFound if there is none."""
        ...

    def delete(self, key: str) -> None:
        """Remove the document under `key`; a missing key is not an error."""
        ...

    def keys(self, older_than: datetime) -> Iterator[str]:
        """The key of every document stored before `older_than` (to find those no row names)."""
        ...

    def remove_abandoned(self, older_than: datetime) -> int:
        """Remove what a store interrupted before `older_than` left (a crashed `put`'s
        temporary file); how many."""
        ...


def storage_key(org_id: int, application_id: int, extension: str) -> str:
    """A fresh, unguessable key for one document of an application: "org-3/app-17/3f2a….pdf"."""
    for name, value in (("org_id", org_id), ("application_id", application_id)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} must be a positive integer")
    if not EXTENSION.fullmatch(extension):
        raise ValueError(f"extension must look like '.pdf', not {extension!r}")
    return f"org-{org_id}/app-{application_id}/{secrets.token_hex(TOKEN_BYTES)}{extension}"


_GIVEN_KEY = re.compile(rf"org-\d+/app-\d+/[0-9a-f]{{{2 * TOKEN_BYTES}}}{EXTENSION.pattern}")


def is_storage_key(key: str) -> bool:
    """Whether `key` has the shape storage_key() gives: what the store itself named."""
    return _GIVEN_KEY.fullmatch(key) is not None


class LocalStorage:
    """Documents as files under `root` (the app passes instance_path / "documents")."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        self._make_dirs(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMPORARY)  # created 0o600
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            # link() is the atomic rename that refuses an existing target; os.replace would
            # silently overwrite, and checking first would race with a concurrent put.
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise DocumentExists(f"a document is already stored under {key}") from None
        finally:
            os.unlink(tmp)
        _fsync_dir(path.parent)

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise DocumentNotFound(f"no document under {key}") from None

    def delete(self, key: str) -> None:
        path = self._path(key)
        # Idempotent, so a rollback hook or a re-run retention job may delete twice.
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            _fsync_dir(path.parent)

    def keys(self, older_than: datetime) -> Iterator[str]:
        for key, path in self._files(lambda name: not name.startswith(TEMPORARY)):
            # anything else put in the folder is no key; a file's age is read only for keys
            if _is_key(key) and _written_before(path, older_than):
                yield key

    def remove_abandoned(self, older_than: datetime) -> int:
        removed = 0
        for _, path in self._files(lambda name: name.startswith(TEMPORARY)):
            if _written_before(path, older_than):
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def _files(self, named: Callable[[str], bool]) -> Iterator[tuple[str, Path]]:
        """(key, path) of each file whose name `named` accepts, by the folders' listings."""
        for folder, _, names in os.walk(self.root):
            for name in filter(named, names):
                path = Path(folder, name)
                yield path.relative_to(self.root).as_posix(), path

    def _path(self, key: str) -> Path:
        if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_LENGTH:
            raise InvalidKey("a storage key is a non-empty string of at most 512 characters")
        if not _is_key(key):
            raise InvalidKey(f"invalid storage key {key!r}")
        root = self.root.resolve()
        path = root.joinpath(*key.split("/"))
        # The key is clean, but a symlink planted inside the root could still lead out of it.
        if not path.resolve().is_relative_to(root):
            raise InvalidKey(f"storage key {key!r} leads outside the storage root")
        return path

    def _make_dirs(self, directory: Path) -> None:
        # os.makedirs applies `mode` to the leaf only; every level gets 0o700 here.
        self.root.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        root = self.root.resolve()
        current = root
        for part in directory.relative_to(root).parts:
            current = current / part
            with contextlib.suppress(FileExistsError):
                current.mkdir(mode=DIR_MODE)


def _written_before(path: Path, moment: datetime) -> bool:
    try:
        return path.stat().st_mtime < moment.timestamp()
    except FileNotFoundError:  # deleted since its folder was read
        return False


def _is_key(key: str) -> bool:
    return all(SEGMENT.fullmatch(segment) for segment in key.split("/"))


def _fsync_dir(directory: Path) -> None:
    """Make a new or removed directory entry durable, not just the file's bytes."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class EncryptedStorage:
    """Documents are ID card photos, bank statements and credit reports: personal data kept
    encrypted at rest like the lead's own fields (AES-GCM with the PII keyring, bound to the
    storage key), so a copied disk or backup folder discloses nothing."""

    def __init__(self, inner: DocumentStorage, cipher: PiiCipher) -> None:
        self.inner = inner
        self.cipher = cipher

    @property
    def root(self) -> Path:
        return self.inner.root

    def put(self, key: str, data: bytes) -> None:
        self.inner.put(key, self.cipher.seal(data, _context(key)))

    def get(self, key: str) -> bytes:
        return self.cipher.unseal(self.inner.get(key), _context(key))

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def keys(self, older_than: datetime) -> Iterator[str]:
        return self.inner.keys(older_than)

    def remove_abandoned(self, older_than: datetime) -> int:
        return self.inner.remove_abandoned(older_than)

    def reseal(self, key: str, new_key: str) -> bool:
        """Store the document under `key` again under `new_key`, sealed with the active key,
        unless it is sealed with that key already (False: nothing written). A stored file is
        never rewritten in place, so the caller points its row at `new_key` and deletes `key`
        once that is committed."""
        blob = self.inner.get(key)
        if not self.cipher.needs_resealing(blob):
            return False
        self.put(new_key, self.cipher.unseal(blob, _context(key)))
        return True


def _context(key: str) -> str:
    """The associated data a document is sealed with: its storage key, so a file moved into
    another's place does not open."""
    return f"document:{key}"
