"""Field-level PII encryption (AES-256-GCM with rotatable keys) and keyed blind indexes."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16

# Key ids end up as the prefix of every stored token, so they must never contain the "." separator.
_KEY_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")
_GENERATED_ID_RE = re.compile(r"k([1-9][0-9]*)")
_PAYLOAD_RE = re.compile(r"[A-Za-z0-9_-]+={0,2}")


class PiiDecryptError(ValueError):
    """A token that cannot be turned back into plaintext: unknown key, tampering, or wrong field."""


def _b64encode_key(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _b64decode_key(name: str, value: Any) -> bytes:
    if not isinstance(value, str) or not value:
        raise ValueError(f"keyring: {name} must be a non-empty base64 string")
    # Accept both alphabets and missing padding: keys are pasted into env vars by hand.
    text = value.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError(f"keyring: {name} is not valid base64") from None
    if len(raw) != KEY_BYTES:
        # Report only the length: the message may reach logs, the key material must not.
        raise ValueError(f"keyring: {name} must decode to {KEY_BYTES} bytes, got {len(raw)}")
    return raw


def _parse_object(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (TypeError, json.JSONDecodeError) as exc:
        # The decoder's message carries only a position, never the offending text.
        raise ValueError(f"keyring: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("keyring: top level must be a JSON object")
    return data


def _parse_data_keys(raw_keys: Any) -> dict[str, bytes]:
    if not isinstance(raw_keys, dict) or not raw_keys:
        raise ValueError('keyring: "keys" must be a non-empty object of key id -> base64 key')
    for key_id in raw_keys:
        _check_key_id(key_id)
    return {key_id: _b64decode_key(f"key {key_id!r}", enc) for key_id, enc in raw_keys.items()}


def _check_key_id(key_id: str) -> None:
    if not _KEY_ID_RE.fullmatch(key_id):
        raise ValueError(f"keyring: invalid key id {key_id!r} (use 1-32 letters, digits, - or _)")


class PiiKeyring:
    """Versioned AES-256-GCM data keys plus one separate, never-rotated blind-index key."""

    active_key_id: str

    def __init__(self, active_key_id: str, keys: Mapping[str, bytes], index_key: bytes) -> None:
        for key_id in keys:
            _check_key_id(key_id)
        if active_key_id not in keys:
            raise ValueError(f"keyring: active key {active_key_id!r} is not among the keys")
        if any(len(k) != KEY_BYTES for k in (*keys.values(), index_key)):
            raise ValueError(f"keyring: every key must be {KEY_BYTES} bytes")
        # One key per purpose; a shared one would also be retired by rotation, orphaning indexes.
        if index_key in keys.values():
            raise ValueError("keyring: index_key must differ from every data key")
        self.active_key_id = active_key_id
        self._keys = dict(keys)
        self._index_key = index_key

    def __repr__(self) -> str:
        # Never let key bytes reach logs or tracebacks.
        return f"PiiKeyring(active={self.active_key_id!r}, key_ids={sorted(self._keys)!r})"

    @classmethod
    def from_json(cls, text: str) -> PiiKeyring:
        data = _parse_object(text)
        active = data.get("active")
        if not isinstance(active, str) or not active:
            raise ValueError('keyring: "active" must be a non-empty key id string')
        keys = _parse_data_keys(data.get("keys"))
        if active not in keys:
            raise ValueError(f'keyring: active key {active!r} is missing from "keys"')
        if "index_key" not in data:
            raise ValueError('keyring: "index_key" is missing')
        index_key = _b64decode_key('"index_key"', data["index_key"])
        return cls(active, keys, index_key)

    @staticmethod
    def generate_json() -> str:
        return PiiKeyring("k1", {"k1": os.urandom(KEY_BYTES)}, os.urandom(KEY_BYTES)).to_json()

    def rotated_json(self) -> str:
        new_id = self._next_key_id()
        keys = {**self._keys, new_id: os.urandom(KEY_BYTES)}
        # The index key is deliberately carried over: rotating it would orphan every stored index.
        return PiiKeyring(new_id, keys, self._index_key).to_json()

    def to_json(self) -> str:
        return json.dumps(
            {
                "active": self.active_key_id,
                "keys": {key_id: _b64encode_key(raw) for key_id, raw in self._keys.items()},
                "index_key": _b64encode_key(self._index_key),
            }
        )

    def _next_key_id(self) -> str:
        numbers = [int(m.group(1)) for m in map(_GENERATED_ID_RE.fullmatch, self._keys) if m]
        return f"k{max(numbers, default=0) + 1}"


class PiiCipher:
    """Encrypts PII per column and computes blind indexes; safe to share across threads."""

    def __init__(self, keyring: PiiKeyring) -> None:
        self._active_key_id = keyring.active_key_id
        # Same-module access to the raw keys keeps key bytes off PiiKeyring's public surface.
        # AESGCM and HMAC setup are costly relative to one small field; the import does millions.
        self._aeads = {key_id: AESGCM(raw) for key_id, raw in keyring._keys.items()}
        self._active_aead = self._aeads[self._active_key_id]
        self._index_mac = hmac.new(keyring._index_key, digestmod=hashlib.sha256)

    @property
    def active_key_id(self) -> str:
        return self._active_key_id

    def encrypt(self, plaintext: str, field: str) -> str:
        if not field:
            raise ValueError("field is required: it binds the ciphertext to its column")
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._active_aead.encrypt(nonce, plaintext.encode("utf-8"), field.encode("utf-8"))
        payload = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return f"{self._active_key_id}.{payload}"

    def decrypt(self, token: str, field: str) -> str:
        key_id, blob = _split_token(token)
        aead = self._aeads.get(key_id)
        if aead is None:
            raise PiiDecryptError(f"unknown key id {key_id!r}; is the keyring missing a key?")
        try:
            plain = aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], field.encode("utf-8"))
        except InvalidTag:
            raise PiiDecryptError(f"token failed authentication for field {field!r}") from None
        return plain.decode("utf-8")

    def seal(self, data: bytes, context: str) -> bytes:
        """Binary AES-GCM for files (documents, contracts): `<key id>.` + nonce + ciphertext,
        bound to `context` (the file's storage key) so a file cannot be swapped for another."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._active_aead.encrypt(nonce, data, context.encode("utf-8"))
        return f"{self._active_key_id}.".encode("ascii") + nonce + sealed

    def unseal(self, blob: bytes, context: str) -> bytes:
        key_id, sep, rest = blob.partition(b".")
        aead = self._aeads.get(key_id.decode("ascii", "replace")) if sep else None
        if aead is None or len(rest) < NONCE_BYTES + TAG_BYTES:
            raise PiiDecryptError("not a sealed file, or its key is missing from the keyring")
        try:
            return aead.decrypt(rest[:NONCE_BYTES], rest[NONCE_BYTES:], context.encode("utf-8"))
        except InvalidTag:
            raise PiiDecryptError(f"file failed authentication for {context!r}") from None

    def needs_resealing(self, blob: bytes) -> bool:
        """Whether a sealed file is sealed with another key than the active one."""
        key_id, sep, _ = blob.partition(b".")
        return not sep or key_id.decode("ascii", "replace") != self._active_key_id

    @staticmethod
    def key_id_of(token: str) -> str:
        key_id, sep, _ = token.partition(".")
        if not sep or not key_id:
            raise PiiDecryptError("malformed token: expected '<key id>.<payload>'")
        return key_id

    def needs_rotation(self, token: str) -> bool:
        return self.key_id_of(token) != self._active_key_id

    def reencrypt(self, token: str, field: str) -> str:
        return self.encrypt(self.decrypt(token, field), field)

    def blind_index(self, kind: str, normalized_value: str) -> str:
        # A ":" inside kind would let ("a:b", "c") and ("a", "b:c") hash the same message.
        if not kind or ":" in kind:
            raise ValueError(f"blind index kind must be non-empty and contain no ':': {kind!r}")
        mac = self._index_mac.copy()
        mac.update(f"{kind}:{normalized_value}".encode())
        return mac.hexdigest()


def _split_token(token: str) -> tuple[str, bytes]:
    key_id = PiiCipher.key_id_of(token)
    payload = token[len(key_id) + 1 :]
    # urlsafe_b64decode silently skips stray characters; a token must round-trip byte for byte.
    if not _PAYLOAD_RE.fullmatch(payload):
        raise PiiDecryptError("malformed token: payload is not urlsafe base64")
    try:
        blob = base64.urlsafe_b64decode(payload)
    except binascii.Error:
        raise PiiDecryptError("malformed token: payload is not urlsafe base64") from None
    if len(blob) < NONCE_BYTES + TAG_BYTES:
        raise PiiDecryptError("malformed token: payload too short")
    return key_id, blob
