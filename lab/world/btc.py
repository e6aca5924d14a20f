"""Deterministic Bitcoin P2PKH addresses (Base58Check, version 0x00).

A 32-byte seed becomes a secp256k1 private key; the address is Base58Check(0x00 ‖
HASH160(compressed public key)). Pure Python (standard library only), including a RIPEMD-160
fallback for OpenSSL builds without it, so the same seed gives the same address everywhere.
"""

from __future__ import annotations

import hashlib
import struct

# secp256k1 domain parameters (SEC 2).
_P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_G = (
    0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
    0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8,
)
B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _point_add(p: tuple[int, int] | None, q: tuple[int, int] | None) -> tuple[int, int] | None:
    if p is None:
        return q
    if q is None:
        return p
    if p[0] == q[0] and (p[1] + q[1]) % _P == 0:
        return None
    if p == q:
        lam = 3 * p[0] * p[0] * pow(2 * p[1], -1, _P) % _P
    else:
        lam = (q[1] - p[1]) * pow(q[0] - p[0], -1, _P) % _P
    x = (lam * lam - p[0] - q[0]) % _P
    return x, (lam * (p[0] - x) - p[1]) % _P


def compressed_pubkey(secret: bytes) -> bytes:
    """The 33-byte compressed secp256k1 public key of a 32-byte secret (reduced mod n)."""
    k = int.from_bytes(secret, "big") % (_N - 1) + 1
    result: tuple[int, int] | None = None
    addend: tuple[int, int] | None = _G
    while k:
        if k & 1:
            result = _point_add(result, addend)
        addend = _point_add(addend, addend)
        k >>= 1
    assert result is not None
    return bytes([2 + (result[1] & 1)]) + result[0].to_bytes(32, "big")


# RIPEMD-160 (Dobbertin, Bosselaers, Preneel 1996), used when hashlib lacks it.
def _nibbles(digits: str) -> tuple[int, ...]:
    return tuple(int(c, 16) for c in digits)


# Word order and rotation amounts of the left and right lines: one hex digit a step.
_RL = _nibbles("0123456789abcdef74d1a6f3c0952eb83ae49f812706db5c19ba08c4d37fe56240597c2ae138b6fd")
_RR = _nibbles("5e7092b4d6f81a3c6b370d5aef8c4912f5137e69b8c2a04d86413bf05c2d97aecfa4158762de039b")
_SL = _nibbles("befc5879bdef6798768db97f7cf9b7dcbd67e9dfe8d65c75bcefef989e56865c9f5b68dc5cdeb856")
_SR = _nibbles("899bdff5778beec69df7c89b77c76fdb97fb866ecd5edd75f58bee6e69c9c5f885c9c5e68d65fdbb")
_KL = (0x00000000, 0x5A827999, 0x6ED9EBA1, 0x8F1BBCDC, 0xA953FD4E)
_KR = (0x50A28BE6, 0x5C4DD124, 0x6D703EF3, 0x7A6D76E9, 0x00000000)
_M32 = 0xFFFFFFFF


def _f(j: int, x: int, y: int, z: int) -> int:
    if j < 16:
        return x ^ y ^ z
    if j < 32:
        return (x & y) | (~x & z)
    if j < 48:
        return ((x | ~y) & _M32) ^ z
    if j < 64:
        return (x & z) | (y & ~z)
    return x ^ ((y | ~z) & _M32)


def _rol(x: int, n: int) -> int:
    return ((x << n) | (x >> (32 - n))) & _M32


def ripemd160_pure(data: bytes) -> bytes:
    """RIPEMD-160 in pure Python (slow; only for the few addresses of a world)."""
    h = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0]
    msg = data + b"\x80" + b"\x00" * ((55 - len(data)) % 64) + struct.pack("<Q", len(data) * 8)
    for off in range(0, len(msg), 64):
        x = struct.unpack("<16I", msg[off : off + 64])
        al, bl, cl, dl, el = h
        ar, br, cr, dr, er = h
        for j in range(80):
            t = _rol((al + (_f(j, bl, cl, dl) & _M32) + x[_RL[j]] + _KL[j >> 4]) & _M32, _SL[j])
            al, el, dl, cl, bl = el, dl, _rol(cl, 10), bl, (t + el) & _M32
            t = _rol(
                (ar + (_f(79 - j, br, cr, dr) & _M32) + x[_RR[j]] + _KR[j >> 4]) & _M32, _SR[j]
            )
            ar, er, dr, cr, br = er, dr, _rol(cr, 10), br, (t + er) & _M32
        t = (h[1] + cl + dr) & _M32
        h[1] = (h[2] + dl + er) & _M32
        h[2] = (h[3] + el + ar) & _M32
        h[3] = (h[4] + al + br) & _M32
        h[4] = (h[0] + bl + cr) & _M32
        h[0] = t
    return struct.pack("<5I", *h)


def ripemd160(data: bytes) -> bytes:
    try:
        return hashlib.new("ripemd160", data).digest()
    except ValueError:  # OpenSSL 3 builds without the legacy provider
        return ripemd160_pure(data)


def hash160(data: bytes) -> bytes:
    return ripemd160(hashlib.sha256(data).digest())


def b58check_encode(payload: bytes) -> str:
    """Base58Check: payload ‖ SHA256(SHA256(payload))[:4], Bitcoin alphabet."""
    raw = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, rem = divmod(n, 58)
        out = B58_ALPHABET[rem] + out
    pad = len(raw) - len(raw.lstrip(b"\x00"))
    return "1" * pad + out


def p2pkh_address(secret: bytes) -> str:
    """Mainnet P2PKH address ("1…") of the key derived from a 32-byte ``secret``."""
    return b58check_encode(b"\x00" + hash160(compressed_pubkey(secret)))
