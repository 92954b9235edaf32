import pytest

from spv.errors import ChainError
from spv.hashes import hash_from_display, hash_to_display
from spv.params import MAINNET, REGTEST, TESTNET, network_by_name


def _hexint(text: str) -> int:
    return int(text, 16)


def test_parameters_match_the_chainparams_vector(pkt_vectors) -> None:  # type: ignore[no-untyped-def]
    cp = pkt_vectors("chainparams.json")
    for params, key in ((MAINNET, "pkt_mainnet"), (TESTNET, "pkt_testnet"), (REGTEST, "regtest")):
        v = cp[key]
        assert params.magic.hex() == v["net_magic_wire_bytes"]
        assert int.from_bytes(params.magic, "little") == _hexint(v["net_magic_uint32"])
        assert params.default_port == v["default_p2p_port"]
        assert hash_to_display(params.genesis_hash) == v["genesis_hash_display"]
        assert params.bech32_hrp == v["bech32_hrp"]
        assert params.p2pkh_version == _hexint(v["p2pkh_version"])
        assert params.p2sh_version == _hexint(v["p2sh_version"])
        assert params.wif_version == _hexint(v["wif_version"])
    main, test = cp["pkt_mainnet"], cp["pkt_testnet"]
    assert MAINNET.pow_limit_bits == _hexint(main["pow_limit_bits"])
    assert MAINNET.pow_limit == int(main["pow_limit_hex"], 16)
    assert MAINNET.target_timespan == main["target_timespan_s"]
    assert MAINNET.target_spacing == main["target_block_time_s"]
    assert MAINNET.blocks_per_retarget == main["blocks_per_retarget"]
    assert MAINNET.retarget_adjustment_factor == main["retarget_adjustment_factor"]
    assert MAINNET.min_diff_reduction_time == main["min_diff_reduction_time_s"]
    assert MAINNET.reduce_min_difficulty is main["reduce_min_difficulty"]
    assert TESTNET.reduce_min_difficulty is test["reduce_min_difficulty"]
    assert MAINNET.coinbase_maturity == main["coinbase_maturity"]
    assert MAINNET.units_per_coin == main["units_per_pkt"]
    assert MAINNET.network_steward_script.hex() == main["network_steward_initial_script"]
    assert MAINNET.ns_payment_expiry_blocks == main["network_steward_payment_expiry_blocks"]
    assert MAINNET.xprv_version == _hexint(main["bip32_xprv_version"])
    assert MAINNET.xpub_version == _hexint(main["bip32_xpub_version"])
    assert MAINNET.hd_coin_type == main["slip44_coin_type_in_chaincfg"]
    assert MAINNET.wallet_coin_type == main["pktwallet_actual_coin_type_in_paths"]
    assert MAINNET.min_relay_fee_per_kb == main["min_relay_fee_units_per_kb"]
    assert set(main["dns_seeds_2022_develop"]) <= set(MAINNET.dns_seeds)
    assert TESTNET.xprv_version == _hexint(test["bip32_xprv_version"])
    assert TESTNET.xpub_version == _hexint(test["bip32_xpub_version"])
    assert tuple(TESTNET.dns_seeds) == tuple(test["dns_seeds"])
    assert REGTEST.pow_limit_bits == 0x207FFFFF
    assert REGTEST.units_per_coin == cp["regtest"]["units_per_coin"]


def test_checkpoints_match_the_vector(pkt_vectors) -> None:  # type: ignore[no-untyped-def]
    cps = pkt_vectors("checkpoints_mainnet.json")["checkpoints"]
    assert len(cps) == 64 == len(MAINNET.checkpoints)
    for cp, ours in zip(cps, MAINNET.checkpoints, strict=True):
        assert ours.height == cp["height"]
        assert ours.block_hash == hash_from_display(cp["hash_display"])
        assert MAINNET.checkpoint_at(cp["height"]) == ours
    assert MAINNET.checkpoint_at(8191) is None
    assert MAINNET.last_checkpoint is not None and MAINNET.last_checkpoint.height == 524288
    assert TESTNET.checkpoints == () and TESTNET.last_checkpoint is None


def test_unknown_network_is_a_clear_error() -> None:
    assert network_by_name("testnet") is TESTNET
    with pytest.raises(ChainError, match="unknown network 'bitcoin'"):
        network_by_name("bitcoin")
