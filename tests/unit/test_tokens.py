"""The gateway's own token check refuses every forged or stale token."""

import base64
import json
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from verification.errors import TokenInvalid
from verification.tokens import TokenService, b64json, jwks_document, new_key_pair

NOW = datetime(2026, 6, 15, 4, 0, tzinfo=timezone.utc)


@pytest.fixture
def service():
    pair, _, _ = new_key_pair(NOW)
    return TokenService([pair], issuer="livegate", ttl_seconds=900)


@pytest.fixture
def token(service):
    return service.issue(subject="u1", audience="tipping", adult=True, level="document+face", now=NOW)[0]


def _sign_with(service, claims, headers=None):
    key = service.signing_key()
    return jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid, **(headers or {})})


def _claims(**over):
    base = {"iss": "livegate", "sub": "u1", "aud": "tipping", "iat": int(NOW.timestamp()),
            "exp": int(NOW.timestamp()) + 600, "jti": "j1", "real_name": True, "adult": True,
            "level": "document+face"}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def test_a_fresh_token_verifies_with_pyjwt_against_the_published_jwks(service, token):
    doc = jwks_document(service.keys.values())
    jwk = doc["keys"][0]
    assert jwk["kid"] == jwt.get_unverified_header(token)["kid"]
    public = jwt.PyJWK(jwk).key
    claims = jwt.decode(token, public, algorithms=["EdDSA"], audience="tipping",
                        options={"verify_exp": False})
    assert claims["sub"] == "u1" and claims["real_name"] is True and claims["adult"] is True
    assert {"iss", "sub", "aud", "iat", "exp", "jti", "level"} <= claims.keys()


def test_the_gateway_accepts_its_own_fresh_token(service, token):
    assert service.verify(token, audience="tipping", now=NOW)["sub"] == "u1"


def test_an_expired_token_fails(service, token):
    with pytest.raises(TokenInvalid) as err:
        service.verify(token, audience="tipping", now=NOW + timedelta(seconds=901))
    assert err.value.reason == "token_expired"


def test_a_token_for_another_audience_fails(service, token):
    with pytest.raises(TokenInvalid) as err:
        service.verify(token, audience="broadcasting", now=NOW)
    assert err.value.reason == "token_audience"


@pytest.mark.parametrize("missing", ["exp", "aud", "sub", "jti", "iss"])
def test_a_token_without_a_required_claim_fails(service, missing):
    forged = _sign_with(service, _claims(**{missing: None}))
    with pytest.raises(TokenInvalid):
        service.verify(forged, audience="tipping", now=NOW)


def test_an_unsigned_alg_none_token_fails(service):
    forged = b64json({"alg": "none", "typ": "JWT", "kid": service.signing_key().kid}) + "." + b64json(_claims()) + "."
    with pytest.raises(TokenInvalid) as err:
        service.verify(forged, audience="tipping", now=NOW)
    assert err.value.reason in ("token_algorithm", "token_malformed")


def test_an_hs256_token_keyed_with_the_public_key_fails(service):
    key = service.signing_key()
    pem = key.public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = b64json({"alg": "HS256", "typ": "JWT", "kid": key.kid})
    payload = b64json(_claims())
    import hashlib
    import hmac

    sig = hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    forged = f"{header}.{payload}." + base64.urlsafe_b64encode(sig).decode().rstrip("=")
    with pytest.raises(TokenInvalid) as err:
        service.verify(forged, audience="tipping", now=NOW)
    assert err.value.reason == "token_algorithm"


def test_a_token_with_a_tampered_payload_fails(service, token):
    header, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["adult"] = True
    claims["sub"] = "someone-else"
    with pytest.raises(TokenInvalid) as err:
        service.verify(f"{header}.{b64json(claims)}.{sig}", audience="tipping", now=NOW)
    assert err.value.reason == "token_invalid"


def test_a_token_signed_by_an_unknown_key_fails(service):
    other, _, _ = new_key_pair(NOW)
    forged = jwt.encode(_claims(), other.private_key, algorithm="EdDSA", headers={"kid": other.kid})
    with pytest.raises(TokenInvalid) as err:
        service.verify(forged, audience="tipping", now=NOW)
    assert err.value.reason == "token_unknown_key"


def test_a_token_signed_by_another_key_under_a_known_kid_fails(service):
    other, _, _ = new_key_pair(NOW)
    forged = jwt.encode(_claims(), other.private_key, algorithm="EdDSA",
                        headers={"kid": service.signing_key().kid})
    with pytest.raises(TokenInvalid):
        service.verify(forged, audience="tipping", now=NOW)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "...", "eyJ.eyJ.x"])
def test_garbage_is_refused_as_malformed_not_crashing(service, garbage):
    with pytest.raises(TokenInvalid):
        service.verify(garbage, audience="tipping", now=NOW)


def test_after_rotation_old_tokens_still_verify_and_new_ones_use_the_new_key(service, token):
    newer, _, _ = new_key_pair(NOW + timedelta(seconds=1))
    rotated = TokenService(list(service.keys.values()) + [newer], "livegate", 900)
    assert rotated.verify(token, audience="tipping", now=NOW)["sub"] == "u1"
    fresh = rotated.issue(subject="u2", audience="tipping", adult=False, level="x", now=NOW)[0]
    assert jwt.get_unverified_header(fresh)["kid"] == newer.kid
