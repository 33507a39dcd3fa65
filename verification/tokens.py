"""Signed tokens: EdDSA (Ed25519) JWTs with a ``kid``, verified offline against the JWKS."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import TokenInvalid

ALGORITHM = "EdDSA"
AUDIENCES = ("tipping", "broadcasting")
REQUIRED_CLAIMS = ["iss", "sub", "aud", "iat", "exp", "jti"]


@dataclass(frozen=True)
class KeyPair:
    """A signing key as the token service uses it."""

    kid: str
    private_key: Ed25519PrivateKey | None
    public_key: Ed25519PublicKey
    created_at: datetime
    retired_at: datetime | None = None


def new_key_pair(now: datetime) -> tuple[KeyPair, str, bytes]:
    """A fresh Ed25519 pair: the KeyPair, its public PEM and its private key as raw PKCS8 DER."""
    private = Ed25519PrivateKey.generate()
    public = private.public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    kid = base64.urlsafe_b64encode(hashlib.sha256(raw).digest()[:12]).decode().rstrip("=")
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    der = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return KeyPair(kid, private, public, now), pem.decode(), der


def load_key_pair(kid: str, public_pem: str, private_der: bytes | None, created_at: datetime,
                  retired_at: datetime | None) -> KeyPair:
    public = serialization.load_pem_public_key(public_pem.encode())
    private = serialization.load_der_private_key(private_der, password=None) if private_der else None
    if not isinstance(public, Ed25519PublicKey) or (private is not None and not isinstance(private, Ed25519PrivateKey)):
        raise ValueError(f"key {kid} is not an Ed25519 key")
    return KeyPair(kid, private, public, created_at, retired_at)


def jwk(key: KeyPair) -> dict[str, str]:
    """The public half as a JWK (RFC 8037 OKP)."""
    raw = key.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        "kty": "OKP", "crv": "Ed25519", "alg": ALGORITHM, "use": "sig", "kid": key.kid,
        "x": base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }


class TokenService:
    """Issues and checks tokens with the newest key; older public keys still verify."""

    def __init__(self, keys: Iterable[KeyPair], issuer: str, ttl_seconds: int) -> None:
        self.keys = {k.kid: k for k in keys}
        self.issuer = issuer
        self.ttl = timedelta(seconds=ttl_seconds)

    def signing_key(self) -> KeyPair:
        live = [k for k in self.keys.values() if k.private_key is not None and k.retired_at is None]
        if not live:
            raise RuntimeError("no signing key: run `livegate init-db` or `livegate rotate-keys`")
        return max(live, key=lambda k: k.created_at)

    def issue(self, *, subject: str, audience: str, adult: bool, level: str, now: datetime,
              extra: dict[str, Any] | None = None) -> tuple[str, datetime]:
        """A signed token for ``subject`` and its expiry."""
        if audience not in AUDIENCES:
            raise ValueError(f"unknown audience {audience!r}")
        key = self.signing_key()
        expires = now + self.ttl
        claims = {
            "iss": self.issuer, "sub": subject, "aud": audience,
            "iat": int(now.timestamp()), "nbf": int(now.timestamp()), "exp": int(expires.timestamp()),
            "jti": uuid.uuid4().hex, "real_name": True, "adult": bool(adult), "level": level,
            **(extra or {}),
        }
        token = jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})
        return token, expires.replace(microsecond=0)

    def verify(self, token: str, *, audience: str, now: datetime, leeway: int = 0) -> dict[str, Any]:
        """The claims of a valid token for ``audience``, or TokenInvalid saying why."""
        if not isinstance(token, str) or token.count(".") != 2:
            raise TokenInvalid("the token is not a JWT", "token_malformed")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenInvalid("the token header cannot be read", "token_malformed") from None
        if header.get("alg") != ALGORITHM:
            raise TokenInvalid("the token is not signed with EdDSA", "token_algorithm")
        key = self.keys.get(str(header.get("kid")))
        if key is None:
            raise TokenInvalid("the token names an unknown key", "token_unknown_key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key.public_key, algorithms=[ALGORITHM], audience=audience, issuer=self.issuer,
                options={"require": REQUIRED_CLAIMS, "verify_exp": False, "verify_nbf": False,
                         "verify_iat": False},
            )
        except jwt.InvalidAudienceError:
            raise TokenInvalid("the token is for another audience", "token_audience") from None
        except jwt.PyJWTError:
            raise TokenInvalid("the token signature or claims are not valid", "token_invalid") from None
        # Time is checked against the domain's clock, not PyJWT's wall clock, so a fixed
        # clock in tests and `--now` options agree with what the token says.
        stamp = int(now.timestamp())
        if not isinstance(claims["exp"], int) or claims["exp"] + leeway <= stamp:
            raise TokenInvalid("the token has expired", "token_expired")
        if isinstance(claims.get("nbf"), int) and claims["nbf"] - leeway > stamp:
            raise TokenInvalid("the token is not valid yet", "token_not_yet_valid")
        if claims.get("real_name") is not True:
            raise TokenInvalid("the token does not assert a real name", "token_invalid")
        return claims


def jwks_document(keys: Iterable[KeyPair]) -> dict[str, Any]:
    return {"keys": [jwk(k) for k in sorted(keys, key=lambda k: k.created_at, reverse=True)]}


def b64json(data: dict[str, Any]) -> str:
    """Base64url JSON without padding (used by tests that hand-craft tokens)."""
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")
