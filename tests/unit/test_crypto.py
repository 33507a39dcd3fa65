import pytest
from cryptography.exceptions import InvalidTag

from verification.crypto import FieldCipher, mask_name


def test_a_field_decrypts_to_what_was_encrypted_and_the_ciphertext_hides_it():
    c = FieldCipher(bytes(32))
    blob = c.encrypt_text("张三 11010519491231002X", "name")
    assert "11010519491231002X".encode() not in blob
    assert c.decrypt_text(blob, "name") == "张三 11010519491231002X"


def test_a_ciphertext_moved_to_another_column_does_not_decrypt():
    c = FieldCipher(bytes(32))
    with pytest.raises(InvalidTag):
        c.decrypt_text(c.encrypt_text("x", "name"), "document_number")


def test_keyed_hashes_are_stable_and_depend_on_the_secret():
    a, b = FieldCipher(bytes(32)), FieldCipher(bytes(range(32)))
    assert a.keyed_hash("1", "n") == a.keyed_hash("1", "n")
    assert a.keyed_hash("1", "n") != b.keyed_hash("1", "n")


def test_a_short_secret_is_refused():
    with pytest.raises(ValueError):
        FieldCipher(b"short")


def test_names_are_masked_after_their_first_character():
    assert mask_name("张三丰") == "张**"
