"""BIP32: official test vectors 1-5 (bitcoin/bips bip-0032.mediawiki @ 7fe0b034, typed in as
data), PKT serialization, path parsing, and pktwallet's non-standard hardened derivation
(the issue-172 vector of tests/data/pkt/seedwords_hd_vectors.json)."""

from __future__ import annotations

from typing import Any

import pytest

from app.wallet.bip32 import (
    BITCOIN_MAINNET,
    HARDENED,
    ExtendedKey,
    ExtendedKeyChecksumError,
    HardenedFromPublicError,
    InvalidExtendedKeyError,
    InvalidPathError,
    KeyVersions,
    WrongNetworkKeyError,
    format_path,
    master_key_from_seed,
    parse_extended_key,
    parse_path,
)
from spv.address import encode_wif, p2pkh_address, p2sh_p2wpkh_address, p2wpkh_address
from spv.params import MAINNET, REGTEST, TESTNET

from .mutation import assert_every_change_detected

# (seed hex, [(path, xpub, xprv), ...]) from BIP32 "Test vectors" 1-4.
BIP32_VECTORS: list[dict[str, Any]] = [
    {
        "seed": "000102030405060708090a0b0c0d0e0f",
        "chains": [
            [
                "m",
                "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8",
                "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi",
            ],
            [
                "m/0H",
                "xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw",
                "xprv9uHRZZhk6KAJC1avXpDAp4MDc3sQKNxDiPvvkX8Br5ngLNv1TxvUxt4cV1rGL5hj6KCesnDYUhd7oWgT11eZG7XnxHrnYeSvkzY7d2bhkJ7",
            ],
            [
                "m/0H/1",
                "xpub6ASuArnXKPbfEwhqN6e3mwBcDTgzisQN1wXN9BJcM47sSikHjJf3UFHKkNAWbWMiGj7Wf5uMash7SyYq527Hqck2AxYysAA7xmALppuCkwQ",
                "xprv9wTYmMFdV23N2TdNG573QoEsfRrWKQgWeibmLntzniatZvR9BmLnvSxqu53Kw1UmYPxLgboyZQaXwTCg8MSY3H2EU4pWcQDnRnrVA1xe8fs",
            ],
            [
                "m/0H/1/2H",
                "xpub6D4BDPcP2GT577Vvch3R8wDkScZWzQzMMUm3PWbmWvVJrZwQY4VUNgqFJPMM3No2dFDFGTsxxpG5uJh7n7epu4trkrX7x7DogT5Uv6fcLW5",
                "xprv9z4pot5VBttmtdRTWfWQmoH1taj2axGVzFqSb8C9xaxKymcFzXBDptWmT7FwuEzG3ryjH4ktypQSAewRiNMjANTtpgP4mLTj34bhnZX7UiM",
            ],
            [
                "m/0H/1/2H/2",
                "xpub6FHa3pjLCk84BayeJxFW2SP4XRrFd1JYnxeLeU8EqN3vDfZmbqBqaGJAyiLjTAwm6ZLRQUMv1ZACTj37sR62cfN7fe5JnJ7dh8zL4fiyLHV",
                "xprvA2JDeKCSNNZky6uBCviVfJSKyQ1mDYahRjijr5idH2WwLsEd4Hsb2Tyh8RfQMuPh7f7RtyzTtdrbdqqsunu5Mm3wDvUAKRHSC34sJ7in334",
            ],
            [
                "m/0H/1/2H/2/1000000000",
                "xpub6H1LXWLaKsWFhvm6RVpEL9P4KfRZSW7abD2ttkWP3SSQvnyA8FSVqNTEcYFgJS2UaFcxupHiYkro49S8yGasTvXEYBVPamhGW6cFJodrTHy",
                "xprvA41z7zogVVwxVSgdKUHDy1SKmdb533PjDz7J6N6mV6uS3ze1ai8FHa8kmHScGpWmj4WggLyQjgPie1rFSruoUihUZREPSL39UNdE3BBDu76",
            ],
        ],
    },
    {
        "seed": "fffcf9f6f3f0edeae7e4e1dedbd8d5d2cfccc9c6c3c0bdbab7b4b1aeaba8a5a29f9c999693908d8a8784817e7b7875726f6c696663605d5a5754514e4b484542",
        "chains": [
            [
                "m",
                "xpub661MyMwAqRbcFW31YEwpkMuc5THy2PSt5bDMsktWQcFF8syAmRUapSCGu8ED9W6oDMSgv6Zz8idoc4a6mr8BDzTJY47LJhkJ8UB7WEGuduB",
                "xprv9s21ZrQH143K31xYSDQpPDxsXRTUcvj2iNHm5NUtrGiGG5e2DtALGdso3pGz6ssrdK4PFmM8NSpSBHNqPqm55Qn3LqFtT2emdEXVYsCzC2U",
            ],
            [
                "m/0",
                "xpub69H7F5d8KSRgmmdJg2KhpAK8SR3DjMwAdkxj3ZuxV27CprR9LgpeyGmXUbC6wb7ERfvrnKZjXoUmmDznezpbZb7ap6r1D3tgFxHmwMkQTPH",
                "xprv9vHkqa6EV4sPZHYqZznhT2NPtPCjKuDKGY38FBWLvgaDx45zo9WQRUT3dKYnjwih2yJD9mkrocEZXo1ex8G81dwSM1fwqWpWkeS3v86pgKt",
            ],
            [
                "m/0/2147483647H",
                "xpub6ASAVgeehLbnwdqV6UKMHVzgqAG8Gr6riv3Fxxpj8ksbH9ebxaEyBLZ85ySDhKiLDBrQSARLq1uNRts8RuJiHjaDMBU4Zn9h8LZNnBC5y4a",
                "xprv9wSp6B7kry3Vj9m1zSnLvN3xH8RdsPP1Mh7fAaR7aRLcQMKTR2vidYEeEg2mUCTAwCd6vnxVrcjfy2kRgVsFawNzmjuHc2YmYRmagcEPdU9",
            ],
            [
                "m/0/2147483647H/1",
                "xpub6DF8uhdarytz3FWdA8TvFSvvAh8dP3283MY7p2V4SeE2wyWmG5mg5EwVvmdMVCQcoNJxGoWaU9DCWh89LojfZ537wTfunKau47EL2dhHKon",
                "xprv9zFnWC6h2cLgpmSA46vutJzBcfJ8yaJGg8cX1e5StJh45BBciYTRXSd25UEPVuesF9yog62tGAQtHjXajPPdbRCHuWS6T8XA2ECKADdw4Ef",
            ],
            [
                "m/0/2147483647H/1/2147483646H",
                "xpub6ERApfZwUNrhLCkDtcHTcxd75RbzS1ed54G1LkBUHQVHQKqhMkhgbmJbZRkrgZw4koxb5JaHWkY4ALHY2grBGRjaDMzQLcgJvLJuZZvRcEL",
                "xprvA1RpRA33e1JQ7ifknakTFpgNXPmW2YvmhqLQYMmrj4xJXXWYpDPS3xz7iAxn8L39njGVyuoseXzU6rcxFLJ8HFsTjSyQbLYnMpCqE2VbFWc",
            ],
            [
                "m/0/2147483647H/1/2147483646H/2",
                "xpub6FnCn6nSzZAw5Tw7cgR9bi15UV96gLZhjDstkXXxvCLsUXBGXPdSnLFbdpq8p9HmGsApME5hQTZ3emM2rnY5agb9rXpVGyy3bdW6EEgAtqt",
                "xprvA2nrNbFZABcdryreWet9Ea4LvTJcGsqrMzxHx98MMrotbir7yrKCEXw7nadnHM8Dq38EGfSh6dqA9QWTyefMLEcBYJUuekgW4BYPJcr9E7j",
            ],
        ],
    },
    {
        "seed": "4b381541583be4423346c643850da4b320e46a87ae3d2a4e6da11eba819cd4acba45d239319ac14f863b8d5ab5a0d0c64d2e8a1e7d1457df2e5a3c51c73235be",
        "chains": [
            [
                "m",
                "xpub661MyMwAqRbcEZVB4dScxMAdx6d4nFc9nvyvH3v4gJL378CSRZiYmhRoP7mBy6gSPSCYk6SzXPTf3ND1cZAceL7SfJ1Z3GC8vBgp2epUt13",
                "xprv9s21ZrQH143K25QhxbucbDDuQ4naNntJRi4KUfWT7xo4EKsHt2QJDu7KXp1A3u7Bi1j8ph3EGsZ9Xvz9dGuVrtHHs7pXeTzjuxBrCmmhgC6",
            ],
            [
                "m/0H",
                "xpub68NZiKmJWnxxS6aaHmn81bvJeTESw724CRDs6HbuccFQN9Ku14VQrADWgqbhhTHBaohPX4CjNLf9fq9MYo6oDaPPLPxSb7gwQN3ih19Zm4Y",
                "xprv9uPDJpEQgRQfDcW7BkF7eTya6RPxXeJCqCJGHuCJ4GiRVLzkTXBAJMu2qaMWPrS7AANYqdq6vcBcBUdJCVVFceUvJFjaPdGZ2y9WACViL4L",
            ],
        ],
    },
    {
        "seed": "3ddd5602285899a946114506157c7997e5444528f3003f6134712147db19b678",
        "chains": [
            [
                "m",
                "xpub661MyMwAqRbcGczjuMoRm6dXaLDEhW1u34gKenbeYqAix21mdUKJyuyu5F1rzYGVxyL6tmgBUAEPrEz92mBXjByMRiJdba9wpnN37RLLAXa",
                "xprv9s21ZrQH143K48vGoLGRPxgo2JNkJ3J3fqkirQC2zVdk5Dgd5w14S7fRDyHH4dWNHUgkvsvNDCkvAwcSHNAQwhwgNMgZhLtQC63zxwhQmRv",
            ],
            [
                "m/0H",
                "xpub69AUMk3qDBi3uW1sXgjCmVjJ2G6WQoYSnNHyzkmdCHEhSZ4tBok37xfFEqHd2AddP56Tqp4o56AePAgCjYdvpW2PU2jbUPFKsav5ut6Ch1m",
                "xprv9vB7xEWwNp9kh1wQRfCCQMnZUEG21LpbR9NPCNN1dwhiZkjjeGRnaALmPXCX7SgjFTiCTT6bXes17boXtjq3xLpcDjzEuGLQBM5ohqkao9G",
            ],
            [
                "m/0H/1H",
                "xpub6BJA1jSqiukeaesWfxe6sNK9CCGaujFFSJLomWHprUL9DePQ4JDkM5d88n49sMGJxrhpjazuXYWdMf17C9T5XnxkopaeS7jGk1GyyVziaMt",
                "xprv9xJocDuwtYCMNAo3Zw76WENQeAS6WGXQ55RCy7tDJ8oALr4FWkuVoHJeHVAcAqiZLE7Je3vZJHxspZdFHfnBEjHqU5hG1Jaj32dVoS6XLT1",
            ],
        ],
    },
]

