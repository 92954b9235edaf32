"""Network Steward: proposals of pkt-cash/ns-projects, on-chain election state, votes.

`service.StewardService` is the API for the CLI (`app/cli/steward.py`) and the window.
"""
