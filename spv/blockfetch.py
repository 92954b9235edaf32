"""Fetching whole blocks from peers, each checked (parses, has the hash asked for, merkle root)."""

import logging

from .block import Block
from .errors import ParseError, ValidationError
from .params import NetworkParams
from .peer import PeerError, PeerMisbehaving
from .peerset import PeerSet

log = logging.getLogger(__name__)


class BlockFetcher:
    def __init__(self, params: NetworkParams, peer_set: PeerSet) -> None:
        self.params = params
        self.peer_set = peer_set

    async def fetch_blocks(self, hashes: list[bytes]) -> list[Block]:
        raws = await self.fetch_raw_blocks(hashes)
        return [Block.parse(r, self.params.has_packetcrypt) for r in raws]

    async def fetch_raw_blocks(self, hashes: list[bytes]) -> list[bytes]:
        """Raw blocks for `hashes`, each checked: parses, has the asked hash, merkle root."""
        peer_set = self.peer_set
        for _ in range(len(peer_set.peers) + 2):
            peer = peer_set.best()
            if peer is None:
                await peer_set.wait_for_peers(1, peer_set.peer_timeout)
                continue
            try:
                raws = await peer.get_blocks(hashes)
                if len(raws) != len(hashes):
                    raise PeerError("incomplete block answer")
                for want, raw in zip(hashes, raws, strict=True):
                    block = Block.parse(raw, self.params.has_packetcrypt)
                    if block.hash != want:
                        raise PeerMisbehaving("sent a block we did not ask for")
                    block.check_merkle_root()
                return raws
            except (ParseError, ValidationError, PeerMisbehaving, ValueError) as exc:
                peer_set.ban(peer, f"bad block: {exc}")
            except PeerError as exc:
                log.info("blocks from %s: %s", peer.info.address, exc)
        raise PeerError("no peer served the blocks")