# BIP32 test vector 5: invalid extended keys (all Bitcoin mainnet versions).
BIP32_INVALID_KEYS: list[tuple[str, str]] = [
    (
        "xpub661MyMwAqRbcEYS8w7XLSVeEsBXy79zSzH1J8vCdxAZningWLdN3zgtU6LBpB85b3D2yc8sfvZU521AAwdZafEz7mnzBBsz4wKY5fTtTQBm",
        "pubkey version / prvkey mismatch",
    ),
    (
        "xprv9s21ZrQH143K24Mfq5zL5MhWK9hUhhGbd45hLXo2Pq2oqzMMo63oStZzFGTQQD3dC4H2D5GBj7vWvSQaaBv5cxi9gafk7NF3pnBju6dwKvH",
        "prvkey version / pubkey mismatch",
    ),
    (
        "xpub661MyMwAqRbcEYS8w7XLSVeEsBXy79zSzH1J8vCdxAZningWLdN3zgtU6Txnt3siSujt9RCVYsx4qHZGc62TG4McvMGcAUjeuwZdduYEvFn",
        "invalid pubkey prefix 04",
    ),
    (
        "xprv9s21ZrQH143K24Mfq5zL5MhWK9hUhhGbd45hLXo2Pq2oqzMMo63oStZzFGpWnsj83BHtEy5Zt8CcDr1UiRXuWCmTQLxEK9vbz5gPstX92JQ",
        "invalid prvkey prefix 04",
    ),
    (
        "xpub661MyMwAqRbcEYS8w7XLSVeEsBXy79zSzH1J8vCdxAZningWLdN3zgtU6N8ZMMXctdiCjxTNq964yKkwrkBJJwpzZS4HS2fxvyYUA4q2Xe4",
        "invalid pubkey prefix 01",
    ),
    (
        "xprv9s21ZrQH143K24Mfq5zL5MhWK9hUhhGbd45hLXo2Pq2oqzMMo63oStZzFAzHGBP2UuGCqWLTAPLcMtD9y5gkZ6Eq3Rjuahrv17fEQ3Qen6J",
        "invalid prvkey prefix 01",
    ),
    (
        "xprv9s2SPatNQ9Vc6GTbVMFPFo7jsaZySyzk7L8n2uqKXJen3KUmvQNTuLh3fhZMBoG3G4ZW1N2kZuHEPY53qmbZzCHshoQnNf4GvELZfqTUrcv",
        "zero depth with non-zero parent fingerprint",
    ),
    (
        "xpub661no6RGEX3uJkY4bNnPcw4URcQTrSibUZ4NqJEw5eBkv7ovTwgiT91XX27VbEXGENhYRCf7hyEbWrR3FewATdCEebj6znwMfQkhRYHRLpJ",
        "zero depth with non-zero parent fingerprint",
    ),
    (
        "xprv9s21ZrQH4r4TsiLvyLXqM9P7k1K3EYhA1kkD6xuquB5i39AU8KF42acDyL3qsDbU9NmZn6MsGSUYZEsuoePmjzsB3eFKSUEh3Gu1N3cqVUN",
        "zero depth with non-zero index",
    ),
    (
        "xpub661MyMwAuDcm6CRQ5N4qiHKrJ39Xe1R1NyfouMKTTWcguwVcfrZJaNvhpebzGerh7gucBvzEQWRugZDuDXjNDRmXzSZe4c7mnTK97pTvGS8",
        "zero depth with non-zero index",
    ),
    (
        "DMwo58pR1QLEFihHiXPVykYB6fJmsTeHvyTp7hRThAtCX8CvYzgPcn8XnmdfHGMQzT7ayAmfo4z3gY5KfbrZWZ6St24UVf2Qgo6oujFktLHdHY4",
        "unknown extended key version",
    ),
    (
        "DMwo58pR1QLEFihHiXPVykYB6fJmsTeHvyTp7hRThAtCX8CvYzgPcn8XnmdfHPmHJiEDXkTiJTVV9rHEBUem2mwVbbNfvT2MTcAqj3nesx8uBf9",
        "unknown extended key version",
    ),
    (
        "xprv9s21ZrQH143K24Mfq5zL5MhWK9hUhhGbd45hLXo2Pq2oqzMMo63oStZzF93Y5wvzdUayhgkkFoicQZcP3y52uPPxFnfoLZB21Teqt1VvEHx",
        "private key 0 not in 1..n-1",
    ),
    (
        "xprv9s21ZrQH143K24Mfq5zL5MhWK9hUhhGbd45hLXo2Pq2oqzMMo63oStZzFAzHGBP2UuGCqWLTAPLcMtD5SDKr24z3aiUvKr9bJpdrcLg1y3G",
        "private key n not in 1..n-1",
    ),
    (
        "xpub661MyMwAqRbcEYS8w7XLSVeEsBXy79zSzH1J8vCdxAZningWLdN3zgtU6Q5JXayek4PRsn35jii4veMimro1xefsM58PgBMrvdYre8QyULY",
        "invalid pubkey 020000000000000000000000000000000000000000000000000000000000000007",
    ),
    (
        "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHL",
        "invalid checksum",
    ),
]


