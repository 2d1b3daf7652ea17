"""The door: what happens between an input and its outcome.

Owns the pipeline after the input sources: events become presented credentials or
bound keys (``mapping``), one intent each (``decide``), VALT calls on fresh room state
(``actions``, ``room``, ``directory``, ``starter``), the words the person is told
(``reports``), and what is left behind (``feedback``, ``audit``, ``recent``; the
recording lamp in ``lamp``, ``lamp_driver``, ``busylight``, ``lamp_ids``,
``lamp_memory``); what door
screens show (``board``, with today's sessions from ``timetable``). ``privacy`` puts
the room and its cameras into privacy and moves them to presets (``privacy_state``
what it believes of each camera, ``privacy_words`` its words). ``dispatcher`` is the
one thread that runs it in order; ``lockout`` and ``repeats`` guard it. ``enrolment``
is the page's enrolment mode (reads shown whole, acting on nothing), ``card_writer``
its write of a reading to a VALT user's card number. Importing this package imports
none of its modules.
"""

__all__ = [
    "actions",
    "audit",
    "board",
    "busylight",
    "calls",
    "card_writer",
    "credentials",
    "decide",
    "directory",
    "dispatcher",
    "enrolment",
    "factory_button",
    "feedback",
    "lamp",
    "lamp_driver",
    "lamp_ids",
    "lamp_memory",
    "lockout",
    "mapping",
    "outcome",
    "privacy",
    "privacy_state",
    "privacy_words",
    "recent",
    "repeats",
    "reports",
    "room",
    "starter",
    "terms",
    "timetable",
]
