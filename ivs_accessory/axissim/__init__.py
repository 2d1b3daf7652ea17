"""A simulated Axis camera (VAPIX over HTTP with digest auth) with fault injection,
for tests, the demo and integrators.

It serves what the door uses: ``axis-cgi/param.cgi`` (``action=list``, ``update``),
``axis-cgi/privacymask.cgi`` (``action=add``, ``update``, ``remove``,
``enable_all``, ``disable_all``; ``query=listpxjson``) and ``axis-cgi/com/ptz.cgi``
(``query=presetposall``, ``gotoserverpresetname``), as the VAPIX documentation
describes them: success of a privacymask.cgi or ptz.cgi command is ``204 No
Content``, a refusal ``200 OK`` with ``Error:<message>``; param.cgi answers ``OK``
or ``# Error: ...``. Where the documentation is silent, the simulator chooses:

- Adding a mask whose name exists, removing one that does not, or going to an
  unknown preset is refused with ``Error:`` (the real messages are unknown).
- A model without privacy masks answers 404 to privacymask.cgi and says
  ``Properties.PrivacyMask.PrivacyMask=no``; a fixed camera answers 404 to ptz.cgi
  and ``Properties.PTZ.PTZ=no``.
- ``gotoserverpresetname`` is refused while pan, tilt or zoom is disabled
  (``PTZ.Various.V1.*Enabled=false``); the move is done at once.
- ``AudioSource.A0.InputGain`` takes ``mute`` or a whole number from -100 to 100;
  PTZ ``*Enabled`` parameters take ``true`` or ``false``; an update with any bad
  value changes nothing.
- Digest auth is MD5 with ``qop=auth``; nonces stay valid until 256 newer ones were
  handed out; anything else (basic auth, a wrong password) is 401 with a new
  challenge. The control API under ``/_sim/`` needs no login.
"""

from ivs_accessory.axissim.axis_faults import AxisFault
from ivs_accessory.axissim.axis_main import main
from ivs_accessory.axissim.axis_server import AxisSimulator
from ivs_accessory.axissim.axis_state import AxisState

__all__ = ["AxisFault", "AxisSimulator", "AxisState", "main"]