def check_bip32_vector(vector: dict[str, Any]) -> None:
    master = ExtendedKey.from_seed(bytes.fromhex(vector["seed"]), BITCOIN_MAINNET)
    parent: ExtendedKey | None = None
    for path, xpub, xprv in vector["chains"]:
        key = master.derive_path(path)
        assert key.to_string() == xprv
        assert key.xpub() == xpub
        assert format_path(parse_path(path)) == format_path(
            tuple(parse_path(path.replace("H", "'")))
        )
        # Parsing gives the same key back, and public derivation agrees for normal children.
        assert ExtendedKey.from_string(xprv, BITCOIN_MAINNET) == key
        assert ExtendedKey.from_string(xpub, BITCOIN_MAINNET) == key.neutered()
        if parent is not None and key.child_number < HARDENED:
            assert parent.neutered().derive_child(key.child_number).to_string() == xpub
        parent = key


@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_bip32_official_vectors(number: int) -> None:
    check_bip32_vector(BIP32_VECTORS[number - 1])


def test_bip32_vectors_reject_any_single_change() -> None:
    for vector in BIP32_VECTORS:
        assert_every_change_detected(vector, check_bip32_vector)


@pytest.mark.parametrize(("text", "reason"), BIP32_INVALID_KEYS)
def test_bip32_invalid_keys_are_rejected(text: str, reason: str) -> None:
    with pytest.raises(InvalidExtendedKeyError):
        ExtendedKey.from_string(text, BITCOIN_MAINNET)


