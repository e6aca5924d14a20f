"""Links vendor profiles across sites into the people behind them (``VendorIdentity`` items).

A built-in plugin written like an instructor's: it imports only ``crawler.hookimpl`` and the
item types, and is registered through the ``onionlab`` entry-point group. It answers
``onionlab_link_items`` once per crawl, with every ``Vendor`` and ``Entity`` of the run.

A vendor profile (a ``Vendor``: site host and handle) shows the identifiers found on its own
page (the ``Entity`` items whose ``url`` is the profile's), plus its ``pgp_fingerprint`` and
``btc`` addresses. Two profiles are one person when they share a PGP fingerprint, a contact
(e-mail, Telegram, Jabber, Session) or a wallet address; the groups are the connected
components of that relation (union-find). Handles never link anything: a phishing clone
copies every handle of the market it imitates, with its own keys and wallets. Three rules
keep shared values from merging strangers:

* **Site furniture is not personal.** A value shown on the profiles of two or more vendors
  of the *same* site (the market's escrow wallet, a support contact, an admin key in the
  footer) links nobody. A person has one profile per site, so this costs next to nothing.
* **Keys decide first.** Profiles are joined by fingerprint first; then profiles without a
  key are joined by the contacts and wallets they share. A weaker identifier never joins
  two groups that have different keys, and a key-less group joins a keyed one only when it
  is linked to exactly one key: shown beside two, it cannot say whose it is. A value that
  still links two identities is kept in ``extra["conflicts"]`` of both: a clone that
  copied a vendor's Telegram handle but swapped the key is a lead for an analyst, not the
  same person. The result does not depend on the order of the items.
* **Only identifiers link**: onion addresses (those of the site itself) and substances do
  not.

Every profile belongs to exactly one ``VendorIdentity``, even alone. Its ``identity`` is
derived from the cluster's strongest identifier (a PGP fingerprint, else a Session ID,
Jabber ID, e-mail, Telegram username, wallet), the smallest value of that type, so a
re-crawl of the same sites gives the same ids. Profiles sharing a handle with a profile of
another identity are named in ``extra["same_handle_as"]`` (the clone's look-alikes).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from onionlab import hookimpl
from onionlab.items import Entity, Item, Vendor, VendorIdentity

KEY = "pgp_fingerprint"
CONTACTS = ("session", "jabber", "email", "telegram")
WALLETS = ("btc", "xmr", "ltc", "trx", "eth")
STRENGTH = (KEY, *CONTACTS, *WALLETS)
"""Identifier types that link profiles, strongest first (the order ``identity`` follows)."""

Profile = tuple[str, str]  # (site host, handle in lower case: sites match handles so)
Identifier = tuple[str, str]  # (type, value)


@dataclass
class _Profiles:
    """The vendor profiles of a crawl and the linking identifiers each one shows."""

    handles: dict[Profile, str] = field(default_factory=dict)
    shows: dict[Profile, set[Identifier]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def of(cls, items: Iterable[Item]) -> _Profiles:
        found = cls()
        by_url: dict[str, list[Profile]] = defaultdict(list)
        entities: list[Entity] = []
        for item in items:
            if isinstance(item, Vendor):
                profile = (item.site.lower(), item.handle.lower())
                # One spelling of the handle, whatever order the items come in.
                found.handles[profile] = min(found.handles.get(profile, item.handle), item.handle)
                by_url[item.url].append(profile)
                if item.pgp_fingerprint:
                    found.shows[profile].add((KEY, item.pgp_fingerprint.upper()))
                found.shows[profile].update(("btc", address) for address in item.btc)
            elif isinstance(item, Entity) and item.type in STRENGTH:
                entities.append(item)
        for entity in entities:
            for profile in by_url.get(entity.url, ()):
                found.shows[profile].add((entity.type, entity.value))
        return found

    def personal(self) -> dict[Profile, set[Identifier]]:
        """What each profile shows, without values that several profiles of one site show."""
        seen_on: dict[tuple[str, Identifier], int] = defaultdict(int)
        for (site, _), identifiers in self.shows.items():
            for identifier in identifiers:
                seen_on[(site, identifier)] += 1
        return {
            profile: {i for i in self.shows.get(profile, set()) if seen_on[(profile[0], i)] == 1}
            for profile in self.handles
        }


class _Clusters:
    """Union-find over profiles that also tracks the PGP keys of each cluster."""

    def __init__(self, shows: dict[Profile, set[Identifier]]) -> None:
        self.parent = {profile: profile for profile in shows}
        self.keys = {p: {v for t, v in ids if t == KEY} for p, ids in shows.items()}

    def find(self, profile: Profile) -> Profile:
        while self.parent[profile] != profile:
            self.parent[profile] = self.parent[self.parent[profile]]
            profile = self.parent[profile]
        return profile

    def keyed(self, profile: Profile) -> bool:
        return bool(self.keys[self.find(profile)])

    def union(self, a: Profile, b: Profile) -> None:
        root_a, root_b = sorted((self.find(a), self.find(b)))
        if root_a != root_b:
            self.parent[root_b] = root_a
            self.keys[root_a] |= self.keys.pop(root_b)

    def groups(self) -> list[list[Profile]]:
        members: dict[Profile, list[Profile]] = defaultdict(list)
        for profile in sorted(self.parent):
            members[self.find(profile)].append(profile)
        return list(members.values())


def _cluster(holders: dict[Identifier, list[Profile]], clusters: _Clusters) -> None:
    """Join the profiles of one person, in an order that does not depend on the input's."""
    keys = {i: hs for i, hs in holders.items() if i[0] == KEY}
    others = {i: hs for i, hs in holders.items() if i[0] != KEY}
    for profiles in keys.values():  # 1. a shared key is one person
        for profile in profiles[1:]:
            clusters.union(profiles[0], profile)
    for profiles in others.values():  # 2. key-less profiles sharing a contact or wallet
        keyless = [p for p in profiles if not clusters.keyed(p)]
        for profile in keyless[1:]:
            clusters.union(keyless[0], profile)
    neighbours: dict[Profile, set[Profile]] = defaultdict(set)
    for profiles in others.values():  # 3. …join the one key they are shown with, if one
        roots = {clusters.find(p) for p in profiles}
        keyed = {root for root in roots if clusters.keyed(root)}
        for root in roots - keyed:
            neighbours[root] |= keyed
    for root, keyed in neighbours.items():
        if len(keyed) == 1:
            clusters.union(root, keyed.pop())


