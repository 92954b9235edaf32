"""Network Steward Electorium elections (2024 onward): the count, its inputs and the node RPC.

Layers: `count` (the Electorium algorithm over a vote list), `vote_list` (a node's address
balances and votes to that list, the cap, the vote table hash), `epochs` (timing), `address_list`
(the `listaddresses` JSON shape), `noderpc` (a full node's JSON-RPC), `service` (the API the CLI
and GUI call). The vote output bytes live in `spv.electorium_vote`.
"""

from .count import Decision, ElectoriumOutcome, Standing, VoteEntry, count_votes
from .service import (
    CandidateStanding,
    NodeCount,
    StewardCount,
    count_address_list,
    count_from_file,
    count_from_node,
    node_winners,
)
from .vote_list import AddressRecord, TableHashVersion, build_vote_list

__all__ = [
    "AddressRecord",
    "CandidateStanding",
    "Decision",
    "ElectoriumOutcome",
    "NodeCount",
    "Standing",
    "StewardCount",
    "TableHashVersion",
    "VoteEntry",
    "build_vote_list",
    "count_address_list",
    "count_from_file",
    "count_from_node",
    "count_votes",
    "node_winners",
]