def test_invalid_key_errors_are_specific() -> None:
    bad_checksum = BIP32_INVALID_KEYS[-1][0]
    with pytest.raises(ExtendedKeyChecksumError, match="checksum"):
        ExtendedKey.from_string(bad_checksum, BITCOIN_MAINNET)
    with pytest.raises(InvalidExtendedKeyError, match="unknown extended key version"):
        ExtendedKey.from_string(BIP32_INVALID_KEYS[10][0], BITCOIN_MAINNET)
    with pytest.raises(InvalidExtendedKeyError, match="not in 1..n-1"):
        ExtendedKey.from_string(BIP32_INVALID_KEYS[12][0], BITCOIN_MAINNET)
    with pytest.raises(InvalidExtendedKeyError, match="not a point"):
        ExtendedKey.from_string(BIP32_INVALID_KEYS[14][0], BITCOIN_MAINNET)
    with pytest.raises(InvalidExtendedKeyError, match="depth-0"):
        ExtendedKey.from_string(BIP32_INVALID_KEYS[6][0], BITCOIN_MAINNET)
    with pytest.raises(InvalidExtendedKeyError, match="base58|character"):
        ExtendedKey.from_string("xprv0OIl", BITCOIN_MAINNET)


def test_wrong_network_is_named() -> None:
    bitcoin_xprv = BIP32_VECTORS[0]["chains"][0][2]
    with pytest.raises(WrongNetworkKeyError, match="bitcoin-mainnet, not mainnet"):
        parse_extended_key(bitcoin_xprv, MAINNET)
    seed = bytes(range(16))
    pkt = master_key_from_seed(seed, MAINNET)
    with pytest.raises(WrongNetworkKeyError, match="private key is for mainnet, not testnet"):
        parse_extended_key(pkt.to_string(), TESTNET)
    testnet_xpub = master_key_from_seed(seed, TESTNET).xpub()
    with pytest.raises(WrongNetworkKeyError, match="public key is for testnet/regtest"):
        parse_extended_key(testnet_xpub, MAINNET)
    assert parse_extended_key(testnet_xpub, REGTEST).public_key == pkt.public_key


