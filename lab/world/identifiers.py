"""Deterministic cryptocurrency addresses (valid ones and checksum-failing decoys).

``make(kind, secret, variant)`` turns 32 secret bytes into a real address of one chain:

* ``btc``: ``p2pkh`` (``1…``), ``p2sh`` (``3…``, P2SH-wrapped P2WPKH), ``p2wpkh`` (``bc1q…``,
  BIP173 bech32) and ``p2tr`` (``bc1p…``, BIP350 bech32m, BIP341 key-path output key);
* ``ltc``: ``p2pkh`` (``L…``), ``p2sh`` (``M…``), ``p2wpkh`` (``ltc1q…``);
* ``xmr``: ``standard`` (prefix 18, ``4…``) and ``subaddress`` (prefix 42, ``8…``), from real
  ed25519 spend/view keys, Keccak-256 checksum, Monero's 8-byte-block Base58;
* ``eth``: EIP-55 mixed-case address of a real secp256k1 public key;
* ``trx``: TRON ``T…`` address (0x41 ‖ 20 bytes, Base58Check) of a real secp256k1 key.

``decoy(kind, secret, variant)`` gives a string with the same length, alphabet and prefix as
the valid address but a wrong checksum (for ``eth``: a wrong mixed-case checksum), and
``onion_decoy(secret)`` a 56-character onion host (ending in ``d``) with a wrong checksum.

Written from the specifications (BIP13/141/173/341/350, EIP-55, Monero's base58.cpp
description, rend-spec-v3 §6). Deterministic and pure; depends on ``onionlab.lab.world.btc`` for
secp256k1 and HASH160, on PyNaCl for ed25519 arithmetic and on pycryptodome for Keccak-256
(``hashlib.sha3_256`` is NIST SHA3, not Keccak).
"""

from __future__ import annotations

import base64
import functools
import hashlib

from Crypto.Hash import keccak
from nacl import bindings
from nacl.signing import SigningKey

from onionlab.lab.world.btc import B58_ALPHABET, b58check_encode, compressed_pubkey, hash160

VARIANTS: dict[str, tuple[str, ...]] = {
    "btc": ("p2pkh", "p2sh", "p2wpkh", "p2tr"),
    "ltc": ("p2pkh", "p2sh", "p2wpkh"),
    "xmr": ("standard", "subaddress"),
    "eth": ("eip55",),
    "trx": ("base58check",),
}

# secp256k1 field prime and group order (SEC 2).
_P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

# Base58Check version bytes and bech32 human-readable parts.
_B58_VERSION = {("btc", "p2pkh"): 0x00, ("btc", "p2sh"): 0x05, ("ltc", "p2pkh"): 0x30,
                ("ltc", "p2sh"): 0x32}  # fmt: skip
_HRP = {"btc": "bc", "ltc": "ltc"}
_XMR_PREFIX = {"standard": 18, "subaddress": 42}
_TRON_PREFIX = 0x41

_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_CONST = 1
_BECH32M_CONST = 0x2BC830A3
_BECH32_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)

_XMR_FULL_BLOCK = 8
_XMR_BLOCK_CHARS = (0, 2, 3, 5, 6, 7, 9, 10, 11)  # encoded size of a 0…8-byte block


