"""Site kind ``ru_platform``: a Russian-language automated shop platform (Hydra/Mega type).

Platform home → shops (магазин: рейтинг, отзывы, продажи) → catalogue by город → район →
product card («товар»: фасовка, price in ₽/₸/сом with a BTC or USDT-TRC20 equivalent, тип
клада, моментальный/предзаказ). Each shop shows its operator's contacts (Telegram bot and
channel, «оператор 24/7», Jabber, sometimes Session) and its balance top-up wallets (BTC,
USDT-TRC20, XMR, LTC); a «Работа» section carries job ads. Operators are shared identities
(``ctx.vendors_for``).

Modules: ``paths`` (``RuLayout``, the URL scheme shared by the site
``onionlab.lab.sites.ru_platform`` and the truth), ``content`` (the model and its formats),
``words`` (``data/words.json``), ``drawing`` (small draws), ``products`` (wares, reviews,
jobs), ``build`` and ``truth``. This package re-exports what the site and the world use.
Depends on ``onionlab.lab.world``.
"""

from onionlab.lab.world.kinds.ru_platform.build import build
from onionlab.lab.world.kinds.ru_platform.content import *  # noqa: F403  (the model, its __all__)
from onionlab.lab.world.kinds.ru_platform.content import __all__ as _content_all
from onionlab.lab.world.kinds.ru_platform.paths import LAYOUT, PROTECTED_PREFIXES, RuLayout
from onionlab.lab.world.kinds.ru_platform.truth import (
    decoys,
    occurrences,
    pages,
    truth_jobs,
    truth_listings,
    truth_vendors,
)

__all__: list[str] = [
    *_content_all,
    "LAYOUT",
    "PROTECTED_PREFIXES",
    "RuLayout",
    "build",
    "decoys",
    "occurrences",
    "pages",
    "truth_jobs",
    "truth_listings",
    "truth_vendors",
]
