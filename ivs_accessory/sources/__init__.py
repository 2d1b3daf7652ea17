"""Input sources: each turns a device into events on one queue."""
