"""The built-in ``crypto_addresses`` extractor: every valid format in, every look-alike out.

Valid samples are encoded by bip-utils and eth-utils from fixed keys (independently of the
lab's generator); the lab itself is scored occurrence by occurrence against its ground truth.
"""

from __future__ import annotations

import hashlib

import base58
import bip_utils as bu
import pytest
from bip_utils.bech32.bech32 import Bech32Encodings, Bech32Utils
from bip_utils.bech32.bech32_base import Bech32BaseConst, Bech32BaseUtils
from eth_utils import to_checksum_address
from scrapy.http import HtmlResponse, TextResponse

from onionlab.crawler.items import Entity
from onionlab.plugins import crypto_addresses
from tests.support.entity_scores import score_entities

HOST = "x" * 55 + "d.onion"
URL = f"http://{HOST}/page"
COINS = ("btc", "ltc", "xmr", "eth", "trx")
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _pubkey(label: bytes) -> bu.Secp256k1PublicKey:
    return bu.Secp256k1PrivateKey.FromBytes(hashlib.sha256(label).digest()).PublicKey()


def _monero() -> bu.Monero:
    return bu.Monero.FromSeed(hashlib.sha256(b"monero sample").digest())


def _segwit(hrp: str, version: int, program: bytes, encoding: Bech32Encodings) -> str:
    """A segwit address with the checksum of ``encoding``, whatever the version asks for."""
    data = [version, *Bech32BaseUtils.ConvertToBase32(program)]
    checksum = Bech32Utils.ComputeChecksum(hrp, data, encoding)
    return hrp + "1" + "".join(Bech32BaseConst.CHARSET[d] for d in data + checksum)


KEY = _pubkey(b"sample key")
SCRIPT_HASH = hashlib.sha256(b"sample witness script").digest()

# (type, format, address) as a wallet would print it.
VALID = [
    ("btc", "p2pkh", bu.P2PKHAddrEncoder.EncodeKey(KEY, net_ver=b"\x00")),
    ("btc", "p2sh", bu.P2SHAddrEncoder.EncodeKey(KEY, net_ver=b"\x05")),
    ("btc", "p2wpkh", bu.P2WPKHAddrEncoder.EncodeKey(KEY, hrp="bc")),
    ("btc", "p2wsh", bu.SegwitBech32Encoder.Encode("bc", 0, SCRIPT_HASH)),
    ("btc", "p2tr", bu.P2TRAddrEncoder.EncodeKey(KEY, hrp="bc")),
    ("ltc", "p2pkh", bu.P2PKHAddrEncoder.EncodeKey(KEY, net_ver=b"\x30")),
    ("ltc", "p2sh", bu.P2SHAddrEncoder.EncodeKey(KEY, net_ver=b"\x32")),
    ("ltc", "p2wpkh", bu.P2WPKHAddrEncoder.EncodeKey(KEY, hrp="ltc")),
    ("xmr", "standard", _monero().PrimaryAddress()),
    ("xmr", "subaddress", _monero().Subaddress(3)),
    ("xmr", "integrated", _monero().IntegratedAddress(bytes.fromhex("0123456789abcdef"))),
    ("eth", "eip55", bu.EthAddrEncoder.EncodeKey(KEY)),
    ("trx", "base58check", bu.TrxAddrEncoder.EncodeKey(KEY)),
]
CHECKSUMMED = [sample for sample in VALID if sample[0] != "eth"]


def page(body: str, *, plain: bool = False) -> TextResponse:
    """A page of ``URL`` with ``body`` (an HTML fragment, or plain text)."""
    if plain:
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        return TextResponse(URL, body=body.encode(), encoding="utf-8", headers=headers)
    html = f"<html><head><title>t</title></head><body>{body}</body></html>"
    return HtmlResponse(URL, body=html.encode(), encoding="utf-8")


def found(response: TextResponse) -> dict[tuple[str, str], Entity]:
    entities = crypto_addresses.onionlab_extract(response) or []
    return {(e.type, e.value): e for e in entities}


def _corrupt(address: str, position: int) -> str:
    """``address`` with one character replaced by another of the same alphabet and case."""
    alphabet = Bech32BaseConst.CHARSET if address[:4].lower() in ("bc1q", "bc1p", "ltc1") else B58
    old = address[position]
    new = next(c for c in alphabet[alphabet.find(old.lower()) + 1 :] + alphabet if c != old)
    return address[:position] + new + address[position + 1 :]


