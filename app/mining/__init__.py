"""One-click announcement mining, as a headless service the GUI and the CLI drive.

- `service`: `MiningService` (start, stop, watch), payout and pool checks, `MiningError`.
- `settings`: the saved choices (`<datadir>/mining.json`) and the known pools.
- `earnings`: what mining earned, from the wallet (per day; today and total).
- `status_text`: the status line and summary as text.

The engine itself (kernel, workers, pool client) is the `miner` package.
"""
