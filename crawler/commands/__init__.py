"""The ``onionlab`` command: the root click group, its commands, and the console script.

One module per command or command group (Scrapy's ``commands/`` layout): :mod:`.crawl`,
:mod:`.eval`, :mod:`.demo`, :mod:`.sites`, :mod:`.extract`, :mod:`.plugins`, and
:mod:`.index` and :mod:`.kibana`, which load only when run or listed; every command fails
with :class:`.errors.CommandError` and shares :mod:`.options`. Thin by design: crawling is
in :mod:`onionlab.crawler.runner`, scoring in :mod:`onionlab.crawler.scoring`; lab commands
(``up``, ``status``, ``down``, ``lab``) come from the lab plugin through the
``onionlab_register_commands`` hook, so the core never imports the lab.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any, ClassVar

import click

from onionlab.crawler import config, exitcodes
from onionlab.crawler.commands.crawl import crawl
from onionlab.crawler.commands.demo import demo
from onionlab.crawler.commands.diff import diff_command
from onionlab.crawler.commands.errors import CommandError, os_error_text
from onionlab.crawler.commands.eval import eval_command
from onionlab.crawler.commands.extract import extract_command
from onionlab.crawler.commands.plugins import plugins
from onionlab.crawler.commands.replay import replay_command
from onionlab.crawler.commands.report import report_command
from onionlab.crawler.commands.sites import sites
from onionlab.crawler.commands.summary import err
from onionlab.crawler.commands.verify import verify_command
from onionlab.crawler.pluginmanager import call_each, get_plugins

EXIT_CODES = exitcodes.HELP


class OnionlabGroup(click.Group):
    """The root command: every command's failure becomes one clear line and an exit code.

    Ctrl-C outside a crawl exits 130; a bad data directory or configuration file 2; a
    crawl that could not start or whose engine failed 1; a file-system error 1 (with the
    path). Anything else unexpected is one line too (``ONIONLAB_DEBUG=1`` re-raises it,
    with its traceback).
    """

    # Commands whose modules load big clients (Elasticsearch's is 17 MB): imported when
    # run or listed, so a crawl never carries them (click's "lazily loading subcommands").
    lazy_commands: ClassVar[dict[str, str]] = {
        "index": "onionlab.crawler.commands.index:index",
        "kibana": "onionlab.crawler.commands.kibana:kibana",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands and cmd_name not in self.commands:
            module, _, name = self.lazy_commands[cmd_name].partition(":")
            self.add_command(getattr(importlib.import_module(module), name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        from onionlab.crawler.runner import CrawlFailed

        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            raise CommandError("interrupted (Ctrl-C)", exitcodes.INTERRUPTED) from None
        except config.ConfigError as exc:
            raise CommandError(str(exc), exitcodes.USAGE) from None
        except CrawlFailed as exc:  # wrong input read at the start: 2; anything else: 1
            wrong_input = isinstance(exc.cause, config.ConfigError)
            raise CommandError(
                str(exc), exitcodes.USAGE if wrong_input else exitcodes.FAILED
            ) from None
        except OSError as exc:
            if os.environ.get("ONIONLAB_DEBUG"):
                raise
            raise CommandError(os_error_text(exc), exitcodes.FAILED) from None
        except Exception as exc:
            if os.environ.get("ONIONLAB_DEBUG"):
                raise
            raise CommandError(
                f"unexpected {type(exc).__name__}: {exc} (ONIONLAB_DEBUG=1 shows the "
                "traceback; please report it)",
                exitcodes.FAILED,
            ) from None


@click.group(
    cls=OnionlabGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_CODES,
)
@click.version_option(package_name="onionlab")
def cli() -> None:
    """onionlab — crawl a laboratory darknet of Tor onion services, safely, on this machine.

    \b
    Quick start (everything stays on 127.0.0.1, nothing touches the real Tor network):
      onionlab demo            bring the lab up, crawl it through Tor, score, take it down
      onionlab up              start the lab (private Tor network + mock sites)
      onionlab status          which onion services answer through Tor
      onionlab crawl           crawl the running lab through Tor into a run directory
      onionlab eval RUNDIR     score a run against the lab's ground truth
      onionlab verify RUNDIR   check a run's evidence (files, WARC records) is unaltered
      onionlab diff OLD NEW    what changed between two crawls (prices, exit scams, …)
      onionlab replay RUNDIR   the captured pages in your browser, as they looked
      onionlab report RUNDIR   one HTML file with charts and tables of a run (no Docker)
      onionlab down            stop the lab

    Data (lab state, crawl runs) goes to ./onionlab-data, or --data-dir / $ONIONLAB_DATA.
    """


for _command in (
    crawl,
    eval_command,
    demo,
    sites,
    plugins,
    extract_command,
    verify_command,
    diff_command,
    replay_command,
    report_command,
):
    cli.add_command(_command)


def _early_plugins_dir(argv: list[str]) -> str | None:
    """``--plugins-dir DIR`` anywhere on the command line (like pytest's ``-p``).

    Plugins are loaded before click parses the command line, because plugins add
    commands; so this one option is read first and handed on as ``ONIONLAB_PLUGINS_DIR``.
    """
    for index, arg in enumerate(argv):
        if arg == "--plugins-dir" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--plugins-dir="):
            return arg.partition("=")[2]
    return None


def main() -> None:
    """Entry point of the ``onionlab`` console script."""
    plugins_dir = _early_plugins_dir(sys.argv[1:])
    if plugins_dir:
        os.environ["ONIONLAB_PLUGINS_DIR"] = str(Path(plugins_dir).resolve())
    try:
        loaded = get_plugins()
        for _name, _ in call_each(loaded.manager, "onionlab_register_commands", cli=cli):
            pass
    except KeyboardInterrupt:  # Ctrl-C while plugins load: before any command ran
        CommandError("interrupted (Ctrl-C)").show()
        sys.exit(exitcodes.INTERRUPTED)
    for info in loaded.errors:
        err.print(f"warning: {info.error} (`onionlab plugins list` shows more)", markup=False)
    cli(prog_name="onionlab")
