"""Site kind ``forum``: a Dread/RuTor-like discussion forum (English boards and a Russian one).

Home → boards (``/d/<slug>``; the Russian board ``/d/ru`` lists per-city sections
``/d/ru/<city>``) → paginated thread lists → threads (``/t/<id>``, paginated posts) → user
profiles (``/u/<handle>``, behind the lab's login wall). Vendors are shared identities
(preferably ones selling on the lab's markets) with their own PGP keys: their official
threads open with a real PGP-clearsigned announcement, and the admin signs the forum's
announcements, its ``/pgp`` notice and a phishing PSA. Scam reports name the phishing clone's
onion and tell an exit-scam story (``ForumContent.dead_markets``, which the link directory
lists as down). Some posts carry crypto addresses, contacts in obfuscated forms
("t . me / name", "name [at] domain [dot] example") and checksum-failing decoys; every
valid identifier is declared per page.

Modules: ``paths`` (the URL scheme, shared by the site ``onionlab.lab.sites.forum`` and the
truth), ``content`` (the model and its queries), ``words`` (``data/words.json``),
``builder`` (users, adding threads), ``official``, ``scams`` and ``boards`` (the thread
families), ``build`` and ``truth``. This package re-exports what the site and the world use.
Depends on ``onionlab.lab.world``.
"""

from onionlab.lab.world.kinds.forum.build import build
from onionlab.lab.world.kinds.forum.content import *  # noqa: F403  (the model, its __all__)
from onionlab.lab.world.kinds.forum.content import __all__ as _content_all
from onionlab.lab.world.kinds.forum.paths import (
    PGP_PATH,
    PROTECTED_PREFIXES,
    board_path,
    thread_path,
    user_path,
)
from onionlab.lab.world.kinds.forum.truth import (
    decoys,
    occurrences,
    pages,
    truth_listings,
    truth_vendors,
)
from onionlab.lab.world.kinds.forum.words import TAGS

__all__ = [
    *_content_all,
    "PGP_PATH",
    "PROTECTED_PREFIXES",
    "TAGS",
    "board_path",
    "build",
    "decoys",
    "occurrences",
    "pages",
    "thread_path",
    "truth_listings",
    "truth_vendors",
    "user_path",
]
