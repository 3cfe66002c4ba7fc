"""Unit tests for PII encryption, key rotation and blind indexes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

import pytest

from crm.compliance.crypto import PiiCipher, PiiDecryptError, PiiKeyring


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _keyring_json(**overrides: object) -> str:
    data: dict[str, object] = {
        "active": "k1",
        "keys": {"k1": _b64(os.urandom(32))},
        "index_key": _b64(os.urandom(32)),
    }
    data.update(overrides)
    return json.dumps(data)


def _flip_ciphertext_bit(token: str) -> str:
    key_id, payload = token.split(".", 1)
    blob = bytearray(base64.urlsafe_b64decode(payload))
    blob[12] ^= 0x01  # first ciphertext byte, just past the nonce
    return f"{key_id}.{_b64(bytes(blob))}"


@pytest.fixture
def keyring() -> PiiKeyring:
    return PiiKeyring.from_json(PiiKeyring.generate_json())


@pytest.fixture
def cipher(keyring: PiiKeyring) -> PiiCipher:
    return PiiCipher(keyring)


# --- encrypt / decrypt ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "plaintext", ["13800135678", "110101199003071234", "欧阳娜娜", "", "张 三·😀"]
)
def test_round_trip_returns_original_text(cipher: PiiCipher, plaintext: str) -> None:
    token = cipher.encrypt(plaintext, "lead.name")
    assert cipher.decrypt(token, "lead.name") == plaintext


def test_token_is_prefixed_with_active_key_id(cipher: PiiCipher) -> None:
    token = cipher.encrypt("13800135678", "lead.phone")
    assert token.startswith("k1.")
    assert PiiCipher.key_id_of(token) == "k1"


def test_same_plaintext_encrypts_differently_each_time(cipher: PiiCipher) -> None:
    tokens = {cipher.encrypt("13800135678", "lead.phone") for _ in range(50)}
    assert len(tokens) == 50


def test_token_never_contains_the_plaintext(cipher: PiiCipher) -> None:
    for plaintext in ["13800135678", "110101199003071234", "张三", "John Smith"]:
        token = cipher.encrypt(plaintext, "lead.name")
        assert plaintext not in token
        assert plaintext.encode() not in base64.urlsafe_b64decode(token.split(".", 1)[1])


def test_token_is_nonce_plus_ciphertext_plus_tag(cipher: PiiCipher) -> None:
    token = cipher.encrypt("13800135678", "lead.phone")
    blob = base64.urlsafe_b64decode(token.split(".", 1)[1])
    assert len(blob) == 12 + len("13800135678") + 16


def test_token_moved_to_another_field_does_not_decrypt(cipher: PiiCipher) -> None:
    token = cipher.encrypt("13800135678", "lead.phone")
    with pytest.raises(PiiDecryptError):
        cipher.decrypt(token, "lead.id_number")


def test_tampered_ciphertext_does_not_decrypt(cipher: PiiCipher) -> None:
    token = cipher.encrypt("13800135678", "lead.phone")
    with pytest.raises(PiiDecryptError):
        cipher.decrypt(_flip_ciphertext_bit(token), "lead.phone")


def test_tampered_nonce_does_not_decrypt(cipher: PiiCipher) -> None:
    token = cipher.encrypt("13800135678", "lead.phone")
    key_id, payload = token.split(".", 1)
    blob = bytearray(base64.urlsafe_b64decode(payload))
    blob[0] ^= 0x01
    with pytest.raises(PiiDecryptError):
        cipher.decrypt(f"{key_id}.{_b64(bytes(blob))}", "lead.phone")


@pytest.mark.parametrize(
    "token",
    ["", "no-separator", "k1.", ".abc", "k1.not base64!", "k1.AAAA", "k1." + "A" * 8],
)
def test_malformed_token_raises_decrypt_error(cipher: PiiCipher, token: str) -> None:
    with pytest.raises(PiiDecryptError):
        cipher.decrypt(token, "lead.phone")


def test_token_with_stray_characters_is_rejected(cipher: PiiCipher) -> None:
    # A lenient decoder would skip the junk and accept a string that was never issued.
    key_id, payload = cipher.encrypt("13800135678", "lead.phone").split(".", 1)
    with pytest.raises(PiiDecryptError):
        cipher.decrypt(f"{key_id}.{payload[:4]}\n{payload[4:]}", "lead.phone")


def test_unknown_key_id_raises_decrypt_error(cipher: PiiCipher) -> None:
    _, payload = cipher.encrypt("13800135678", "lead.phone").split(".", 1)
    with pytest.raises(PiiDecryptError, match="unknown key id 'k9'"):
        cipher.decrypt(f"k9.{payload}", "lead.phone")


def test_token_from_another_keyring_does_not_decrypt(cipher: PiiCipher) -> None:
    other = PiiCipher(PiiKeyring.from_json(PiiKeyring.generate_json()))
    with pytest.raises(PiiDecryptError):
        cipher.decrypt(other.encrypt("13800135678", "lead.phone"), "lead.phone")


def test_decrypt_error_is_a_value_error() -> None:
    assert issubclass(PiiDecryptError, ValueError)


def test_encrypt_requires_a_field(cipher: PiiCipher) -> None:
    with pytest.raises(ValueError, match="field is required"):
        cipher.encrypt("13800135678", "")


# --- rotation ------------------------------------------------------------------------------


def test_rotation_adds_k2_as_active_and_keeps_k1(keyring: PiiKeyring) -> None:
    rotated = json.loads(keyring.rotated_json())
    assert rotated["active"] == "k2"
    assert set(rotated["keys"]) == {"k1", "k2"}
    assert rotated["keys"]["k1"] == json.loads(keyring.to_json())["keys"]["k1"]


def test_rotating_twice_makes_k3_active(keyring: PiiKeyring) -> None:
    twice = PiiKeyring.from_json(PiiKeyring.from_json(keyring.rotated_json()).rotated_json())
    assert twice.active_key_id == "k3"
    assert set(json.loads(twice.to_json())["keys"]) == {"k1", "k2", "k3"}


def test_rotation_does_not_change_the_original_keyring(keyring: PiiKeyring) -> None:
    before = keyring.to_json()
    keyring.rotated_json()
    assert keyring.to_json() == before
    assert keyring.active_key_id == "k1"


def test_tokens_made_before_rotation_still_decrypt(keyring: PiiKeyring) -> None:
    old_token = PiiCipher(keyring).encrypt("张三", "lead.name")
    rotated = PiiCipher(PiiKeyring.from_json(keyring.rotated_json()))
    assert rotated.decrypt(old_token, "lead.name") == "张三"


def test_new_tokens_after_rotation_use_k2(keyring: PiiKeyring) -> None:
    rotated = PiiCipher(PiiKeyring.from_json(keyring.rotated_json()))
    assert PiiCipher.key_id_of(rotated.encrypt("张三", "lead.name")) == "k2"


def test_needs_rotation_is_true_only_for_tokens_on_old_keys(keyring: PiiKeyring) -> None:
    old_token = PiiCipher(keyring).encrypt("13800135678", "lead.phone")
    rotated = PiiCipher(PiiKeyring.from_json(keyring.rotated_json()))
    assert rotated.needs_rotation(old_token)
    assert not rotated.needs_rotation(rotated.encrypt("13800135678", "lead.phone"))


def test_reencrypt_moves_token_to_active_key(keyring: PiiKeyring) -> None:
    old_token = PiiCipher(keyring).encrypt("13800135678", "lead.phone")
    rotated = PiiCipher(PiiKeyring.from_json(keyring.rotated_json()))
    new_token = rotated.reencrypt(old_token, "lead.phone")
    assert PiiCipher.key_id_of(new_token) == "k2"
    assert not rotated.needs_rotation(new_token)
    assert rotated.decrypt(new_token, "lead.phone") == "13800135678"


def test_reencrypt_with_wrong_field_raises(keyring: PiiKeyring) -> None:
    old_token = PiiCipher(keyring).encrypt("13800135678", "lead.phone")
    rotated = PiiCipher(PiiKeyring.from_json(keyring.rotated_json()))
    with pytest.raises(PiiDecryptError):
        rotated.reencrypt(old_token, "lead.name")


def test_blind_index_is_unchanged_across_rotation(keyring: PiiKeyring) -> None:
    rotated = PiiCipher(PiiKeyring.from_json(keyring.rotated_json()))
    before = PiiCipher(keyring).blind_index("phone", "13800135678")
    assert rotated.blind_index("phone", "13800135678") == before


def test_next_key_id_skips_past_highest_existing_number() -> None:
    keys = {"k1": _b64(os.urandom(32)), "k7": _b64(os.urandom(32)), "legacy": _b64(os.urandom(32))}
    keyring = PiiKeyring.from_json(_keyring_json(active="legacy", keys=keys))
    assert PiiKeyring.from_json(keyring.rotated_json()).active_key_id == "k8"


# --- blind index ---------------------------------------------------------------------------


def test_blind_index_is_64_hex_chars_and_deterministic(cipher: PiiCipher) -> None:
    digest = cipher.blind_index("phone", "13800135678")
    assert len(digest) == 64
    assert all(ch in "0123456789abcdef" for ch in digest)
    assert cipher.blind_index("phone", "13800135678") == digest


def test_blind_index_is_keyed_hmac_of_kind_and_value(keyring: PiiKeyring) -> None:
    index_key = base64.urlsafe_b64decode(json.loads(keyring.to_json())["index_key"])
    expected = hmac.new(index_key, "name:张三".encode(), hashlib.sha256).hexdigest()
    assert PiiCipher(keyring).blind_index("name", "张三") == expected


def test_blind_index_differs_by_kind(cipher: PiiCipher) -> None:
    assert cipher.blind_index("phone", "12345678") != cipher.blind_index("id_number", "12345678")


def test_blind_index_differs_by_value(cipher: PiiCipher) -> None:
    assert cipher.blind_index("phone", "13800135678") != cipher.blind_index("phone", "13800135679")


def test_blind_index_differs_by_index_key(cipher: PiiCipher) -> None:
    other = PiiCipher(PiiKeyring.from_json(PiiKeyring.generate_json()))
    assert cipher.blind_index("phone", "13800135678") != other.blind_index("phone", "13800135678")


def test_blind_index_does_not_use_the_data_key() -> None:
    data_key = _b64(os.urandom(32))
    a = PiiCipher(PiiKeyring.from_json(_keyring_json(keys={"k1": data_key})))
    b = PiiCipher(PiiKeyring.from_json(_keyring_json(keys={"k1": data_key})))
    assert a.blind_index("phone", "13800135678") != b.blind_index("phone", "13800135678")


def test_blind_index_does_not_contain_the_value(cipher: PiiCipher) -> None:
    assert "13800135678" not in cipher.blind_index("phone", "13800135678")


@pytest.mark.parametrize("kind", ["", "phone:extra"])
def test_blind_index_rejects_ambiguous_kind(cipher: PiiCipher, kind: str) -> None:
    with pytest.raises(ValueError, match="kind must be non-empty"):
        cipher.blind_index(kind, "13800135678")


# --- keyring JSON --------------------------------------------------------------------------


def test_generated_keyring_has_one_active_k1_and_32_byte_keys() -> None:
    data = json.loads(PiiKeyring.generate_json())
    assert data["active"] == "k1"
    assert list(data["keys"]) == ["k1"]
    assert len(base64.urlsafe_b64decode(data["keys"]["k1"])) == 32
    assert len(base64.urlsafe_b64decode(data["index_key"])) == 32
    assert data["keys"]["k1"] != data["index_key"]


def test_generated_keyrings_are_unique() -> None:
    assert PiiKeyring.generate_json() != PiiKeyring.generate_json()


def test_to_json_round_trips_through_from_json(keyring: PiiKeyring) -> None:
    text = keyring.to_json()
    assert PiiKeyring.from_json(text).to_json() == text


def test_from_json_accepts_standard_base64_and_missing_padding() -> None:
    raw = os.urandom(32)
    keys = {"k1": base64.b64encode(raw).decode().rstrip("=")}
    loaded = PiiKeyring.from_json(_keyring_json(keys=keys))
    assert json.loads(loaded.to_json())["keys"]["k1"] == _b64(raw)


def test_repr_does_not_reveal_key_material(keyring: PiiKeyring) -> None:
    data = json.loads(keyring.to_json())
    text = repr(keyring)
    assert data["keys"]["k1"] not in text
    assert data["index_key"] not in text
    assert "k1" in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not valid JSON"),
        ("[]", "top level must be a JSON object"),
        (_keyring_json(active=None), '"active"'),
        (_keyring_json(active="k2"), "active key 'k2' is missing"),
        (_keyring_json(keys={}), '"keys"'),
        (_keyring_json(keys=["k1"]), '"keys"'),
        (_keyring_json(keys={"k1": _b64(os.urandom(16))}), "key 'k1' must decode to 32 bytes"),
        (_keyring_json(keys={"k1": "%%%not-base64%%%"}), "key 'k1' is not valid base64"),
        (_keyring_json(keys={"k1": 42}), "key 'k1' must be a non-empty base64 string"),
        (_keyring_json(active="k.1", keys={"k.1": _b64(os.urandom(32))}), "invalid key id"),
        (_keyring_json(index_key=_b64(os.urandom(31))), '"index_key" must decode to 32 bytes'),
        (json.dumps({"active": "k1", "keys": {"k1": _b64(os.urandom(32))}}), '"index_key"'),
    ],
    ids=[
        "not-json",
        "not-object",
        "active-missing",
        "active-not-in-keys",
        "keys-empty",
        "keys-not-object",
        "key-too-short",
        "key-not-base64",
        "key-not-string",
        "key-id-with-dot",
        "index-key-too-short",
        "index-key-missing",
    ],
)
def test_from_json_rejects_malformed_keyring(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PiiKeyring.from_json(text)


def test_from_json_rejects_index_key_equal_to_a_data_key() -> None:
    shared = _b64(os.urandom(32))
    with pytest.raises(ValueError, match="index_key must differ"):
        PiiKeyring.from_json(_keyring_json(keys={"k1": shared}, index_key=shared))


def test_from_json_error_does_not_echo_key_material() -> None:
    short_key = _b64(os.urandom(16))
    with pytest.raises(ValueError, match="must decode to 32 bytes") as excinfo:
        PiiKeyring.from_json(_keyring_json(keys={"k1": short_key}))
    assert short_key not in str(excinfo.value)
