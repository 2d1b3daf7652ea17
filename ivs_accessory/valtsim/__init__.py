"""A stateful VALT REST API v3 simulator with fault injection, for tests, the demo and
integrators.

Where the protocol reference (``valt-api-v3.md``) says a server behaviour is unknown,
the simulator makes these choices, so that client bugs show up rather than hide:

- Forbidden transitions (start while recording or locked, stop with no recording, pause
  when not recording, resume when not paused, lock when busy, unlock when not locked,
  a marker or comment with no recording going) change nothing and get **409** with
  ``{"error": "room N is ...; cannot ..."}``. ``forbidden="400"`` or ``"500"`` use
  that status instead; ``forbidden="200"`` answers like a success:
  ``{"data": {"id": <the room's recording id or null>}}`` (a 6.x ``comment``: the
  comment object with ``"id": null``). ``reset()`` keeps the mode. Bad bodies get
  400; unknown rooms, users, recordings get 404; non-admin tokens on ``admin/*`` get
  403.
- Pause freezes ``recording.time``; resume continues it, or restarts it at 0 with
  ``reset_time_on_resume=True``.
- 5.x has ``rooms/{id}/record/markers``; 6.x has ``comment`` and
  ``rooms/{id}/record/comments``; each is 404 on the other major version. ``comment``
  checks the body form of its version (6.0-6.4 template object, 6.5 template + type,
  6.6 type + message) and answers 400 to another form.
- 6.5+ honours ``admin/users?cardNumber=`` (exact string match, leading zeros count)
  and leaves ``card_number`` out of user objects; older versions ignore the query and
  list ``card_number``.
- A card number another user already has is refused on user create and edit
  (``admin/users/{id}/edit``): **409** ``{"error": "the card number is already
  assigned to user 'NAME'"}``, nothing changed (whether VALT itself refuses is not
  known; two users with one number would make a match ambiguous).
- Schedules carry ``room: {id}`` before 6.5 and ``rooms: [{id}]`` from 6.5.
- A login returns the user's still-valid token; tokens live 2 days unless configured.
- Marker colours: any non-empty string unless an allow-list is given.

Faults (:class:`Fault`) replace the request unless ``after=True``, which carries it
out first and then spoils its answer: ``delay_ms`` (late), ``status`` (an error
although it was done), ``drop`` (no answer), ``malformed``, ``body`` (these raw
bytes, 200 or ``status``, ``content_type``), ``body_bytes`` (valid JSON that large,
streamed), ``trickle_bps`` (the whole answer at that many bytes per second) and
``endless`` (a status line, then a header line that never ends). The request log
says for each room action whether it ``changed`` the state, and when each answer
was fully sent (``answered``, null when it never was).
"""

from ivs_accessory.valtsim.data import SimDataError, default_data, load_data
from ivs_accessory.valtsim.faults import Fault
from ivs_accessory.valtsim.main import main
from ivs_accessory.valtsim.simulator import ValtSimulator
from ivs_accessory.valtsim.state import SimError, SimState

__all__ = [
    "Fault",
    "SimDataError",
    "SimError",
    "SimState",
    "ValtSimulator",
    "default_data",
    "load_data",
    "main",
]
