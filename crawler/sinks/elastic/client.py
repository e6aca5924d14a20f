"""Where Elasticsearch is and how to log in: settings resolution and the client factory.

Precedence, as everywhere in onionlab: flags (or Scrapy settings ``ES_*``) > environment
(``ONIONLAB_ES_URL``, ``ONIONLAB_ES_USER``, ``ONIONLAB_ES_PASSWORD``, ``ONIONLAB_ES_API_KEY``,
``ONIONLAB_CA_CERT``) > the ``[elasticsearch]`` table of ``onionlab.toml`` (or the file
``ONIONLAB_CONFIG`` names) > defaults. ``ONIONLAB_CA_CERT`` is the CA setting Kibana's
client reads too; the former ``ONIONLAB_ES_CA_CERT`` is still read after it, with a
deprecation warning. Secrets are never shown: :class:`ElasticSettings` hides them in its
``repr``. Depends on ``elasticsearch`` (with ``orjson``) and the standard library.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from onionlab.crawler.config import ConfigError, read_toml

if TYPE_CHECKING:  # imported by make_client: a crawl without Elasticsearch never loads it
    from elasticsearch import Elasticsearch

CONFIG_FILE = "onionlab.toml"
CONFIG_TABLE = "elasticsearch"
START_HINT = "start it with `docker compose up -d elasticsearch`, or set ONIONLAB_ES_URL"
# setting name -> (environment variable, key in the [elasticsearch] table)
FIELDS: dict[str, tuple[str, str]] = {
    "url": ("ONIONLAB_ES_URL", "url"),
    "user": ("ONIONLAB_ES_USER", "user"),
    "password": ("ONIONLAB_ES_PASSWORD", "password"),
    "api_key": ("ONIONLAB_ES_API_KEY", "api_key"),
    "ca_cert": ("ONIONLAB_CA_CERT", "ca_cert"),
}
# setting name -> (deprecated environment variable, read after the current one)
DEPRECATED_ENV: dict[str, str] = {"ca_cert": "ONIONLAB_ES_CA_CERT"}


class ElasticConfigError(ConfigError):
    """The Elasticsearch settings are unusable; the message says which and why."""


@dataclass(frozen=True)
class ElasticSettings:
    """How to reach one cluster. ``url`` empty means Elasticsearch is not configured."""

    url: str = ""
    user: str = ""
    password: str = field(default="", repr=False)
    api_key: str = field(default="", repr=False)
    ca_cert: str = ""
    request_timeout: float = 10.0
    source: str = "defaults"
    warnings: tuple[str, ...] = ()  # e.g. a deprecated environment variable was used

    @property
    def configured(self) -> bool:
        return bool(self.url)

    def describe(self) -> str:
        """The URL and how it authenticates, for messages (never the secret itself)."""
        auth = "API key" if self.api_key else f"user {self.user}" if self.user else "no auth"
        return f"{self.url} ({auth}, from {self.source})"


def _config_table(env: Mapping[str, str], cwd: Path | None) -> tuple[dict[str, Any], str]:
    path = Path(env.get("ONIONLAB_CONFIG") or (cwd or Path.cwd()) / CONFIG_FILE).expanduser()
    if not path.is_file():
        return {}, ""
    try:  # unreadable, not UTF-8, not TOML: one line (onionlab.crawler.config)
        data = read_toml(path, "configuration file")
    except ConfigError as exc:
        raise ElasticConfigError(str(exc)) from None
    table = data.get(CONFIG_TABLE, {})
    if not isinstance(table, Mapping):
        raise ElasticConfigError(f"{path}: [{CONFIG_TABLE}] must be a table")
    return dict(table), str(path)


def resolve_settings(
    flags: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> ElasticSettings:
    """Merge flags > environment > ``onionlab.toml`` > defaults into one :class:`ElasticSettings`.

    ``flags`` maps the names of :data:`FIELDS` (``url``, ``user``, …) to values; ``None`` or
    ``""`` means "not given". ``source`` names where the URL came from.
    """
    env = os.environ if env is None else env
    flags = flags or {}
    table, table_path = _config_table(env, cwd)
    values: dict[str, str] = {}
    warnings: list[str] = []
    url_source = "defaults"
    for name, (variable, key) in FIELDS.items():
        deprecated = DEPRECATED_ENV.get(name, "")
        for value, source in (
            (flags.get(name), "flag"),
            (env.get(variable), f"${variable}"),
            (env.get(deprecated) if deprecated else None, f"${deprecated}"),
            (table.get(key), table_path),
        ):
            if value not in (None, ""):
                values[name] = str(value)
                if name == "url":
                    url_source = source
                if deprecated and source == f"${deprecated}":
                    warnings.append(f"{deprecated} is deprecated: set {variable} instead")
                break
    if values.get("url") and not values["url"].startswith(("http://", "https://")):
        raise ElasticConfigError(
            f"not an Elasticsearch URL: {values['url']!r} (expected http(s)://host:port)"
        )
    if values.get("ca_cert") and not Path(values["ca_cert"]).expanduser().is_file():
        raise ElasticConfigError(f"CA certificate not found: {values['ca_cert']}")
    return ElasticSettings(**values, source=url_source, warnings=tuple(warnings))


def scrapy_flags(settings: Any) -> dict[str, Any]:
    """A crawl's ``ES_*`` Scrapy settings, as :func:`resolve_settings` flags.

    A setting may also be named like its environment variable (``ONIONLAB_ES_URL``,
    ``ONIONLAB_CA_CERT``) or, for the CA, ``ONIONLAB_ES_CA_CERT``.
    """
    flags: dict[str, Any] = {}
    for name, (variable, _key) in FIELDS.items():
        names = (f"ES_{name.upper()}", variable, f"ONIONLAB_ES_{name.upper()}")
        flags[name] = next((settings.get(n) for n in names if settings.get(n)), None)
    return flags


def make_client(settings: ElasticSettings, **options: Any) -> Elasticsearch:
    """An :class:`~elasticsearch.Elasticsearch` client for ``settings`` (no request sent yet).

    ``options`` go to the client as they are (tests pass ``node_class``).
    """
    if not settings.configured:
        raise ElasticConfigError(f"Elasticsearch is not configured: {START_HINT}")
    kwargs: dict[str, Any] = {"request_timeout": settings.request_timeout}
    if settings.api_key:
        kwargs["api_key"] = settings.api_key
    elif settings.user:
        kwargs["basic_auth"] = (settings.user, settings.password)
    if settings.ca_cert and settings.url.startswith("https://"):
        # One CA setting serves Elasticsearch and Kibana, so it may be set for a plain-HTTP
        # cluster; the client refuses TLS options there, and they would mean nothing.
        kwargs["ca_certs"] = str(Path(settings.ca_cert).expanduser())
    from elasticsearch import Elasticsearch  # 17 MB of modules: only when a client is made
    from elasticsearch.serializer import OrjsonSerializer

    # orjson encodes bulk bodies (twice as fast here) and decodes answers faster than the
    # standard json the client uses by default: the same JSON, refusing only non-string keys.
    kwargs["serializer"] = OrjsonSerializer()
    kwargs.update(options)
    return Elasticsearch(settings.url, **kwargs)
