"""Backup and restore: one file with the settings, checked and applied as a whole.

``document`` reads the box into a backup file and back (``sealing`` encrypts it with
a passphrase), ``plan`` checks a backup with the page's validators and lists what
would change, ``applying`` writes it atomically or puts everything back, and
``backup_cli`` is ``ivs-accessory backup``, ``restore`` and ``provision``. Importing
this package imports none of its modules.
"""

__all__ = ["applying", "backup_cli", "document", "plan", "sealing"]
