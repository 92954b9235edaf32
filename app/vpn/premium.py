"""Premium bandwidth paid in PKT (spec §8).

The exit hands out a fresh payment address and its price; the wallet builds and signs — but
does not broadcast — a transaction paying it; the client posts ``{ip, transaction, address}``
and the exit grants premium at once, broadcasts the transaction itself, and revokes premium if
the payment has not arrived within 5 minutes or when the hour is over.

``request_offer`` asks the exit for its offer; ``purchase_premium`` runs the purchase for
``VpnService.buy_premium``. It takes a ``PaymentSigner``; ``WalletPaymentSigner`` adapts
``app.wallet``'s ``Wallet.create_send`` + ``Wallet.sign`` (no broadcast) to it. Nothing is ever signed before the
caller's ``confirm`` callback has explicitly returned True for the offer it was shown.
"""

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from spv.address import decode_address
from spv.atomic import atomic_write
from spv.params import NetworkParams
from spv.units import format_amount

from .directory import Directory, ExitServer
from .errors import PremiumError
from .state import VpnState, VpnStatus

if TYPE_CHECKING:
    from app.wallet.wallet import Wallet

PREMIUM_SECONDS = 3600  # the exit grants one hour per payment
PAYMENT_GRACE_SECONDS = 300  # ... and revokes it if the payment has not arrived by then


@dataclass(frozen=True)
class SignedPayment:
    tx_hex: str
    txid: str
    amount_units: int
    fee_units: int
    on_accepted: Callable[[], None] | None = None  # e.g. record the tx as pending in the wallet


class PaymentSigner(Protocol):
    """Build and sign a transaction paying ``amount_units`` to ``address``. Must not broadcast."""

    def __call__(self, address: str, amount_units: int) -> SignedPayment: ...


@dataclass(frozen=True)
class PremiumOffer:
    exit_key: str
    exit_name: str
    address: str
    amount_units: int
    listed_cost: float  # the price in the exit list (PKT)

    def describe(self, units_per_coin: int, symbol: str = "PKT") -> str:
        amount = format_amount(self.amount_units, units_per_coin)
        return (
            f"Premium for 1 hour on {self.exit_name}: pay {amount} {symbol} to {self.address}. "
            "The exit broadcasts the payment; premium ends after one hour, or after 5 minutes "
            "if the payment does not arrive."
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def pkt_to_units(amount: Decimal | float | int | str, units_per_coin: int) -> int:
    try:
        value = Fraction(str(amount)) * units_per_coin
    except (ValueError, ZeroDivisionError):
        raise PremiumError(
            f"the exit asks for an amount that is not a number: {amount!s:.40}"
        ) from None
    if value <= 0:
        raise PremiumError(f"the exit asks for a price that is not positive: {amount!s:.40}")
    if value < 1:
        raise PremiumError(f"the exit asks for {amount!s:.40} PKT, less than one unit")
    return int(value)  # whole units; sub-unit fractions cannot be paid


@dataclass(frozen=True)
class PremiumGrant:
    exit_key: str
    granted_at: float
    until: float
    txid: str
    address: str
    amount_units: int
    message: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class PremiumStore:
    """Premium periods per exit, in ``<datadir>/vpn/premium.json``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, PremiumGrant]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return {k: PremiumGrant(**v) for k, v in data.items()}
        except (OSError, ValueError, TypeError, AttributeError):
            return {}

    def add(self, grant: PremiumGrant) -> None:
        grants = self.load()
        grants[grant.exit_key] = grant
        text = json.dumps({k: v.to_json() for k, v in grants.items()}, indent=1)
        atomic_write(self.path, text.encode(), mode=0o600)

    def active_until(self, exit_key: str, now: float) -> float | None:
        grant = self.load().get(exit_key)
        return grant.until if grant and grant.until > now else None


# -- the purchase ------------------------------------------------------------------------------


def request_offer(
    directory: Directory, params: NetworkParams, exit_server: ExitServer
) -> PremiumOffer:
    """Ask the exit for a payment address and amount (nothing is spent)."""
    request = directory.premium_address(exit_server.public_key)
    try:
        decode_address(request.address, params)
    except ValueError as exc:
        raise PremiumError(f"the exit's payment address is not usable: {exc}") from None
    return PremiumOffer(
        exit_server.public_key,
        exit_server.name,
        request.address,
        pkt_to_units(request.amount, params.units_per_coin),
        exit_server.cost,
    )


def purchase_premium(
    offer: PremiumOffer,
    signer: PaymentSigner,
    confirm: Callable[[PremiumOffer], bool],
    status: VpnStatus,
    directory: Directory,
    store: PremiumStore,
    clock: Callable[[], float],
) -> PremiumGrant:
    """Pay for one hour of premium on the exit the tunnel (``status``) is connected to, and
    record the grant in ``store``. ``confirm`` must return True for this exact offer before
    anything is signed; the exit broadcasts the transaction."""
    if status.state != VpnState.CONNECTED or status.exit_key != offer.exit_key:
        raise PremiumError("connect to this exit first: premium is granted to the tunnel's IPv4")
    if not status.ip4:
        raise PremiumError("the tunnel has no IPv4 address; the exit grants premium per IPv4")
    if confirm(offer) is not True:
        raise PremiumError("premium purchase not confirmed: nothing was signed or spent")
    payment = signer(offer.address, offer.amount_units)
    if payment.amount_units != offer.amount_units:
        raise PremiumError("the signed payment does not match the offer; not sent")
    message = directory.post_premium(offer.exit_key, status.ip4, payment.tx_hex, offer.address)
    if payment.on_accepted is not None:
        payment.on_accepted()
    now = clock()
    grant = PremiumGrant(
        offer.exit_key,
        now,
        now + PREMIUM_SECONDS,
        payment.txid,
        offer.address,
        offer.amount_units,
        message,
    )
    store.add(grant)
    return grant


class WalletPaymentSigner:
    """A ``PaymentSigner`` over an open ``app.wallet`` wallet: ``create_send`` then ``sign``.
    Once the exit accepted the transaction it is recorded as pending in the wallet, so its coins
    are not spent twice."""

    def __init__(self, wallet: "Wallet", password: str, fee_rate: str | None = None) -> None:
        self.wallet = wallet
        self.password = password
        self.fee_rate = fee_rate

    def __call__(self, address: str, amount_units: int) -> SignedPayment:
        preview = self.wallet.create_send([(address, amount_units)], fee_rate=self.fee_rate)
        tx = self.wallet.sign(preview, self.password)
        wallet = self.wallet
        return SignedPayment(
            tx.serialize().hex(),
            tx.txid_hex,
            amount_units,
            preview.fee,
            on_accepted=lambda: wallet.record_pending(tx),
        )
