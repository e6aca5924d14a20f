"""Identifiers, contacts, clearsigned messages and vocabularies of the world generator.

Every generated identifier is checked with independent, maintained libraries (bip-utils,
base58, eth-utils, PyNaCl, GnuPG), never with ``onionlab.lab.world``'s own encoders; every decoy
must fail the same checks.
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import re
import shutil
import subprocess
import tempfile
from decimal import Decimal

import base58
import pytest
from bip_utils import (
    CoinsConf,
    EthAddrDecoder,
    EthAddrEncoder,
    Monero,
    P2PKHAddrDecoder,
    P2PKHAddrEncoder,
    P2SHAddrDecoder,
    P2SHAddrEncoder,
    P2TRAddrDecoder,
    P2TRAddrEncoder,
    P2WPKHAddrDecoder,
    P2WPKHAddrEncoder,
    Secp256k1PrivateKey,
    TrxAddrDecoder,
    TrxAddrEncoder,
    XmrAddrDecoder,
)
from eth_utils import is_checksum_address, to_checksum_address
from nacl.bindings import crypto_sign_ed25519_pk_to_curve25519
from nacl.signing import SigningKey

from onionlab.lab.world import contacts, identifiers, vocab
from onionlab.lab.world.data_files import load_data
from onionlab.lab.world.identities import build_identities
from onionlab.lab.world.pgp import clearsign, make_key

SAMPLES = 200
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SECRETS = [hashlib.sha256(f"test-identifiers/{i}".encode()).digest() for i in range(SAMPLES)]

BTC = CoinsConf.BitcoinMainNet
LTC = CoinsConf.LitecoinMainNet
XMR_STANDARD = b"\x12"
XMR_SUBADDRESS = b"\x2a"
BASE58 = re.compile(r"^[1-9A-HJ-NP-Za-km-z]+$")
BECH32 = re.compile(r"^[a-z0-9]+1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]+$")


def _pubkey(secret: bytes) -> bytes:
    """The compressed secp256k1 key of ``secret`` under ``lab.world.btc``'s key convention."""
    scalar = int.from_bytes(secret, "big") % (SECP256K1_N - 1) + 1
    key = Secp256k1PrivateKey.FromBytes(scalar.to_bytes(32, "big"))
    return key.PublicKey().RawCompressed().ToBytes()


def _decoders(kind: str, variant: str):
    """``(decode, encode_from_pubkey, regex)`` for one chain variant, all from bip-utils."""
    conf = {"btc": BTC, "ltc": LTC}.get(kind)
    if kind in ("btc", "ltc") and variant == "p2pkh":
        ver = conf.ParamByKey("p2pkh_std_net_ver" if kind == "ltc" else "p2pkh_net_ver")
        return (
            lambda a: P2PKHAddrDecoder.DecodeAddr(a, net_ver=ver),
            lambda pub: P2PKHAddrEncoder.EncodeKey(pub, net_ver=ver),
        )
    if kind in ("btc", "ltc") and variant == "p2sh":
        ver = conf.ParamByKey("p2sh_std_net_ver" if kind == "ltc" else "p2sh_net_ver")
        return (
            lambda a: P2SHAddrDecoder.DecodeAddr(a, net_ver=ver),
            lambda pub: P2SHAddrEncoder.EncodeKey(pub, net_ver=ver),
        )
    if kind in ("btc", "ltc") and variant == "p2wpkh":
        hrp = conf.ParamByKey("p2wpkh_hrp")
        return (
            lambda a: P2WPKHAddrDecoder.DecodeAddr(a, hrp=hrp, wit_ver=0),
            lambda pub: P2WPKHAddrEncoder.EncodeKey(pub, hrp=hrp, wit_ver=0),
        )
    if kind == "btc" and variant == "p2tr":
        hrp = BTC.ParamByKey("p2tr_hrp")
        return (
            lambda a: P2TRAddrDecoder.DecodeAddr(a, hrp=hrp),
            lambda pub: P2TRAddrEncoder.EncodeKey(pub, hrp=hrp),
        )
    if kind == "trx":
        return TrxAddrDecoder.DecodeAddr, TrxAddrEncoder.EncodeKey
    raise AssertionError((kind, variant))


