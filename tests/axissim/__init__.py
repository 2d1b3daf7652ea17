"""Tests of the Axis camera simulator: VAPIX endpoints, digest auth, faults."""