@pytest.mark.parametrize(("kind", "fmt", "address"), VALID, ids=[f"{k}-{f}" for k, f, _ in VALID])
def test_finds_every_valid_format(kind: str, fmt: str, address: str) -> None:
    (entity,) = found(page(f"<p>Pay to <code>{address}</code> only.</p>")).values()
    assert (entity.type, entity.value, entity.extra["format"]) == (kind, address, fmt)
    assert (entity.url, entity.site) == (URL, HOST)
    assert address in entity.context and "Pay to" in entity.context


@pytest.mark.parametrize(
    ("kind", "fmt", "address"), CHECKSUMMED, ids=[f"{k}-{f}" for k, f, _ in CHECKSUMMED]
)
@pytest.mark.parametrize("where", ["middle", "last"])
def test_rejects_a_corrupted_checksum(kind: str, fmt: str, address: str, where: str) -> None:
    position = len(address) // 2 if where == "middle" else len(address) - 1
    corrupted = _corrupt(address, position)
    assert corrupted != address and len(corrupted) == len(address)
    assert found(page(f"<p>{kind.upper()}: {corrupted}</p>")) == {}


def test_rejects_testnet_and_unknown_versions() -> None:
    testnet = bu.P2PKHAddrEncoder.EncodeKey(KEY, net_ver=b"\x6f")
    testnet_p2sh = bu.P2SHAddrEncoder.EncodeKey(KEY, net_ver=b"\xc4")
    testnet_segwit = bu.P2WPKHAddrEncoder.EncodeKey(KEY, hrp="tb")
    dogecoin = bu.P2PKHAddrEncoder.EncodeKey(KEY, net_ver=b"\x1e")
    stagenet = bu.XmrAddrEncoder.EncodeKey(
        _monero().PublicSpendKey().KeyObject(), pub_vkey=_monero().PublicViewKey().KeyObject(),
        net_ver=b"\x18",
    )  # fmt: skip
    body = "<br>".join([testnet, testnet_p2sh, testnet_segwit, dogecoin, stagenet])
    assert found(page(body)) == {}


def test_segwit_v0_needs_bech32_and_v1_needs_bech32m() -> None:
    program = bytes(range(20, 52))
    taproot_bech32m = _segwit("bc", 1, program, Bech32Encodings.BECH32M)
    taproot_bech32 = _segwit("bc", 1, program, Bech32Encodings.BECH32)
    wsh_bech32 = _segwit("bc", 0, program, Bech32Encodings.BECH32)
    wsh_bech32m = _segwit("bc", 0, program, Bech32Encodings.BECH32M)
    body = " ".join([taproot_bech32m, taproot_bech32, wsh_bech32, wsh_bech32m])
    assert set(found(page(body))) == {("btc", taproot_bech32m), ("btc", wsh_bech32)}


def test_segwit_upper_case_is_returned_lower_case_and_mixed_case_rejected() -> None:
    address = bu.P2WPKHAddrEncoder.EncodeKey(KEY, hrp="bc")
    mixed = address[:10] + address[10:].upper()
    assert set(found(page(f"{address.upper()} {mixed}"))) == {("btc", address)}


def test_ethereum_case_rules() -> None:
    checksummed = bu.EthAddrEncoder.EncodeKey(KEY)
    letters = [i for i, c in enumerate(checksummed) if c.isalpha() and i > 1]
    wrong_case = checksummed[: letters[0]] + checksummed[letters[0]].swapcase()
    wrong_case += checksummed[letters[0] + 1 :]
    other = "0x" + hashlib.sha256(b"another account").hexdigest()[:40]
    body = f"<p>{wrong_case}</p><p>{other.lower()}</p><p>0x{other[2:].upper()}</p>"
    entities = found(page(body))
    assert set(entities) == {("eth", to_checksum_address(other))}
    assert entities["eth", to_checksum_address(other)].extra["format"] == "lowercase"


