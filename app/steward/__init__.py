"""Network Steward: proposals of pkt-cash/ns-projects, on-chain election state, votes.

`service.StewardService` is the API for the CLI (`app/steward_commands.py`) and the window.
"""
