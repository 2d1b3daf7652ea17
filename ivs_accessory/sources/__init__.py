"""Input sources: each turns a device into events on one queue.

Owns the devices: ``base`` (the source lifecycle and registry), one module per kind
(``keypad``, ``card_hid``, ``card_serial`` with the ``wiegand`` framing, ``card_pcsc``
over ``pcsc``, ``console``; ``touch`` is the door page's on-screen pad), which device
a selector means (``selector``, ``keynames``: leaves) and which devices exist
(``devices``), and the set the daemon runs (``running``).
Importing this package imports none of them.
"""

__all__ = [
    "base",
    "card_hid",
    "card_pcsc",
    "card_serial",
    "console",
    "devices",
    "keynames",
    "keypad",
    "pcsc",
    "running",
    "selector",
    "touch",
    "wiegand",
]
