"""Deterministic onion-service keys: the same seed and service name give the same .onion.

Pure functions (PyNaCl + hashlib). Used by the world generator (addresses in pages and
ground truth) and by the Tor network (publishing the service with that key).
"""

from __future__ import annotations

import base64
import hashlib

from nacl.signing import SigningKey

ONION_VERSION = b"\x03"


def derive_service_key(seed: int, name: str) -> bytes:
    """Return the 32-byte ed25519 seed of service ``name`` in the lab built from ``seed``."""
    return hashlib.sha256(f"onionlab/onion-key/v1/{seed}/{name}".encode()).digest()


def public_key(key: bytes) -> bytes:
    """Return the 32-byte ed25519 public key for a 32-byte ed25519 seed."""
    return bytes(SigningKey(key).verify_key)


def onion_address(key: bytes) -> str:
    """Return the v3 onion host (56 base32 characters + ``.onion``) of an ed25519 seed.

    rend-spec-v3 §6: base32(PUBKEY | CHECKSUM | VERSION), where
    CHECKSUM = SHA3-256(".onion checksum" | PUBKEY | VERSION)[:2].
    """
    pub = public_key(key)
    checksum = hashlib.sha3_256(b".onion checksum" + pub + ONION_VERSION).digest()[:2]
    return base64.b32encode(pub + checksum + ONION_VERSION).decode().lower() + ".onion"


def expanded_secret_key(key: bytes) -> bytes:
    """Return tor's 64-byte expanded ed25519 secret key (for ``ADD_ONION ED25519-V3:``).

    Tor stores the clamped scalar followed by the second half of SHA-512(seed).
    """
    digest = bytearray(hashlib.sha512(key).digest())
    digest[0] &= 248
    digest[31] &= 127
    digest[31] |= 64
    return bytes(digest)


def tor_key_blob(key: bytes) -> str:
    """Return the ``ED25519-V3:<base64>`` key argument that tor's ADD_ONION expects."""
    return "ED25519-V3:" + base64.b64encode(expanded_secret_key(key)).decode()
