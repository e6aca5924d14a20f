"""Site kind ``directory``: a hidden-wiki style link directory of every other lab service.

Built last, it lists every service in ``ctx.built`` (markets and their mirrors, the Russian
platform, vendor shops, the forum, the paste site) by category with up/down status, a
last-checked time (a fixed string), a check history and a "verified" badge. Traps, as on
real directories: the phishing clone (``clone_of``) sits in its original's category as a
user-submitted, unverified "mirror" under the original's name — only ``/warnings`` flags it
as phishing; the market that exit-scammed in the forum's story and a few other dead sites
are listed as down; a few links are mistyped onions whose checksum fails (decoys).
Pages: ``/``, ``/c/<category>``, ``/site/<slug>``, ``/status``, ``/warnings``, ``/about``.

Modules: ``paths`` (the URL scheme, shared by the site ``onionlab.lab.sites.directory``
and the truth), ``content``, ``build`` and ``truth``; word lists in ``data/words.json``.
Depends on ``onionlab.lab.world``.
"""

from onionlab.lab.world.kinds.directory.build import build
from onionlab.lab.world.kinds.directory.content import HISTORY, Entry
from onionlab.lab.world.kinds.directory.paths import (
    ABOUT_PATH,
    PROTECTED_PREFIXES,
    STATUS_PATH,
    WARNINGS_PATH,
    category_path,
    content_of,
    site_path,
)
from onionlab.lab.world.kinds.directory.truth import (
    decoys,
    occurrences,
    pages,
    truth_listings,
    truth_vendors,
)

__all__ = [
    "ABOUT_PATH",
    "HISTORY",
    "PROTECTED_PREFIXES",
    "STATUS_PATH",
    "WARNINGS_PATH",
    "Entry",
    "build",
    "category_path",
    "content_of",
    "decoys",
    "occurrences",
    "pages",
    "site_path",
    "truth_listings",
    "truth_vendors",
]