def test_pkt_serialization_prefixes() -> None:
    master = master_key_from_seed(bytes(range(19)), MAINNET)
    assert master.to_string().startswith("Ppvt")
    assert master.xpub().startswith("Ppub")
    assert parse_extended_key(master.to_string(), MAINNET) == master
    assert master.depth == 0 and master.parent_fingerprint == b"\x00" * 4
    child = master.derive_path("m/84h/0h/0h/1/5")
    assert child.depth == 5 and child.child_number == 5
    assert child.parent_fingerprint == master.derive_path("m/84'/0'/0'/1").fingerprint


def test_path_parsing() -> None:
    assert parse_path("m") == ()
    assert parse_path("m/84'/0'/0'/0/5") == (84 + HARDENED, HARDENED, HARDENED, 0, 5)
    assert parse_path("m/84h/0H/0'/0/5") == parse_path("m/84'/0'/0'/0/5")
    assert parse_path("0/1") == (0, 1)
    assert parse_path(" m/2147483647' ") == (0xFFFFFFFF,)
    assert format_path(parse_path("m/49h/0h/0h/1/7")) == "m/49'/0'/0'/1/7"
    for bad in ("", "m/", "m//1", "m/-1", "m/1x", "m/2147483648", "m/01", "m/1''", "x/1", "m/１"):
        with pytest.raises(InvalidPathError):
            parse_path(bad)


def test_derivation_errors() -> None:
    master = ExtendedKey.from_seed(bytes(16), BITCOIN_MAINNET)
    with pytest.raises(HardenedFromPublicError):
        master.neutered().derive_child(HARDENED)
    with pytest.raises(InvalidPathError, match="master"):
        master.derive_child(0).derive_path("m/1")
    assert master.derive_child(0).derive_path("1") == master.derive_path("m/0/1")
    with pytest.raises(ValueError, match="seed"):
        ExtendedKey.from_seed(bytes(15), BITCOIN_MAINNET)


def test_repr_hides_key_material() -> None:
    master = ExtendedKey.from_seed(bytes(range(32)), BITCOIN_MAINNET)
    assert master.private_key is not None
    text = repr(master) + str(master) + repr(master.neutered())
    for secret in (master.private_key.hex(), master.chain_code.hex(), master.to_string()):
        assert secret not in text
    assert "fingerprint" in text