SHAPES = {
    ("btc", "p2pkh"): (r"^1", (26, 34)),
    ("btc", "p2sh"): (r"^3", (34, 34)),
    ("btc", "p2wpkh"): (r"^bc1q", (42, 42)),
    ("btc", "p2tr"): (r"^bc1p", (62, 62)),
    ("ltc", "p2pkh"): (r"^L", (34, 34)),
    ("ltc", "p2sh"): (r"^M", (34, 34)),
    ("ltc", "p2wpkh"): (r"^ltc1q", (43, 43)),
    ("trx", "base58check"): (r"^T", (34, 34)),
    ("xmr", "standard"): (r"^4[1-9AB]", (95, 95)),
    ("xmr", "subaddress"): (r"^8", (95, 95)),
    ("eth", "eip55"): (r"^0x[0-9a-fA-F]{40}$", (42, 42)),
}


def _rejects(decode, value: str) -> bool:
    try:
        decode(value)
    except (ValueError, TypeError):
        return True
    return False


@pytest.mark.parametrize(
    ("kind", "variant"),
    [(k, v) for k in ("btc", "ltc", "trx") for v in identifiers.VARIANTS[k]],
)
def test_secp256k1_addresses_validate_and_decoys_fail(kind: str, variant: str) -> None:
    decode, encode = _decoders(kind, variant)
    prefix, (low, high) = SHAPES[kind, variant]
    for secret in SECRETS:
        address = identifiers.make(kind, secret, variant)
        assert re.match(prefix, address) and low <= len(address) <= high, address
        decode(address)  # raises on a bad checksum, version, hrp or witness version
        assert address == encode(_pubkey(secret)), (kind, variant, secret.hex())
        if variant in ("p2pkh", "p2sh", "base58check"):
            assert BASE58.match(address)
            base58.b58decode_check(address)
        else:
            assert BECH32.match(address)

        fake = identifiers.decoy(kind, secret, variant)
        assert fake != address and len(fake) == len(address)
        assert re.match(prefix, fake)
        assert _rejects(decode, fake), fake
        if variant in ("p2pkh", "p2sh", "base58check"):
            assert BASE58.match(fake)
            with pytest.raises(ValueError):
                base58.b58decode_check(fake)
        else:
            assert BECH32.match(fake)
            assert fake[:-1] == address[:-1]  # only the checksum differs


@pytest.mark.parametrize("variant", identifiers.VARIANTS["xmr"])
def test_monero_addresses_validate_and_decoys_fail(variant: str) -> None:
    net_ver = XMR_STANDARD if variant == "standard" else XMR_SUBADDRESS
    prefix, (length, _) = SHAPES["xmr", variant]
    for secret in SECRETS:
        address = identifiers.make("xmr", secret, variant)
        assert re.match(prefix, address) and len(address) == length and BASE58.match(address)
        XmrAddrDecoder.DecodeAddr(address, net_ver=net_ver)  # checksum and both points
        wallet = Monero.FromSeed(secret)  # spend key = sc_reduce32(secret), view = Hs(spend)
        if variant == "standard":
            assert address == wallet.PrimaryAddress()
        else:
            minor = 1 + int.from_bytes(secret[:2], "little") % 50  # documented in make()
            assert address == wallet.Subaddress(minor, 0)
        fake = identifiers.decoy("xmr", secret, variant)
        assert fake != address and len(fake) == length and re.match(prefix, fake)
        assert BASE58.match(fake)
        assert _rejects(lambda a, nv=net_ver: XmrAddrDecoder.DecodeAddr(a, net_ver=nv), fake)


def test_ethereum_addresses_are_eip55_and_decoys_are_not() -> None:
    for secret in SECRETS:
        address = identifiers.make("eth", secret)
        assert re.match(SHAPES["eth", "eip55"][0], address)
        assert is_checksum_address(address)
        EthAddrDecoder.DecodeAddr(address)
        assert address == to_checksum_address(address.lower())
        assert address == EthAddrEncoder.EncodeKey(_pubkey(secret))
        fake = identifiers.decoy("eth", secret)
        assert len(fake) == 42 and fake.lower() == address.lower() and fake != address
        assert not fake[2:].islower() and not fake[2:].isupper()  # still mixed case
        assert not is_checksum_address(fake)
        assert _rejects(EthAddrDecoder.DecodeAddr, fake)


