"""The room's Axis cameras over VAPIX: privacy and PTZ presets.

``vapix`` talks to one camera (requests, digest auth, one deadline per operation,
errors turned into ``CameraError`` in one place); ``camera_ops`` is what the door
does to one camera (privacy on or off, each setting read back; its state; a preset);
``fanout`` runs one operation on every camera at once, each under its deadline;
``roster`` says which cameras the room has (VALT's list, kept a while, and the
``[camera:NAME]`` sections). The ``axis`` library on PyPI is asyncio-based and
has no privacy masks, so the daemon's threads use ``requests`` here. Importing
this package imports none of its modules.
"""

__all__ = ["camera_ops", "fanout", "roster", "vapix"]
