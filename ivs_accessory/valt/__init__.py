"""VALT REST API v3 client: ``client.ValtClient`` and the value objects in ``models``.

Importing this package imports none of its modules, so ``valt.models`` (room status,
marker colours) stays a leaf that the config can use without loading ``requests``.
"""

__all__ = [
    "admin",
    "answers",
    "client",
    "deadline",
    "login",
    "models",
    "timings",
    "transport",
]
