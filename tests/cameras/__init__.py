"""Tests of the VAPIX client, the camera operations and the room's camera roster."""
