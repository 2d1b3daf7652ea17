"""The operating system: files, commands, network, time, and the root helper.

Owns everything that touches the box beyond the daemon's own state: atomic file
writes (``atomic``), argv commands and the root operations (``commands``), the root
helper's entry point (``helper``), factory default (``factory``), netplan
(``netconfig``), time (``timeconfig``), the page's DNS-SD service file (``avahi``),
and package updates (``update``, with ``package_checks`` and ``readiness``; the
daemon's side: ``update_request``). Only ``helper`` runs as root. Importing
this package imports none of its modules.
"""

__all__ = [
    "atomic",
    "avahi",
    "commands",
    "factory",
    "helper",
    "netconfig",
    "package_checks",
    "readiness",
    "timeconfig",
    "update",
    "update_request",
]
