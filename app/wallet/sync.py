"""Running a wallet against the light client: sync (with the rescans the gap limit asks for)
and broadcast."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from miner.threadguard import forbid_gui_thread
from spv.node import BroadcastResult, SpvNode
from spv.peer import PeerError
from spv.tx import Transaction

from .wallet import Wallet, WalletError

log = logging.getLogger(__name__)

MAX_RESCAN_ROUNDS = 50


class BroadcastError(WalletError):
    """No peer took the transaction, or a peer rejected it."""


async def sync_wallet(wallet: Wallet, node: SpvNode, timeout: float | None = None) -> int:
    """Sync `node` (already started) with `wallet` as its watcher until caught up, rescanning
    while new keys were derived; returns the synced height. `timeout` (seconds) bounds the
    whole, rescans included (spv.node.SyncTimeout). The wallet commits as the scan goes
    (`Wallet.on_scan_progress`) and is saved at the end, also when the sync fails half-way."""
    forbid_gui_thread("sync_wallet")
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    node.watcher = wallet
    start = wallet.prepare_sync(node.chain)
    if start is not None and node.scan_height >= start:
        node.rescan_from(start)
    try:
        for _ in range(MAX_RESCAN_ROUNDS):
            remaining = None if deadline is None else max(0.0, deadline - loop.time())
            await node.sync(timeout=remaining)
            rescan = wallet.take_rescan_request()
            if rescan is None:
                break
            log.info("wallet %s: new addresses derived, rescanning from %d", wallet.name, rescan)
            node.rescan_from(rescan)
        wallet.finish_sync(node.chain, node.scan_height)
    finally:
        wallet.save()
    return node.scan_height


async def broadcast(
    wallet: Wallet, node: SpvNode, tx: Transaction, wait: float = 5.0
) -> BroadcastResult:
    """Broadcast a signed transaction; on success record it as pending in the wallet.

    Raises BroadcastError when a peer rejects it or no peer asks for it. A ping to the
    peers that took it makes sure a rejection sent right after the transaction is seen."""
    result = await node.broadcast(tx.serialize(), wait=wait)
    for peer in list(node.peers.values()):
        if peer.info.address in result.requested_by:
            with contextlib.suppress(PeerError):
                await peer.ping()
    await asyncio.sleep(0.05)
    if result.rejected:
        who, why = result.rejected[0]
        raise BroadcastError(f"the transaction was rejected by {who}: {why}")
    if not result.requested_by:
        raise BroadcastError("no peer asked for the transaction; it was not sent")
    wallet.record_pending(tx)
    return result
