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


def _pkt_subsidy_for_period(period: int) -> int:
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
    """Units created by the blocks below `height` (pktd's PktCalcTotalMoney)."""
    if not params.has_packetcrypt:
        return sum(block_subsidy(h, params) for h in range(height))
    full_periods, rest = divmod(height, PKT_PERIOD_BLOCKS)
    total = sum(_pkt_subsidy_for_period(p) * PKT_PERIOD_BLOCKS for p in range(full_periods))
    return total + _pkt_subsidy_for_period(full_periods) * rest
