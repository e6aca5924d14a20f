"""Talking to a lab tor's ControlPort with stem: bootstrap progress and ephemeral onions.

Depends on stem; connects to 127.0.0.1 only and authenticates with the tor's cookie.
"""

from __future__ import annotations

import re

import stem
import stem.connection
from stem.control import Controller

from .ports import LOOPBACK
from .waiting import poll

_PROGRESS = re.compile(r"PROGRESS=(\d+)")


def connect(port: int, *, timeout: float = 10.0) -> Controller:
    """Return an authenticated controller, retrying while tor is still opening its port.

    Authenticates with the cookie file that tor names in PROTOCOLINFO. (Calling
    stem.connection.authenticate_cookie directly would leave stem's event listeners
    unattached, and await_publication would never see HS_DESC events.)
    """
    last_error: Exception | None = None
    for _ in poll(timeout, 0.1):
        controller = None
        try:
            controller = Controller.from_port(address=LOOPBACK, port=port)
            controller.authenticate()
            return controller
        except (stem.SocketError, stem.connection.AuthenticationFailure) as exc:
            # Tor opens its ControlPort and writes the cookie a moment after it starts.
            if controller is not None:
                controller.close()
            last_error = exc
    assert last_error is not None
    raise last_error


def bootstrap_progress(controller: Controller) -> int:
    """Return tor's bootstrap percentage (0–100)."""
    phase = controller.get_info("status/bootstrap-phase")
    match = _PROGRESS.search(phase)
    return int(match.group(1)) if match else 0


def add_onion(
    controller: Controller,
    key_blob: str,
    virtual_port: int,
    target_port: int,
    *,
    timeout: float,
) -> str:
    """Publish a detached onion service with the given ``ED25519-V3:...`` key; return its id.

    Waits until a directory has accepted the descriptor. Detached, because an ephemeral
    service otherwise dies with the control connection that created it.
    """
    key_type, _, key_content = key_blob.partition(":")
    response = controller.create_ephemeral_hidden_service(
        {virtual_port: f"{LOOPBACK}:{target_port}"},
        key_type=key_type,
        key_content=key_content,
        detached=True,
        await_publication=True,
        timeout=timeout,
    )
    return response.service_id


def remove_onion(controller: Controller, service_id: str) -> bool:
    """Remove an ephemeral onion service; False if tor did not have it."""
    return bool(controller.remove_ephemeral_hidden_service(service_id))