def test_a_3_address_is_bitcoin_unless_labelled_litecoin() -> None:
    p2sh = bu.P2SHAddrEncoder.EncodeKey(KEY, net_ver=b"\x05")
    litecoin = bu.P2PKHAddrEncoder.EncodeKey(_pubkey(b"other"), net_ver=b"\x30")
    cases = {
        f"<p>{p2sh}</p>": "btc",
        f"<p>BTC: {p2sh}</p>": "btc",
        f"<li><span>LTC</span>: <code>{p2sh}</code></li>": "ltc",
        f"<p>Litecoin (legacy P2SH): {p2sh}</p>": "ltc",
        f"<p>Лайткоин: {p2sh}</p>": "ltc",
        f"<p>LTC: {litecoin}</p><p>BTC: {p2sh}</p>": "btc",
        # The label of the previous address does not carry over to an unlabelled one.
        f"<p>LTC: {litecoin}</p><p>{p2sh}</p>": "btc",
    }
    for body, chain in cases.items():
        entities = found(page(body))
        assert (chain, p2sh) in entities, body
        assert entities[chain, p2sh].extra["ambiguous"] == "btc/ltc"
        assert ("ltc" if chain == "btc" else "btc", p2sh) not in entities, body


def test_reads_plain_text_pages() -> None:
    text = "".join(f"{kind.upper()}: {address}\n" for kind, _, address in VALID)
    assert set(found(page(text, plain=True))) == {(kind, address) for kind, _, address in VALID}


def test_ignores_scripts_styles_and_attributes() -> None:
    address = bu.P2PKHAddrEncoder.EncodeKey(KEY, net_ver=b"\x00")
    body = (
        f"<script>var a = '{address}';</script><style>/* {address} */</style>"
        f'<a href="/pay/{address}" title="{address}">pay</a>'
    )
    assert found(page(body)) == {}


def test_reports_each_address_once_per_page() -> None:
    address = bu.TrxAddrEncoder.EncodeKey(KEY)
    entities = crypto_addresses.onionlab_extract(page(f"<p>{address}</p><p>{address}</p>"))
    assert [e.value for e in entities or []] == [address]


def test_undoes_obfuscation_when_the_checksum_holds() -> None:
    btc = bu.P2PKHAddrEncoder.EncodeKey(KEY, net_ver=b"\x00")
    xmr = _monero().PrimaryAddress()
    eth = bu.EthAddrEncoder.EncodeKey(KEY)
    ltc = bu.P2WPKHAddrEncoder.EncodeKey(KEY, hrp="ltc")
    homoglyph = next(i for i, c in enumerate(xmr) if c in "ABEKMHOPCTXaeopcxy")
    cyrillic = dict(zip("ABEKMHOPCTXaeopcxy", "АВЕКМНОРСТХаеорсху", strict=True))
    body = (
        f"<code>{btc[:17]}<br>{btc[17:]}</code>"  # split over a line break
        f"<p>{eth[:20]}<span>{eth[20:]}</span></p>"  # split over two elements
        f"<p>{ltc[:9]}\u200b{ltc[9:]}</p>"  # a zero-width space inside
        f"<p>XMR: {xmr[:homoglyph]}{cyrillic[xmr[homoglyph]]}{xmr[homoglyph + 1 :]}</p>"
    )
    entities = found(page(body))
    assert set(entities) == {("btc", btc), ("eth", eth), ("ltc", ltc), ("xmr", xmr)}
    assert entities["btc", btc].extra["obfuscation"] == "line-break"
    assert entities["xmr", xmr].extra["obfuscation"] == "homoglyph"
    assert "obfuscation" not in entities["ltc", ltc].extra


def test_an_unchecksummed_address_is_not_rebuilt_from_pieces() -> None:
    eth = "0x" + hashlib.sha256(b"pieces").hexdigest()[:40]
    assert found(page(f"<p>{eth[:22]}<br>{eth[22:]}</p>")) == {}


def test_look_alikes_are_not_addresses() -> None:
    btc = bu.P2PKHAddrEncoder.EncodeKey(KEY, net_ver=b"\x00")
    body = (
        f"<p>{btc}X</p>"  # runs on into another character of the alphabet
        f"<p>{base58.b58encode(bytes(24)).decode()}</p>"  # no checksum at all
        "<p>0x" + "ab" * 21 + "</p>"  # 42 hex digits
        f"<p>{_monero().PrimaryAddress()[:-1]}</p>"
    )
    assert found(page(body)) == {}


@pytest.mark.parametrize("seed", [1, 2])
def test_scores_on_the_lab(seed: int) -> None:
    scores = score_entities(seed, [crypto_addresses], COINS)
    for kind in COINS:
        score = scores[kind]
        assert score.expected, f"seed {seed} shows no {kind} address"
        assert score.precision >= 0.995 and score.recall >= 0.995, (kind, score.summary())
        assert not score.decoys_accepted, (kind, score.summary())
    assert sum(len(s.decoys) for s in scores.values()) > 0
