"""Write a reading shown in enrolment mode to a VALT user's card number, audited."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from ivs_accessory.door.credentials import mask
from ivs_accessory.door.directory import UserDirectory
from ivs_accessory.door.enrolment import Enrolment
from ivs_accessory.errors import ValtError, ValtRejected
from ivs_accessory.valt.client import ValtClient
from ivs_accessory.valt.transport import server_reason

logger = logging.getLogger(__name__)

GONE = (
    "that read is no longer shown (enrolment mode ended, or the read dropped off "
    "the list): start enrolment mode and read the card again"
)
NO_VALT = "VALT is not configured: set the server and the account on the VALT page"


@dataclass(frozen=True)
class Written:
    """What came of one write: ``result`` is ``written``, ``refused`` (VALT said
    no; ``words`` are VALT's reason), ``failed`` (VALT could not be asked) or
    ``gone`` / ``not_configured`` (nothing was sent)."""

    result: str
    words: str

    @property
    def ok(self) -> bool:
        return self.result == "written"


def write_card(
    enrolment: Enrolment,
    client: ValtClient | None,
    directory: UserDirectory | None,
    record: Callable[..., object],
    *,
    seq: int,
    reading: str,
    user_id: int,
    by: str,
) -> Written:
    """Set user ``user_id``'s VALT card number to reading ``reading`` of read
    ``seq`` (1 request: VALT's user update).

    Only a read enrolment mode still shows can be written, so a number is never
    typed in, nor kept past the mode. Each write and each refusal by VALT goes to
    the audit log (``record``, ``AuditLog.note``) with the number masked: the
    project never logs a whole card number, the audit log included (it is a file
    on the box that a support download carries). On success the door's user
    cache is cleared, so the card matches its new owner at once.
    """
    value = enrolment.value(seq, reading)
    if value is None:
        return Written("gone", GONE)
    if client is None:
        return Written("not_configured", NO_VALT)
    shown = mask(value)
    try:
        user = client.set_card_number(user_id, value)
    except ValtRejected as exc:
        reason = server_reason(exc.body) or str(exc)
        _audit(record, "refused", shown, user_id, by, f"VALT refused: {reason}", value)
        logger.warning("enrolment: VALT refused a card number for user %d", user_id)
        return Written("refused", reason)
    except ValtError as exc:
        _audit(record, "failed", shown, user_id, by, str(exc), value)
        logger.error("enrolment: cannot write a card number: %s", exc)
        return Written("failed", str(exc))
    if directory is not None:
        directory.clear()
    enrolment.written(seq, reading, user)
    words = f"card number of {user.display_name or user.name} set ({reading}, {shown})"
    _audit(record, "written", shown, user.id, by, words, value)
    logger.info("enrolment: card number of user %d set (%s)", user.id, reading)
    return Written("written", words)


def _audit(
    record: Callable[..., object],
    result: str,
    shown: str,
    user_id: int,
    by: str,
    message: str,
    value: str,
) -> None:
    # VALT's words might repeat the number it refused: masked there too.
    record(
        source="page",
        action="enrol_write",
        result=result,
        credential=shown,
        user=user_id,
        client=by,
        message=message.replace(value, shown) if value else message,
    )
