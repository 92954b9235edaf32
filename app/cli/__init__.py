"""The `pkt-wallet` command line.

- `main`: the entry point (`pkt-wallet`, `python -m app`): global options, the argparse tree,
  errors as one line and exit codes.
- `common`: what every command shares (`Context`, `CLIError`, exit codes, peers, output).
- `wallet_session`: opening a wallet, reading its secrets, syncing and broadcasting.
- One module per command group: `chain`, `wallet` (and `spending` for the commands that
  spend), `mining` (`mine`, `mining-earnings`), `announcements` (`ann-check`, `ann-mine`),
  `steward`, `vpn`. Each has a `register(sub)` that adds its subcommands.
"""
