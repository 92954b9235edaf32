"""The bundle's entry point (PyInstaller runs this file as __main__): the `pkt-wallet` command."""

import sys

from app.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
