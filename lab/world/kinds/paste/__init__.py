"""Site kind ``paste``: an anonymous paste site, with one PrivateBin-style encrypted paste.

Index pages (newest first) → paste pages ``/p/<id>`` (title, author, created/expiry as fixed
strings, syntax, body) and their ``/raw/<id>`` text views. Bodies are what gets pasted in
the wild: English and Russian price lists, vendors' PGP keys, mirror lists (the onions of
the services built so far, the phishing clone among them, plus bad-checksum decoys),
contact lists, wallet lists (valid addresses and checksum-failing decoys) and chatter.
Price-list pastes are NOT listings in the ground truth.

One paste is end-to-end encrypted (AES-256-GCM, key from the seed): its page holds only
ciphertext and a script that decrypts with the key in the URL fragment, which never reaches
the server. Truth lists its page but none of the identifiers inside it. The index links it
without the fragment; another paste quotes the full link.

Modules: ``paths`` (the URL scheme, shared by the site ``onionlab.lab.sites.paste`` and the
truth), ``content``, ``build`` and ``truth``; word lists in ``data/words.json``.
Depends on ``onionlab.lab.world`` and pycryptodome.
"""

from onionlab.lab.world.kinds.paste.build import build
from onionlab.lab.world.kinds.paste.content import Paste, PasteBin
from onionlab.lab.world.kinds.paste.paths import ABOUT, HOME, index_path, paste_path, raw_path
from onionlab.lab.world.kinds.paste.truth import (
    decoys,
    index_pages,
    occurrences,
    pages,
    truth_listings,
    truth_vendors,
)

__all__ = [
    "ABOUT",
    "HOME",
    "Paste",
    "PasteBin",
    "build",
    "decoys",
    "index_pages",
    "index_path",
    "occurrences",
    "pages",
    "paste_path",
    "raw_path",
    "truth_listings",
    "truth_vendors",
]
