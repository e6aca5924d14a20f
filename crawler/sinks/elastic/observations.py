"""Observations: each crawl's own copy of a listing or a page, so their history stays searchable.

A listing's or a page's ``_id`` is the same in every crawl, so each crawl replaces its
document in ``onionlab-listings`` / ``onionlab-pages``: those show the latest crawl. Beside
each such document the sink writes an observation to ``onionlab-listing-observations`` /
``onionlab-page-observations``: the same document, stamped with its crawl (``@timestamp``,
``run_id``), under the id ``<document id>:<run id>`` and with ``observed_id`` (the
document's own id). Indexing a run again overwrites its observations; a new crawl adds its
own. ``first_seen``/``last_seen`` (history across crawls, see
:mod:`onionlab.crawler.sinks.elastic.history`) are left out: an observation is one crawl.
Depends on the :mod:`onionlab.crawler.sinks.elastic` siblings ``bulk`` and ``templates``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from onionlab.crawler.sinks.elastic.bulk import Action
from onionlab.crawler.sinks.elastic.templates import OBSERVATION_ALIASES, OBSERVED_ID

_ACROSS_CRAWLS = frozenset({"first_seen", "last_seen"})


def observation_id(doc_id: str, run_id: str) -> str:
    """The id of the observation of document ``doc_id`` in crawl ``run_id``."""
    return f"{doc_id}:{run_id}"


def observation(action: Action) -> Action | None:
    """The observation ``action``'s document makes in its crawl; ``None`` for a kind whose
    crawls are not kept (vendors, identifiers, events…)."""
    alias = OBSERVATION_ALIASES.get(action.alias)
    if alias is None:
        return None
    doc = {key: value for key, value in action.doc.items() if key not in _ACROSS_CRAWLS}
    doc[OBSERVED_ID] = action.id
    return Action(alias, observation_id(action.id, str(doc.get("run_id", ""))), doc)


def with_observations(actions: Iterable[Action]) -> Iterator[Action]:
    """Each action, followed by its observation when its kind has them."""
    for action in actions:
        yield action
        observed = observation(action)
        if observed is not None:
            yield observed