# --- pktwallet's non-standard hardened derivation (btcutil issue #172) --------------------------


def test_nonstandard_reproduces_btcutil_172_with_bip32_vector_4() -> None:
    vector = BIP32_VECTORS[3]
    master = ExtendedKey.from_seed(bytes.fromhex(vector["seed"]), BITCOIN_MAINNET)
    first = master.derive_path("m/0H")
    assert first.private_key is not None and first.private_key[0] == 0  # the leading zero
    standard = master.derive_path("m/0H/1H")
    quirky = master.derive_path("m/0H/1H", nonstandard=True)
    assert standard.to_string() == vector["chains"][2][2]
    assert quirky != standard
    # The master key itself is always held as 32 bytes: the first level is unaffected.
    assert master.derive_path("m/0H", nonstandard=True) == first
    # A key parsed from its xprv is held as 32 bytes too (as btcutil's NewKeyFromString does).
    reparsed = ExtendedKey.from_string(first.to_string(), BITCOIN_MAINNET)
    assert reparsed.derive_child(1 + HARDENED, nonstandard=True) == standard


def _kind_for_path(path: str) -> str:
    return {"44'": "p2pkh", "49'": "p2sh-p2wpkh", "84'": "p2wpkh"}[path.split("/")[1]]


def _address(kind: str, pubkey: bytes) -> str:
    if kind == "p2pkh":
        return p2pkh_address(pubkey, MAINNET).encode(MAINNET)
    if kind == "p2wpkh":
        return p2wpkh_address(pubkey, MAINNET).encode(MAINNET)
    return p2sh_p2wpkh_address(pubkey, MAINNET).encode(MAINNET)


PATH_KINDS = {"Derive(BIP32)": False, "DeriveNonStandard": True}


def check_address_entry(master: ExtendedKey, entry: dict[str, str]) -> None:
    key = master.derive_path(entry["Path"], nonstandard=PATH_KINDS[entry["PathKind"]])
    assert key.private_key is not None
    assert key.public_key.hex() == entry["Pubkey"]
    assert _address(_kind_for_path(entry["Path"]), key.public_key) == entry["Address"]
    assert encode_wif(key.private_key, True, MAINNET) == entry["WIF"]


def check_issue172_vector(vector: dict[str, Any]) -> None:
    master = master_key_from_seed(bytes.fromhex(vector["seed_bytes_hex"]), MAINNET)
    assert master.to_string() == vector["master_xprv"]
    assert master.derive_path("m/84'/0'/0'").to_string() == vector["account_84_bip32"]
    quirky = master.derive_path("m/84'/0'/0'", nonstandard=True)
    assert quirky.to_string() == vector["account_84_nonstandard"]
    assert len(vector["addresses_bip32"]) == len(vector["addresses_nonstandard"]) == 12
    for entry in vector["addresses_bip32"]:
        assert entry["PathKind"] == "Derive(BIP32)"
        check_address_entry(master, entry)
    for entry in vector["addresses_nonstandard"]:
        assert entry["PathKind"] == "DeriveNonStandard"
        check_address_entry(master, entry)


def test_issue172_vector(seed_vectors: Any) -> None:
    vector = seed_vectors["issue172_vector"]
    check_issue172_vector(vector)
    master = master_key_from_seed(bytes.fromhex(vector["seed_bytes_hex"]), MAINNET)
    coin = master.derive_path("m/84'/0'")  # the parent of the account' step
    assert coin.private_key is not None and coin.private_key[0] == 0  # why account 84 differs
    assert master.derive_path("m/84'/0'", nonstandard=True) == coin  # its own parent is fine
    assert vector["account_84_bip32"] != vector["account_84_nonstandard"]


def test_issue172_vector_rejects_any_single_change(seed_vectors: Any) -> None:
    assert_every_change_detected(
        seed_vectors["issue172_vector"], check_issue172_vector, skip=frozenset({"note"})
    )


def test_custom_versions_round_trip() -> None:
    versions = KeyVersions(0x01020304, 0x05060708, "custom")
    key = ExtendedKey.from_seed(bytes(range(64)), versions).derive_path("m/1'/2")
    assert ExtendedKey.from_string(key.to_string(), versions) == key
    assert ExtendedKey.from_string(key.xpub(), versions) == key.neutered()
    assert ExtendedKey.from_bytes(key.to_bytes(), versions) == key
