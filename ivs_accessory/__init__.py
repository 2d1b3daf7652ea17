"""ivs-accessory: keypad and card-reader accessory software for VALT recording rooms."""

__version__ = "0.1.0"

__all__ = ["__version__"]
