"""Plugins at work on pages: in bounded worker processes during a crawl, offline on saved pages.

Why a pool of our own and not ``pebble``/``loky``: the pool must (1) name the plugin that
was running when a page was cut off (a shared page the worker writes the plugin's name
into before each call), (2) watch each worker's resident memory (it needs the workers'
pids), (3) share the workers fairly between sites, so one hostile site never holds all of
them, and (4) deliver results on the event loop without helper threads contending for the
GIL on the crawl's hot path. pebble's ``ProcessPool`` gives per-task timeouts but none of
the rest, and forks workers from a thread of a threaded process. The pool here reads its
workers' pipes on the event loop (Scrapy 2.19 runs on the asyncio reactor): each worker
(:mod:`~onionlab.crawler.extraction.worker`; forked from the crawl before it runs, while the
process has one thread, else a new interpreter: :mod:`~onionlab.crawler.extraction.forked`)
speaks length-prefixed frames on its stdin/stdout.
"""
