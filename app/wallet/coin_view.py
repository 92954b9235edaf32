"""What coin control shows of one unspent coin: an immutable copy, safe to hand to another
thread."""

from collections.abc import Mapping
from dataclasses import dataclass

from spv.address import address_from_script
from spv.params import NetworkParams

from .model import Coin, outpoint_text


@dataclass(frozen=True)
class CoinView:
    outpoint: str  # TXID:N, as create_send(coins=...) and freeze() take it
    address: str | None  # None for a script without an address form
    value: int  # units
    confirmations: int  # 0 while unconfirmed
    label: str  # the address's label, else its transaction's
    frozen: bool
    usable: bool  # mature and not an expiring Network Steward payment (frozen or not)

    @property
    def short_outpoint(self) -> str:
        txid, _, index = self.outpoint.rpartition(":")
        return f"{txid[:8]}…:{index}"


def coin_view(coin: Coin, params: NetworkParams, labels: Mapping[str, str]) -> CoinView:
    address = address_from_script(coin.script, params)
    text = outpoint_text(coin.outpoint)
    label = labels.get(address, "") if address is not None else ""
    return CoinView(
        outpoint=text,
        address=address,
        value=coin.value,
        confirmations=coin.confirmations,
        label=label or labels.get(text.rpartition(":")[0], ""),
        frozen=coin.frozen,
        usable=coin.mature and not coin.ns_expired,
    )
