import pytest

from app.crypto import KEY_VERSION, NONCE_BYTES, TamperedCiphertext, Vault

CONTEXT = "tenant/member/phone"


@pytest.fixture(scope="module")
def vault() -> Vault:
    return Vault("a-test-secret")


def test_round_trip(vault):
    blob = vault.encrypt("13812345678", CONTEXT)
    assert vault.decrypt(blob, CONTEXT) == "13812345678"
    assert blob[0] == KEY_VERSION
    assert b"13812345678" not in blob
    assert vault.decrypt(vault.encrypt("王芳", CONTEXT), CONTEXT) == "王芳"


def test_each_encryption_uses_a_fresh_nonce(vault):
    a, b = vault.encrypt("13812345678", CONTEXT), vault.encrypt("13812345678", CONTEXT)
    assert a[1 : 1 + NONCE_BYTES] != b[1 : 1 + NONCE_BYTES]
    assert a != b


@pytest.mark.parametrize("position", [1, NONCE_BYTES + 1, -1])
def test_tampering_is_detected(vault, position):
    blob = bytearray(vault.encrypt("13812345678", CONTEXT))
    blob[position] ^= 0x01
    with pytest.raises(TamperedCiphertext):
        vault.decrypt(bytes(blob), CONTEXT)


def test_ciphertext_is_bound_to_its_context_and_key(vault):
    blob = vault.encrypt("13812345678", CONTEXT)
    with pytest.raises(TamperedCiphertext):
        vault.decrypt(blob, "tenant/another-member/phone")
    with pytest.raises(TamperedCiphertext):
        Vault("another-secret").decrypt(blob, CONTEXT)
    with pytest.raises(TamperedCiphertext):
        vault.decrypt(bytes([KEY_VERSION + 1]) + blob[1:], CONTEXT)  # unknown key version
    with pytest.raises(TamperedCiphertext):
        vault.decrypt(b"", CONTEXT)


def test_phone_hash_is_keyed(vault):
    h = vault.phone_hash("t1", "13812345678")
    assert len(h) == 64 and int(h, 16) >= 0
    assert h == Vault("a-test-secret").phone_hash("t1", "13812345678")  # deterministic
    assert h != Vault("another-secret").phone_hash("t1", "13812345678")
    assert h != vault.phone_hash("t2", "13812345678")  # not linkable across tenants
    assert h != vault.phone_hash("t1", "13812345679")


def test_derived_keys_are_independent(vault):
    assert len(vault.card_mac_key) == 32
    assert vault.card_mac_key == Vault("a-test-secret").card_mac_key
    assert vault.card_mac_key != Vault("another-secret").card_mac_key
    assert vault.card_mac_key not in (vault._index_key, b"a-test-secret")


def test_empty_secret_is_refused():
    with pytest.raises(ValueError):
        Vault("")