def _keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def _double_sha256(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def _variant(kind: str, variant: str) -> str:
    if kind not in VARIANTS:
        raise ValueError(f"unknown identifier kind {kind!r}")
    variant = variant or VARIANTS[kind][0]
    if variant not in VARIANTS[kind]:
        raise ValueError(f"unknown {kind} variant {variant!r}")
    return variant


def _check_secret(secret: bytes) -> None:
    if len(secret) != 32:
        raise ValueError("secret must be 32 bytes")


# --- secp256k1 helpers (scalar multiplication is onionlab.lab.world.btc's)
# ---------------------------


@functools.lru_cache(maxsize=4096)
def _pubkey(secret: bytes) -> bytes:
    """``compressed_pubkey`` (pure Python, ~7 ms), cached: chains share a secret's key."""
    return compressed_pubkey(secret)


def _private_scalar(secret: bytes) -> int:
    """The private key that ``onionlab.lab.world.btc.compressed_pubkey`` uses for ``secret``."""
    return int.from_bytes(secret, "big") % (_N - 1) + 1


def _point_of(scalar: int) -> bytes:
    """Compressed public key of a scalar 1 ≤ ``scalar`` < n."""
    return compressed_pubkey((scalar - 1).to_bytes(32, "big"))


def _uncompressed(pub: bytes) -> bytes:
    """The 64-byte X ‖ Y of a compressed secp256k1 public key (no 0x04 prefix)."""
    x = int.from_bytes(pub[1:], "big")
    y = pow((pow(x, 3, _P) + 7) % _P, (_P + 1) // 4, _P)
    if y & 1 != pub[0] & 1:
        y = _P - y
    return x.to_bytes(32, "big") + y.to_bytes(32, "big")


def _tagged_hash(tag: str, data: bytes) -> bytes:
    tag_hash = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(tag_hash + tag_hash + data).digest()


@functools.lru_cache(maxsize=1024)
def _taproot_output_key(secret: bytes) -> bytes:
    """BIP341 key-path-only output key (x-only, 32 bytes): Q = P + H_TapTweak(P)·G."""
    d = _private_scalar(secret)
    pub = _pubkey(secret)
    if pub[0] == 3:  # BIP340: the internal key is the even-Y lift of P
        d = _N - d
    tweak = int.from_bytes(_tagged_hash("TapTweak", pub[1:]), "big")
    q = (d + tweak) % _N or 1  # tweak ≥ n or q = 0 has probability ~2^-128
    return _point_of(q)[1:]


def _eth_bytes(secret: bytes) -> bytes:
    """The 20 account bytes of the secp256k1 key of ``secret`` (shared by ETH and TRON)."""
    return _keccak256(_uncompressed(_pubkey(secret)))[-20:]


# --- Base58Check -----------------------------------------------------------------------------


def _b58check_raw(payload: bytes, checksum: bytes) -> str:
    raw = payload + checksum
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, rem = divmod(n, 58)
        out = B58_ALPHABET[rem] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\x00"))) + out


def _b58check_decoy(payload: bytes, secret: bytes) -> str:
    """``payload`` with a wrong 4-byte checksum, encoded to the valid form's length/prefix."""
    valid = b58check_encode(payload)
    good = _double_sha256(payload)[:4]
    start = secret[-1]
    for step in range(1, 256 * 4):
        mask = (start + step) % 255 + 1
        pos = 3 - (step // 255) % 4
        bad = bytearray(good)
        bad[pos] ^= mask
        candidate = _b58check_raw(payload, bytes(bad))
        if len(candidate) == len(valid) and candidate[0] == valid[0] and candidate != valid:
            return candidate
    raise RuntimeError("no Base58Check decoy found")  # pragma: no cover


# --- Bech32 / Bech32m (BIP173, BIP350) -------------------------------------------------------


def _bech32_polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, gen in enumerate(_BECH32_GEN):
            if (top >> i) & 1:
                chk ^= gen
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _to_5bit(data: bytes) -> list[int]:
    acc = bits = 0
    out = []
    for byte in data:
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            out.append((acc >> bits) & 31)
    if bits:
        out.append((acc << (5 - bits)) & 31)
    return out


def _segwit_address(hrp: str, version: int, program: bytes, wrong: int = 0) -> str:
    """Segwit address; ``wrong`` ≠ 0 XORs the last checksum symbol (a decoy)."""
    data = [version, *_to_5bit(program)]
    const = _BECH32_CONST if version == 0 else _BECH32M_CONST
    mod = _bech32_polymod([*_hrp_expand(hrp), *data, 0, 0, 0, 0, 0, 0]) ^ const
    checksum = [(mod >> 5 * (5 - i)) & 31 for i in range(6)]
    checksum[-1] ^= wrong & 31
    return hrp + "1" + "".join(_BECH32_CHARSET[d] for d in data + checksum)


# --- Monero ----------------------------------------------------------------------------------


def _xmr_b58(data: bytes) -> str:
    """Monero Base58: 8-byte blocks → 11 characters each, the last block padded to its size."""
    out = []
    for off in range(0, len(data), _XMR_FULL_BLOCK):
        block = data[off : off + _XMR_FULL_BLOCK]
        n = int.from_bytes(block, "big")
        chars = ""
        while n:
            n, rem = divmod(n, 58)
            chars = B58_ALPHABET[rem] + chars
        out.append(chars.rjust(_XMR_BLOCK_CHARS[len(block)], B58_ALPHABET[0]))
    return "".join(out)


def _sc_reduce32(data: bytes) -> bytes:
    return bindings.crypto_core_ed25519_scalar_reduce(data + bytes(32))


def _xmr_keys(secret: bytes, variant: str) -> tuple[int, bytes, bytes]:
    """``(prefix, public spend key, public view key)`` of a Monero (sub)address."""
    spend = _sc_reduce32(secret)
    view = _sc_reduce32(_keccak256(spend))
    spend_pub = bindings.crypto_scalarmult_ed25519_base_noclamp(spend)
    view_pub = bindings.crypto_scalarmult_ed25519_base_noclamp(view)
    prefix = _XMR_PREFIX[variant]
    if variant == "subaddress":
        minor = 1 + int.from_bytes(secret[:2], "little") % 50
        index = (0).to_bytes(4, "little") + minor.to_bytes(4, "little")
        m = _sc_reduce32(_keccak256(b"SubAddr\x00" + view + index))
        spend_pub = bindings.crypto_core_ed25519_add(
            spend_pub, bindings.crypto_scalarmult_ed25519_base_noclamp(m)
        )
        view_pub = bindings.crypto_scalarmult_ed25519_noclamp(view, spend_pub)
    return prefix, spend_pub, view_pub


def _xmr_address(secret: bytes, variant: str, wrong: int = 0) -> str:
    prefix, spend_pub, view_pub = _xmr_keys(secret, variant)
    body = bytes([prefix]) + spend_pub + view_pub  # prefixes < 128: a one-byte varint
    checksum = bytearray(_keccak256(body)[:4])
    checksum[3] ^= wrong & 0xFF
    return _xmr_b58(body + bytes(checksum))


# --- Ethereum --------------------------------------------------------------------------------


def _eip55(account: bytes) -> str:
    hex_lower = account.hex()
    digest = _keccak256(hex_lower.encode()).hex()
    return "0x" + "".join(
        c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c for i, c in enumerate(hex_lower)
    )


def _eth_decoy(secret: bytes) -> str:
    """An EIP-55-looking address (mixed case) whose case pattern is not its checksum."""
    for n in range(1000):
        source = secret if n == 0 else hashlib.sha256(secret + n.to_bytes(2, "big")).digest()
        valid = _eip55(_eth_bytes(source))[2:]
        letters = [i for i, c in enumerate(valid) if c.isalpha()]
        if len(letters) < 3:
            continue
        start = secret[0] % len(letters)
        for k in range(len(letters)):
            i = letters[(start + k) % len(letters)]
            flipped = valid[:i] + valid[i].swapcase() + valid[i + 1 :]
            if not flipped.islower() and not flipped.isupper():
                return "0x" + flipped
    raise RuntimeError("no EIP-55 decoy found")  # pragma: no cover


# --- public API ------------------------------------------------------------------------------


def _btc_like(kind: str, secret: bytes, variant: str) -> bytes | tuple[int, bytes]:
    """Base58Check payload (bytes) or segwit ``(version, program)`` of a BTC/LTC address."""
    pub = _pubkey(secret)
    if variant == "p2pkh":
        return bytes([_B58_VERSION[kind, variant]]) + hash160(pub)
    if variant == "p2sh":  # P2SH-P2WPKH: HASH160 of the redeem script OP_0 <20-byte key hash>
        return bytes([_B58_VERSION[kind, variant]]) + hash160(b"\x00\x14" + hash160(pub))
    if variant == "p2wpkh":
        return 0, hash160(pub)
    return 1, _taproot_output_key(secret)


def make(kind: str, secret: bytes, variant: str = "") -> str:
    """A valid address of chain ``kind`` (see ``VARIANTS``) for 32 secret bytes.

    ``variant`` defaults to the first entry of ``VARIANTS[kind]``. Same input, same output.
    Key conventions: secp256k1 chains use ``onionlab.lab.world.btc``'s private key for ``secret``
    (``int(secret) mod (n-1) + 1``; ``p2sh`` is P2SH-P2WPKH, ``p2tr`` the key-path-only
    BIP341 output); Monero's private spend key is ``sc_reduce32(secret)``, the view key
    ``sc_reduce32(Keccak(spend))``, and a subaddress has index
    ``(0, 1 + int.from_bytes(secret[:2], "little") % 50)``. ETH and TRON share the account.
    """
    variant = _variant(kind, variant)
    _check_secret(secret)
    if kind in ("btc", "ltc"):
        shape = _btc_like(kind, secret, variant)
        if isinstance(shape, bytes):
            return b58check_encode(shape)
        return _segwit_address(_HRP[kind], *shape)
    if kind == "xmr":
        return _xmr_address(secret, variant)
    if kind == "eth":
        return _eip55(_eth_bytes(secret))
    return b58check_encode(bytes([_TRON_PREFIX]) + _eth_bytes(secret))


def decoy(kind: str, secret: bytes, variant: str = "") -> str:
    """A look-alike of ``make(kind, secret, variant)`` that fails its checksum.

    Same length, alphabet and prefix as the valid address; only the checksum is wrong
    (for ``eth``: the address is mixed case but the case pattern is not the EIP-55 one).
    """
    variant = _variant(kind, variant)
    _check_secret(secret)
    wrong = secret[-1] % 31 + 1  # a non-zero XOR for a checksum symbol/byte
    if kind in ("btc", "ltc"):
        shape = _btc_like(kind, secret, variant)
        if isinstance(shape, bytes):
            return _b58check_decoy(shape, secret)
        return _segwit_address(_HRP[kind], *shape, wrong=wrong)
    if kind == "xmr":
        return _xmr_address(secret, variant, wrong=wrong)
    if kind == "eth":
        return _eth_decoy(secret)
    return _b58check_decoy(bytes([_TRON_PREFIX]) + _eth_bytes(secret), secret)


def onion_decoy(secret: bytes) -> str:
    """A v3 onion host (56 characters, no ``.onion``, ending in ``d``) with a wrong checksum.

    The public key is the real ed25519 key of ``secret``; only the 2-byte checksum is off.
    """
    _check_secret(secret)
    pub = bytes(SigningKey(secret).verify_key)
    checksum = bytearray(hashlib.sha3_256(b".onion checksum" + pub + b"\x03").digest()[:2])
    checksum[secret[-1] % 2] ^= secret[0] % 255 + 1
    return base64.b32encode(pub + bytes(checksum) + b"\x03").decode().lower()
