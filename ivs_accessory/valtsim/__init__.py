"""A stateful VALT REST API v3 simulator with fault injection, for tests, the demo and integrators."""

from ivs_accessory.valtsim.data import SimDataError, default_data, load_data
from ivs_accessory.valtsim.faults import Fault
from ivs_accessory.valtsim.main import main
from ivs_accessory.valtsim.server import ValtSimulator
from ivs_accessory.valtsim.state import SimError, SimState

__all__ = ["Fault", "SimDataError", "SimError", "SimState", "ValtSimulator", "default_data",
           "load_data", "main"]
