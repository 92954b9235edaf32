"""Network parameters for PKT mainnet, PKT testnet and pktd's (Bitcoin-flavoured) regtest.

Parameters are immutable values passed to the code that needs them; nothing in `spv`
reads a global "current network".
"""

from dataclasses import dataclass, field

from .checkpoints import PKT_MAINNET_CHECKPOINTS
from .errors import ChainError
from .genesis import PKT_GENESIS_BLOCK, REGTEST_GENESIS_BLOCK
from .hashes import hash_from_display, sha256d

PKT_UNITS_PER_COIN = 1 << 30  # 1 PKT = 2^30 units
BTC_UNITS_PER_COIN = 100_000_000


def _target_from_bits(bits: int) -> int:
    exponent = bits >> 24
    mantissa = bits & 0x007FFFFF
    if exponent <= 3:
        return mantissa >> (8 * (3 - exponent))
    return mantissa << (8 * (exponent - 3))


@dataclass(frozen=True)
class Checkpoint:
    height: int
    block_hash: bytes  # internal order


@dataclass(frozen=True)
class NetworkParams:
    """Everything that differs between networks."""

    name: str  # "mainnet", "testnet", "regtest"
    magic: bytes  # 4 bytes as they appear on the wire
    default_port: int
    dns_seeds: tuple[str, ...]
    genesis_block: bytes
    # Chain rules
    has_packetcrypt: bool  # blocks carry a PacketCrypt proof; header sha256d is not PoW
    pow_limit_bits: int
    target_timespan: int  # seconds per retarget window
    target_spacing: int  # seconds per block
    retarget_adjustment_factor: int
    reduce_min_difficulty: bool  # testnet-style min-difficulty blocks, permanently
    min_diff_reduction_time: int  # seconds after which a min-difficulty block is allowed
    pkt_min_difficulty_below_height: int  # mainnet: min-difficulty rule while prev height < this
    checkpoints: tuple[Checkpoint, ...]
    median_time_blocks: int
    max_future_block_time: int  # seconds a light client tolerates a header ahead of now
    coinbase_maturity: int
    # Money
    units_per_coin: int
    coin_symbol: str
    subsidy_halving_interval: int  # Bitcoin-style networks only (regtest)
    network_steward_script: bytes  # empty when the network has no Network Steward
    ns_payment_expiry_blocks: int
    min_relay_fee_per_kb: int
    # Encodings
    p2pkh_version: int
    p2sh_version: int
    wif_version: int
    bech32_hrp: str
    xprv_version: int
    xpub_version: int
    hd_coin_type: int  # SLIP44 value in chaincfg
    wallet_coin_type: int  # coin type pktwallet actually uses in its derivation paths
    launch_time: int = 0  # timestamp of block 1 (when the chain started producing blocks)
    genesis_hash: bytes = field(init=False)  # internal order

    def __post_init__(self) -> None:
        object.__setattr__(self, "genesis_hash", sha256d(self.genesis_block[:80]))

    @property
    def pow_limit(self) -> int:
        return _target_from_bits(self.pow_limit_bits)

    @property
    def blocks_per_retarget(self) -> int:
        return self.target_timespan // self.target_spacing

    def checkpoint_at(self, height: int) -> Checkpoint | None:
        for cp in self.checkpoints:
            if cp.height == height:
                return cp
        return None

    @property
    def last_checkpoint(self) -> Checkpoint | None:
        return self.checkpoints[-1] if self.checkpoints else None


def _checkpoints(entries: tuple[tuple[int, str], ...]) -> tuple[Checkpoint, ...]:
    return tuple(Checkpoint(h, hash_from_display(d)) for h, d in entries)


NS_INITIAL_SCRIPT = bytes.fromhex(
    "0020d5c1005c0d4012d3ae2672319e7f9eb15a57516aeefabbbc062265f67e308f2b"
)

