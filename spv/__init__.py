"""Headless PKT light client: consensus bytes, P2P, header sync and compact filters.

`spv` knows scripts to watch, never keys.
"""