def test_tron_shares_the_ethereum_account_bytes() -> None:
    for secret in SECRETS[:20]:
        tron = TrxAddrDecoder.DecodeAddr(identifiers.make("trx", secret))
        eth = EthAddrDecoder.DecodeAddr(identifiers.make("eth", secret))
        assert tron == eth


def test_onion_decoys_fail_their_checksum() -> None:
    for secret in SECRETS:
        fake = identifiers.onion_decoy(secret)
        assert len(fake) == 56 and fake.endswith("d") and re.match(r"^[a-z2-7]{56}$", fake)
        raw = base64.b32decode(fake.upper())
        pub, checksum, version = raw[:32], raw[32:34], raw[34:]
        assert version == b"\x03"
        assert pub == bytes(SigningKey(secret).verify_key)
        good = hashlib.sha3_256(b".onion checksum" + pub + b"\x03").digest()[:2]
        assert checksum != good


def test_identifiers_are_deterministic_and_reject_bad_input() -> None:
    secret = SECRETS[7]
    for kind, variants in identifiers.VARIANTS.items():
        assert identifiers.make(kind, secret) == identifiers.make(kind, secret, variants[0])
        for variant in variants:
            assert identifiers.make(kind, secret, variant) == identifiers.make(
                kind, bytes(secret), variant
            )
            assert identifiers.decoy(kind, secret, variant) == identifiers.decoy(
                kind, secret, variant
            )
    assert identifiers.onion_decoy(secret) == identifiers.onion_decoy(secret)
    with pytest.raises(ValueError):
        identifiers.make("doge", secret)
    with pytest.raises(ValueError):
        identifiers.make("btc", secret, "p2wsh")
    with pytest.raises(ValueError):
        identifiers.make("btc", secret[:31])


# --- clearsign -------------------------------------------------------------------------------


def _gpg(home: str, *args: str, data: str) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, GNUPGHOME=home)
    return subprocess.run(
        ["gpg", "--batch", "--no-tty", "--status-fd", "1", *args],
        input=data.encode("utf-8"),
        env=env,
        capture_output=True,
        timeout=60,
    )


@pytest.mark.skipif(shutil.which("gpg") is None, reason="needs the gpg binary")
def test_clearsign_verifies_with_gnupg_and_tampering_fails() -> None:
    secret = hashlib.sha256(b"test-identifiers/pgp").digest()
    key = make_key(secret, "AdminTeam <admin@market.example>", created=1_650_000_000)
    text = (
        "-----BEGIN mirror list-----\n"
        "From the admins: our mirrors   \n"
        "http://abc.onion\t\n"
        "\n"
        "Мефедрон крис VHQ — 2 г, магнит\n"
        "- dashed line\n"
    )
    message = clearsign(secret, key, text, created=1_700_000_000)
    assert message.startswith("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n")
    assert "\n- -----BEGIN mirror list-----\n" in message
    assert "\n- - dashed line\n" in message
    assert message == clearsign(secret, key, text, created=1_700_000_000)  # deterministic
    with tempfile.TemporaryDirectory() as home:
        imported = _gpg(home, "--import", data=key.armored)
        assert imported.returncode == 0, imported.stderr
        good = _gpg(home, "--verify", data=message)
        assert good.returncode == 0, good.stderr
        status = good.stdout.decode()
        assert f"VALIDSIG {key.fingerprint} " in status
        assert f"GOODSIG {key.key_id} " in status
        assert " 1700000000 " in status  # signature creation time
        assert re.search(rf"VALIDSIG {key.fingerprint} \S+ \d+ 0 4 0 22 8 01 ", status)

        tampered = message.replace("2 г", "3 г")
        bad = _gpg(home, "--verify", data=tampered)
        assert bad.returncode != 0 and "BADSIG" in bad.stdout.decode()

        other = make_key(hashlib.sha256(b"other").digest(), "x <x@y.example>", 1_650_000_000)
        with pytest.raises(ValueError):
            clearsign(hashlib.sha256(b"other").digest(), key, text, 1_700_000_000)
        forged = clearsign(hashlib.sha256(b"other").digest(), other, text, 1_700_000_000)
        unknown = _gpg(home, "--verify", data=forged)
        assert unknown.returncode != 0 and "GOODSIG" not in unknown.stdout.decode()