MAINNET = NetworkParams(
    name="mainnet",
    magic=bytes.fromhex("fc002f08"),
    default_port=64764,
    dns_seeds=(
        "seed.cjd.li",
        "pktdseed.pkt.world",
        "seed.pkt.pink",
        "seed.pkt.ai",
        "seed.anode.co",
    ),
    genesis_block=PKT_GENESIS_BLOCK,
    has_packetcrypt=True,
    pow_limit_bits=0x1F0FFFFF,
    target_timespan=120960,
    target_spacing=60,
    retarget_adjustment_factor=4,
    reduce_min_difficulty=False,
    min_diff_reduction_time=120,
    pkt_min_difficulty_below_height=50000,
    checkpoints=_checkpoints(PKT_MAINNET_CHECKPOINTS),
    median_time_blocks=111,
    max_future_block_time=2 * 60 * 60,
    coinbase_maturity=100,
    units_per_coin=PKT_UNITS_PER_COIN,
    coin_symbol="PKT",
    subsidy_halving_interval=0,
    network_steward_script=NS_INITIAL_SCRIPT,
    ns_payment_expiry_blocks=129600,
    min_relay_fee_per_kb=1000,
    p2pkh_version=0x75,
    p2sh_version=0x38,
    wif_version=0xE0,
    bech32_hrp="pkt",
    xprv_version=0x6B863BED,
    xpub_version=0x6B85C53F,
    hd_coin_type=390,
    wallet_coin_type=0,
    launch_time=1566269808,  # block 1 (2019-08-20)
)

TESTNET = NetworkParams(
    name="testnet",
    magic=bytes.fromhex("fc110907"),
    default_port=64512,
    dns_seeds=("testseed.cjd.li", "testseed.anode.co"),
    genesis_block=PKT_GENESIS_BLOCK,
    has_packetcrypt=True,
    pow_limit_bits=0x1F0FFFFF,
    target_timespan=120960,
    target_spacing=60,
    retarget_adjustment_factor=4,
    reduce_min_difficulty=True,
    min_diff_reduction_time=120,
    pkt_min_difficulty_below_height=0,
    checkpoints=(),
    median_time_blocks=111,
    max_future_block_time=2 * 60 * 60,
    coinbase_maturity=100,
    units_per_coin=PKT_UNITS_PER_COIN,
    coin_symbol="tPKT",
    subsidy_halving_interval=0,
    network_steward_script=NS_INITIAL_SCRIPT,
    ns_payment_expiry_blocks=129600,
    min_relay_fee_per_kb=1000,
    p2pkh_version=0x6F,
    p2sh_version=0xC4,
    wif_version=0xEF,
    bech32_hrp="tpk",
    xprv_version=0x04358394,
    xpub_version=0x043587CF,
    hd_coin_type=1,
    wallet_coin_type=0,
    launch_time=1566269808,  # same genesis; unknown testnet start, mainnet's is a safe lower bound
)

REGTEST = NetworkParams(
    name="regtest",
    magic=bytes.fromhex("fabfb5da"),
    default_port=18444,
    dns_seeds=(),
    genesis_block=REGTEST_GENESIS_BLOCK,
    has_packetcrypt=False,
    pow_limit_bits=0x207FFFFF,
    target_timespan=14 * 24 * 60 * 60,
    target_spacing=10 * 60,
    retarget_adjustment_factor=4,
    reduce_min_difficulty=True,
    min_diff_reduction_time=20 * 60,
    pkt_min_difficulty_below_height=0,
    checkpoints=(),
    median_time_blocks=11,
    max_future_block_time=2 * 60 * 60,
    coinbase_maturity=100,
    units_per_coin=BTC_UNITS_PER_COIN,
    coin_symbol="rBTC",
    subsidy_halving_interval=150,
    network_steward_script=b"",
    ns_payment_expiry_blocks=0,
    min_relay_fee_per_kb=1000,
    p2pkh_version=0x6F,
    p2sh_version=0xC4,
    wif_version=0xEF,
    bech32_hrp="bcrt",
    xprv_version=0x04358394,
    xpub_version=0x043587CF,
    hd_coin_type=1,
    wallet_coin_type=1,
)

NETWORKS: dict[str, NetworkParams] = {p.name: p for p in (MAINNET, TESTNET, REGTEST)}


def network_by_name(name: str) -> NetworkParams:
    try:
        return NETWORKS[name]
    except KeyError:
        raise ChainError(f"unknown network {name!r}; choose one of {', '.join(NETWORKS)}") from None
