"""Block subsidy, the Network Steward's share, and total money issued.

PKT: 4166 PKT per block, cut by 10 % every 144000 blocks (100 days), exact integer arithmetic;
the Network Steward receives floor(subsidy * 51 / 256). Bitcoin-flavoured regtest: 50 coins
halving every `subsidy_halving_interval` blocks, no Network Steward.
"""

from .params import NetworkParams

PKT_PERIOD_BLOCKS = 144000
PKT_INITIAL_SUBSIDY = 4166 << 30
NS_SHARE_NUMERATOR = 51
NS_SHARE_DENOMINATOR = 256


def _first_empty_period() -> int:
    """The first period whose subsidy rounds down to 0 units (it stays 0 from then on)."""
    period = 0
    while PKT_INITIAL_SUBSIDY * 9**period // 10**period:
        period += 1
    return period


PKT_EMPTY_PERIOD = _first_empty_period()
"""Period 277 (block 39,888,000 on): no subsidy any more, so no sum need go further."""


def _pkt_subsidy_for_period(period: int) -> int:
    if period >= PKT_EMPTY_PERIOD:
        return 0
    return int(PKT_INITIAL_SUBSIDY * 9**period // 10**period)


def block_subsidy(height: int, params: NetworkParams) -> int:
    """Units a block at `height` may create (before fees)."""
    if height < 0:
        raise ValueError("height cannot be negative")
    if params.has_packetcrypt:
        return _pkt_subsidy_for_period(height // PKT_PERIOD_BLOCKS)
    halvings = height // params.subsidy_halving_interval
    if halvings >= 64:
        return 0
    return (50 * params.units_per_coin) >> halvings


def network_steward_share(height: int, params: NetworkParams) -> int:
    """Units the coinbase must pay the Network Steward at `height` (0 without a steward)."""
    if not params.network_steward_script:
        return 0
    return block_subsidy(height, params) * NS_SHARE_NUMERATOR // NS_SHARE_DENOMINATOR


def miner_share(height: int, params: NetworkParams) -> int:
    return block_subsidy(height, params) - network_steward_share(height, params)


def total_money(height: int, params: NetworkParams) -> int:
    """Units created by the blocks below `height` (pktd's PktCalcTotalMoney), in time that does
    not grow with the height: sums per period (or halving interval), none after the subsidy
    reached 0."""
    if height < 0:
        raise ValueError("height cannot be negative")
    if not params.has_packetcrypt:
        interval = params.subsidy_halving_interval
        full, rest = divmod(height, interval)
        total = sum((50 * params.units_per_coin >> k) * interval for k in range(min(full, 64)))
        return total + (block_subsidy(full * interval, params) * rest if full < 64 else 0)
    full_periods, rest = divmod(height, PKT_PERIOD_BLOCKS)
    total = sum(
        _pkt_subsidy_for_period(p) * PKT_PERIOD_BLOCKS
        for p in range(min(full_periods, PKT_EMPTY_PERIOD))
    )
    return total + _pkt_subsidy_for_period(full_periods) * rest