# --- contacts --------------------------------------------------------------------------------

TELEGRAM = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,30}[A-Za-z0-9]$")  # 5–32, no trailing "_"
JID_LOCAL_FORBIDDEN = set("\"&'/:<>@ ")
RESERVED = (".example", ".test", ".invalid")
EMAIL = re.compile(r"^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?@[a-z0-9-]+(?:\.[a-z0-9-]+)*$")


def _is_onion_host(host: str) -> bool:
    label = host.removesuffix(".onion")
    if not host.endswith(".onion") or not re.fullmatch(r"[a-z2-7]{56}", label):
        return False
    raw = base64.b32decode(label.upper())
    pub, checksum = raw[:32], raw[32:34]
    return checksum == hashlib.sha3_256(b".onion checksum" + pub + b"\x03").digest()[:2]


def test_telegram_usernames_follow_telegram_rules() -> None:
    rng = random.Random(1)
    for _ in range(SAMPLES):
        name = contacts.telegram(rng)
        assert TELEGRAM.match(name) and 5 <= len(name) <= 32, name
        bot = contacts.telegram(rng, bot=True)
        assert TELEGRAM.match(bot) and 5 <= len(bot) <= 32, bot
        assert bot.lower().endswith("bot")
    first = [contacts.telegram(random.Random(5)) for _ in range(3)]
    assert len(set(first)) == 1  # deterministic for the same RNG state


def test_jabber_ids_are_lowercase_on_reserved_or_onion_domains() -> None:
    rng = random.Random(2)
    onion = 0
    for _ in range(SAMPLES):
        jid = contacts.jabber(rng)
        assert jid == jid.lower() and jid.count("@") == 1, jid
        local, domain = jid.split("@")
        assert local and len(local.encode()) <= 1023 and not set(local) & JID_LOCAL_FORBIDDEN
        if domain.endswith(".onion"):
            onion += 1
            assert _is_onion_host(domain), domain
        else:
            assert domain.endswith(RESERVED), domain
    assert 0 < onion < SAMPLES
    assert contacts.jabber(rng, "chat.example").endswith("@chat.example")
    assert contacts.jabber(random.Random(9)) == contacts.jabber(random.Random(9))


def test_session_ids_are_pynacl_x25519_keys() -> None:
    for secret in SECRETS:
        sid = contacts.session_id(secret)
        assert re.fullmatch(r"05[0-9a-f]{64}", sid)
        ed = bytes(SigningKey(secret).verify_key)
        assert sid == "05" + crypto_sign_ed25519_pk_to_curve25519(ed).hex()
        assert sid == contacts.session_id(secret)


def test_emails_are_lowercase_on_reserved_tlds() -> None:
    rng = random.Random(3)
    handles = ["SnowWhite", "ice_king420", "Dr. Green", "-Weird--Name-", "Мефедрон", "x" * 80]
    for i in range(SAMPLES):
        address = contacts.email(rng, handles[i % len(handles)])
        assert address == address.lower() and EMAIL.match(address), address
        local, domain = address.split("@")
        assert len(local) <= 64 and len(address) <= 254
        assert domain.endswith(RESERVED), domain
    assert contacts.email(random.Random(4), "A") == contacts.email(random.Random(4), "A")


# --- vocabularies ----------------------------------------------------------------------------

CYRILLIC = re.compile(r"[А-Яа-яЁё]")


def test_substances_have_english_and_cyrillic_names() -> None:
    subs = vocab.substances()
    assert len(subs) >= 40
    assert len({s.canonical for s in subs}) == len(subs)
    data = load_data("substances.json")
    slugs = {c["slug"] for c in data["categories"]}
    for sub in subs:
        assert sub.en and any(re.search(r"[A-Za-z]", n) for n in sub.en), sub
        assert any(CYRILLIC.search(n) for n in sub.ru), sub
        assert sub.category in slugs and sub.unit in ("g", "pcs") and sub.klass
        assert sub.usd_per_g > 0 and sub.weights
        assert all(Decimal(w) > 0 for w in sub.weights)
    canon = {s.canonical for s in subs}
    assert {"Mephedrone", "α-PVP", "MDMB-4en-PINACA", "Isotonitazene", "Ketamine"} <= canon
    # The market's own list is unchanged in shape (it reads names/forms/weights directly).
    for entry in data["substances"]:
        assert {"canonical", "category", "names", "forms", "usd_per_g", "weights"} <= set(entry)
        assert entry["unit"] == "g"
    assert vocab.substance("Mephedrone").ru[0] == "мефедрон"
    assert "магнит" in vocab.STASH_TYPES and vocab.STASH_GLOSSES["прикоп"] == "buried"


