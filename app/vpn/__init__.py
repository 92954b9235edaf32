"""The VPN through cjdns, headless: the window and the CLI (``app/cli/vpn.py``) drive
``service.VpnService``.

- ``service``: ``VpnService`` (keep alive, disconnect, live status; premium and diagnostics
  calls) and ``build_service``, which wires one from the settings.
- ``connect``: the connect state machine (start cjdns, peer, authorize, open the tunnel).
- ``state``: the states and their transitions, ``VpnStatus``, the saved ``Session``.
- ``authorize``: authorization at an exit (coordinator or directly).
- ``premium``: premium bandwidth: offer, purchase, grants, the wallet's payment signer.
- ``diagnostics``: test every link and report each step.
- ``system``: what changes on the machine (route exceptions, DNS), or a dry run.
- ``admin``/``bencode``: cjdroute's admin API; ``cjdroute``: finding, configuring, starting it.
- ``directory``: the exits' directory (coordinator) and its cache; ``invite``: ``pktvpn:``
  invites; ``keys``: cjdns keys; ``settings``: the saved VPN settings; ``errors``.
"""
