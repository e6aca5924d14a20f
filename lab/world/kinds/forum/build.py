"""Builds the forum service: users, then every thread family in a fixed order.

Depends on ``onionlab.lab.world`` and the forum's modules.
"""

from __future__ import annotations

from onionlab.lab.world.context import ServiceSpec, WorldContext
from onionlab.lab.world.kinds.forum.boards import boards, boards_misc, russian
from onionlab.lab.world.kinds.forum.builder import Builder, slug_of
from onionlab.lab.world.kinds.forum.content import DAY, ForumContent, user_posts_from
from onionlab.lab.world.kinds.forum.official import announcements, reviews, vendor_threads
from onionlab.lab.world.kinds.forum.scams import scams
from onionlab.lab.world.model import Service
from onionlab.lab.world.pgp import clearsign
from onionlab.lab.world.vocab import cities


def build(ctx: WorldContext, spec: ServiceSpec) -> Service:
    """The forum: staff, vendors and members, boards, threads and signed announcements."""
    b = Builder(ctx, spec)
    onion = ctx.onion(spec.name)
    b.make_users()
    city_rng = ctx.rng(spec.name, "cities")
    all_cities = list(cities())
    picked = city_rng.sample(all_cities, min(len(all_cities), max(3, round(8 * ctx.scale))))
    picked.sort(key=all_cities.index)
    city_slugs = {slug_of(c.name_en): c for c in picked}
    announcements(b, onion)
    vendor_threads(b)
    reviews(b)
    dead = scams(b)
    boards_misc(b)
    russian(b, city_slugs)

    posted = user_posts_from(b.threads)
    users = tuple(
        sorted((u for u in b.users.values() if u.handle in posted), key=lambda u: u.handle.lower())
    )
    admin = b.users[b.admin]
    assert admin.pgp is not None
    notice = clearsign(
        b.secrets[b.admin],
        admin.pgp,
        f"{b.title} is reachable ONLY at:\n\nhttp://{onion}/\n\nAny other address claiming to "
        f"be {b.title} is a phishing site.\nSigning key: {admin.pgp.fingerprint}",
        b.now - 10 * DAY,
    )
    content = ForumContent(
        boards=tuple(boards(city_slugs)),
        users=users,
        threads=tuple(b.threads),
        admin=b.admin,
        admin_key=admin.pgp,
        pgp_notice=notice,
        dead_markets=tuple(dead),
        founded=b.founded,
    )
    return Service(
        name=spec.name,
        kind="forum",
        title=b.title,
        onion=onion,
        tagline=b.tagline,
        mirrors=ctx.mirrors(spec),
        content=content,
    )
