"""Local document storage: round trip, write-once, keys confined to the root, private files."""

from __future__ import annotations

import os
import re
import stat
from datetime import UTC, datetime, timedelta
from pathlib import PurePath

import pytest

from crm.compliance.crypto import PiiCipher, PiiDecryptError, PiiKeyring
from crm.loans.storage import (
    DocumentExists,
    DocumentNotFound,
    EncryptedStorage,
    InvalidKey,
    LocalStorage,
    StorageError,
    is_storage_key,
    storage_key,
)


@pytest.fixture
def storage(tmp_path):
    return LocalStorage(tmp_path / "documents")


def test_put_then_get_returns_the_same_bytes(storage):
    key = storage_key(3, 17, ".pdf")
    storage.put(key, b"%PDF-1.7 income proof")
    assert storage.get(key) == b"%PDF-1.7 income proof"


def test_a_stored_document_is_never_overwritten(storage):
    key = storage_key(3, 17, ".jpg")
    storage.put(key, b"original")
    with pytest.raises(DocumentExists):
        storage.put(key, b"replacement")
    assert storage.get(key) == b"original"


def test_no_temporary_file_is_left_behind(storage):
    key = storage_key(3, 17, ".jpg")
    storage.put(key, b"original")
    with pytest.raises(DocumentExists):
        storage.put(key, b"replacement")
    folder = storage.root / "org-3" / "app-17"
    assert [p.name for p in folder.iterdir()] == [key.rsplit("/", 1)[1]]


def test_missing_document_raises_not_found(storage):
    with pytest.raises(DocumentNotFound) as missing:
        storage.get("org-3/app-17/nothing.pdf")
    assert isinstance(missing.value, StorageError)
    assert isinstance(missing.value, KeyError)


def test_delete_removes_and_tolerates_a_second_delete(storage):
    key = storage_key(3, 17, ".png")
    storage.put(key, b"png")
    storage.delete(key)
    storage.delete(key)
    with pytest.raises(DocumentNotFound):
        storage.get(key)


@pytest.mark.parametrize(
    "key",
    [
        "../outside.pdf",
        "org-3/../../outside.pdf",
        "org-3/app-17/..",
        "/etc/passwd",
        "org-3\\..\\outside.pdf",
        "org-3/app-17/a\x00.pdf",
        "org-3//a.pdf",
        "org-3/.hidden",
        "C:/windows.pdf",
        "",
        "a" * 513,
    ],
)
def test_keys_that_could_escape_the_root_are_refused(storage, key):
    for operation in (lambda: storage.put(key, b"x"), lambda: storage.get(key)):
        with pytest.raises(InvalidKey):
            operation()
    with pytest.raises(InvalidKey):
        storage.delete(key)
    assert not (storage.root.parent / "outside.pdf").exists()


def test_a_symlink_inside_the_root_cannot_lead_out(storage, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    storage.root.mkdir()
    (storage.root / "org-3").symlink_to(outside)
    with pytest.raises(InvalidKey):
        storage.put("org-3/a.pdf", b"x")
    assert list(outside.iterdir()) == []


def test_files_and_folders_are_private_to_the_service_user(storage):
    key = storage_key(3, 17, ".pdf")
    old_umask = os.umask(0o000)  # even a permissive umask must not widen them
    try:
        storage.put(key, b"secret")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((storage.root / key).stat().st_mode) == 0o600
    for folder in (storage.root, storage.root / "org-3", storage.root / "org-3" / "app-17"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_storage_keys_are_scoped_and_unguessable():
    first, second = storage_key(3, 17, ".pdf"), storage_key(3, 17, ".pdf")
    assert re.fullmatch(r"org-3/app-17/[0-9a-f]{32}\.pdf", first)
    assert first != second


@pytest.mark.parametrize(
    ("org_id", "application_id", "extension"),
    [(0, 1, ".pdf"), (1, -2, ".pdf"), (True, 1, ".pdf"), (1, 1, "pdf"), (1, 1, ".p/df")],
)
def test_storage_key_refuses_bad_parts(org_id, application_id, extension):
    with pytest.raises(ValueError):
        storage_key(org_id, application_id, extension)


def test_an_encrypted_store_keeps_no_plain_bytes_on_disk_and_refuses_a_swapped_file(tmp_path):
    cipher = PiiCipher(PiiKeyring.from_json(PiiKeyring.generate_json()))
    store = EncryptedStorage(LocalStorage(tmp_path), cipher)
    photo = b"\xff\xd8\xff" + "张三 110101199003071234".encode() * 20
    store.put("org-1/app-1/a.jpg", photo)
    store.put("org-1/app-1/b.jpg", b"\xff\xd8\xff other")

    on_disk = (tmp_path / "org-1/app-1/a.jpg").read_bytes()
    assert "张三".encode() not in on_disk and b"110101199003071234" not in on_disk
    assert store.get("org-1/app-1/a.jpg") == photo
    # a file copied over another's name does not decrypt: the key is bound to its place
    os.replace(tmp_path / "org-1/app-1/a.jpg", tmp_path / "org-1/app-1/b.jpg")
    with pytest.raises(PiiDecryptError):
        store.get("org-1/app-1/b.jpg")


def test_reseal_writes_the_document_anew_under_the_active_key_and_leaves_the_old_file(tmp_path):
    before = PiiKeyring.from_json(PiiKeyring.generate_json())
    after = PiiKeyring.from_json(before.rotated_json())
    old_store = EncryptedStorage(LocalStorage(tmp_path), PiiCipher(before))
    store = EncryptedStorage(LocalStorage(tmp_path), PiiCipher(after))
    old_store.put("org-1/app-1/a.jpg", b"\xff\xd8\xff photo")

    assert store.reseal("org-1/app-1/a.jpg", "org-1/app-1/b.jpg")
    # the new file is sealed with the active key for its own place; the old one is the caller's
    assert (tmp_path / "org-1/app-1/b.jpg").read_bytes().startswith(b"k2.")
    assert store.get("org-1/app-1/b.jpg") == b"\xff\xd8\xff photo"
    assert old_store.get("org-1/app-1/a.jpg") == b"\xff\xd8\xff photo"
    # already under the active key: nothing is written
    assert not store.reseal("org-1/app-1/b.jpg", "org-1/app-1/c.jpg")
    assert not (tmp_path / "org-1/app-1/c.jpg").exists()


def test_keys_lists_what_was_stored_before_a_moment_and_no_temporary_file(storage):
    old, new = storage_key(3, 17, ".pdf"), storage_key(3, 18, ".png")
    storage.put(old, b"old")
    storage.put(new, b"new")
    folder = storage.root / "org-3" / "app-17"
    (folder / ".tmp-abandoned").write_bytes(b"half")
    (folder / ".tmp-in-progress").write_bytes(b"half")
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    for name in (old, "org-3/app-17/.tmp-abandoned"):
        os.utime(storage.root / name, (hour_ago.timestamp() - 60,) * 2)

    assert list(storage.keys(older_than=hour_ago)) == [old]
    assert sorted(storage.keys(older_than=datetime.now(UTC) + timedelta(minutes=1))) == sorted(
        [old, new]
    )
    assert storage.remove_abandoned(older_than=hour_ago) == 1
    assert sorted(p.name for p in folder.iterdir()) == [".tmp-in-progress", PurePath(old).name]


def test_is_storage_key_knows_only_the_names_the_store_gives():
    assert is_storage_key(storage_key(3, 17, ".pdf"))
    for other in ("README", "org-3/app-17/notes.pdf", "org-3/app-17/" + "a" * 32, "lost+found"):
        assert not is_storage_key(other)