def test_cities_have_districts() -> None:
    cities = vocab.cities()
    assert len(cities) >= 8
    assert {c.country for c in cities} >= {"RU", "KZ", "KG", "BY"}
    for city in cities:
        assert CYRILLIC.search(city.name_ru) and city.name_en
        assert city.currency == {"RU": "RUB", "KZ": "KZT", "KG": "KGS", "BY": "BYN"}[city.country]
        assert -90 <= city.lat <= 90 and -180 <= city.lon <= 180
        assert len(city.districts) >= 4 and len(set(city.districts)) == len(city.districts)
        assert all(CYRILLIC.search(d) for d in city.districts)


def test_rates_convert_as_documented() -> None:
    rates = vocab.rates()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", rates.date)
    codes = {"EUR", "RUB", "KZT", "KGS", "BYN", "BTC", "LTC", "XMR", "ETH", "TRX", "USDT"}
    assert codes <= set(rates.usd)
    places = {"EUR": 2, "RUB": 2, "KZT": 2, "KGS": 2, "BYN": 2, "BTC": 8, "LTC": 8,
              "XMR": 12, "ETH": 6, "TRX": 6, "USDT": 6}  # fmt: skip
    for amount in (Decimal("45.00"), Decimal("1"), Decimal("1234.56")):
        for code, n in places.items():
            value = vocab.convert(amount, code)
            assert value == rates.convert(amount, code)
            assert -value.as_tuple().exponent == n, (code, value)
            exact = amount / rates.usd[code]
            assert abs(value - exact) <= Decimal(1).scaleb(-n) / 2
    assert vocab.convert(Decimal("64250"), "BTC") == Decimal("64250") / rates.usd["BTC"]
    assert vocab.convert(Decimal("10"), "usdt") == Decimal("10.000000") / rates.usd["USDT"]
    with pytest.raises(KeyError):
        vocab.convert(Decimal(1), "DOGE")


# --- identities ------------------------------------------------------------------------------


def test_identities_have_several_valid_wallets_and_contacts() -> None:
    people = build_identities(11, 1.0)
    assert people == build_identities(11, 1.0)  # deterministic
    kinds: dict[str, int] = {}
    for person in people:
        assert person.wallet("btc") and person.contact("email")
        for kind, value in person.wallets:
            kinds[kind] = kinds.get(kind, 0) + 1
            if kind == "btc":
                P2PKHAddrDecoder.DecodeAddr(value, net_ver=BTC.ParamByKey("p2pkh_net_ver"))
            elif kind == "xmr":
                net_ver = XMR_STANDARD if value[0] == "4" else XMR_SUBADDRESS
                XmrAddrDecoder.DecodeAddr(value, net_ver=net_ver)
            elif kind == "ltc":
                if value.startswith("ltc1"):
                    P2WPKHAddrDecoder.DecodeAddr(value, hrp="ltc", wit_ver=0)
                else:
                    base58.b58decode_check(value)
                    assert value[0] in "LM"
            elif kind == "eth":
                assert is_checksum_address(value)
            else:
                assert kind == "trx"
                TrxAddrDecoder.DecodeAddr(value)
        for kind, value in person.contacts:
            kinds[kind] = kinds.get(kind, 0) + 1
            if kind == "email":
                assert EMAIL.match(value) and value.split("@")[1].endswith(RESERVED)
            elif kind == "telegram":
                assert TELEGRAM.match(value)
            elif kind == "session":
                assert re.fullmatch(r"05[0-9a-f]{64}", value)
            else:
                assert kind == "jabber" and value == value.lower() and "@" in value
    n = len(people)
    assert kinds["btc"] >= n and 0.3 * n <= kinds["xmr"] <= n
    assert kinds["telegram"] >= n / 2 and kinds["email"] == n
    assert {"ltc", "eth", "trx", "jabber", "session"} <= set(kinds)
