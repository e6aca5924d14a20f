"""The one error every ``onionlab`` command fails with: an ``error:`` line and an exit code.

Commands raise :class:`CommandError` (or call :func:`fail`); click shows it on stderr and
exits with its code (the codes are :mod:`onionlab.crawler.exitcodes`). Depends on click and
rich only.
"""

from __future__ import annotations

from typing import Any, NoReturn

import click
from rich.console import Console
from rich.text import Text

err = Console(stderr=True, highlight=False, soft_wrap=True)  # one line per message


class CommandError(click.ClickException):
    """A failure shown as one ``error:`` line (however long), with its exit code.

    With ``each_line``, every line of a multi-line message gets its own ``error:`` (a list
    of problems); else the message is printed as it is after one ``error:`` (a message
    followed by a traceback).
    """

    def __init__(self, message: str, exit_code: int = 1, *, each_line: bool = False) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.each_line = each_line

    def show(self, file: Any = None) -> None:
        message = self.format_message()
        for line in message.splitlines() if self.each_line else [message]:
            print_error(line)


def print_error(message: str) -> None:
    """``error: message`` on stderr, for a failure the command goes on after."""
    err.print(Text.assemble(("error: ", "bold red"), message))


def print_warning(message: str) -> None:
    """``warning: message`` on stderr."""
    err.print(Text.assemble(("warning: ", "yellow"), message))


def fail(message: str, exit_code: int = 1) -> NoReturn:
    """Stop the command with ``message`` on one ``error:`` line and ``exit_code``."""
    raise CommandError(message, exit_code)


def os_error_text(exc: OSError) -> str:
    """An OS error as one line: what went wrong and on which path."""
    where = f" {exc.filename}" if exc.filename else ""
    return f"{exc.strerror or exc}:{where}" if where else str(exc.strerror or exc)
