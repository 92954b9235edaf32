"""Pure-Python reference implementation of PacketCrypt version-1 announcement mining.

This package is the specification in code (``shared/spec/packetcrypt.md``): every
module follows one section of the spec and keeps intermediate values observable, so that a
native kernel can be checked against it value by value.

Modules, in dependency order:

* :mod:`.primitives`  -- BLAKE2b, ChaCha20, Poly1305, ``Expand`` (spec section 2)
* :mod:`.cryptocycle` -- the 2048-byte CryptoCycle state machine (section 3)
* :mod:`.opcodes`     -- RandHash opcodes and instruction fields (sections 4.6, 4.7)
* :mod:`.randgen`     -- the RandGen program generator (section 4)
* :mod:`.randhash_ops` -- the semantics of every arithmetic opcode (section 5.4)
* :mod:`.randhash`    -- the RandHash interpreter (sections 5.1 to 5.3)
* :mod:`.items`       -- v1 items and 8192-item tables (section 6.1)
* :mod:`.merkle`      -- the BLAKE2b-512 announcement merkle tree (section 7)
* :mod:`.difficulty`  -- compact targets, work, the soft-nonce cap (section 11)
* :mod:`.announce`    -- the 1024-byte announcement layout and its hashes (sections 1, 9)
* :mod:`.mine`        -- the mining loop (sections 8, 9)
* :mod:`.validate`    -- the announcement validator (section 10)
* :mod:`.commitment`  -- the coinbase commitment (sections 11.4, 18.5)

Block proofs (section 18):

* :mod:`.blockwire`   -- parsing the block message: proof records and transactions
* :mod:`.anntree`     -- the committed announcement tree and its compressed proof
* :mod:`.blockproof`  -- the block work hash and pktd's ``ValidatePcBlock`` checks
"""
