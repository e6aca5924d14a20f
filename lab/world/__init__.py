"""The lab's deterministic world: who sells what, where, under which keys and addresses.

``build_world(seed, scale)`` is the entry point; ``onionlab.lab.world.truth`` exports the ground
truth; ``onionlab.lab.world.layout`` says which pages each service serves. Pure Python with no I/O
besides reading the bundled vocabularies; never imports ``crawler`` or ``plugins``.
"""

from onionlab.lab.world.generate import build_world
from onionlab.lab.world.model import Category, Listing, PgpKey, Service, Vendor, World

__all__ = ["Category", "Listing", "PgpKey", "Service", "Vendor", "World", "build_world"]