def link(items: Iterable[Item]) -> list[VendorIdentity]:
    """The identities behind every vendor profile in ``items`` (see the module docstring)."""
    profiles = _Profiles.of(items)
    shows = profiles.personal()
    holders: dict[Identifier, list[Profile]] = defaultdict(list)
    for profile in sorted(shows):
        for identifier in shows[profile]:
            holders[identifier].append(profile)
    clusters = _Clusters(shows)
    _cluster(holders, clusters)
    # What still links two identities was refused: a lead for an analyst.
    conflicts: dict[Profile, set[Identifier]] = defaultdict(set)
    for identifier, holding in holders.items():
        roots = {clusters.find(p) for p in holding}
        if len(roots) > 1:
            for root in roots:
                conflicts[root].add(identifier)
    identities = [
        _identity(group, shows, conflicts[clusters.find(group[0])], profiles.handles)
        for group in clusters.groups()
    ]
    _name_look_alikes(identities)
    return sorted(identities, key=lambda identity: identity.identity)


def _identity(
    group: list[Profile],
    shows: dict[Profile, set[Identifier]],
    conflicts: set[Identifier],
    handles: dict[Profile, str],
) -> VendorIdentity:
    identifiers = set().union(*(shows[p] for p in group))
    ranked = sorted(identifiers, key=lambda i: (STRENGTH.index(i[0]), i[1]))
    # The strongest identifier names the person; a profile without any names itself.
    identity = "{}:{}".format(*(ranked[0] if ranked else ("vendor", "/".join(group[0]))))
    return VendorIdentity(
        identity=identity,
        members=[{"site": site, "handle": handles[(site, h)]} for site, h in group],
        handles=sorted({handles[p] for p in group}),
        pgp_fingerprints=[v for t, v in ranked if t == KEY],
        contacts=[{"type": t, "value": v} for t, v in ranked if t in CONTACTS],
        wallets=[{"type": t, "value": v} for t, v in ranked if t in WALLETS],
        extra={"conflicts": [{"type": t, "value": v} for t, v in sorted(conflicts)]}
        if conflicts
        else {},
    )


def _name_look_alikes(identities: list[VendorIdentity]) -> None:
    """Note in ``extra["same_handle_as"]`` the other identities that use one of its handles."""
    by_handle: dict[str, set[str]] = defaultdict(set)
    for identity in identities:
        for handle in identity.handles:
            by_handle[handle.lower()].add(identity.identity)
    for identity in identities:
        others = set().union(*(by_handle[h.lower()] for h in identity.handles)) - {
            identity.identity
        }
        if others:
            identity.extra["same_handle_as"] = sorted(others)


@hookimpl
def onionlab_link_items(items: Collection[Item]) -> list[Item] | None:
    identities = link(items)
    return list(identities) if identities else None
