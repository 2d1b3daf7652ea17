"""``python -m ivs_accessory.valtsim``: run the VALT simulator."""

import sys

from ivs_accessory.valtsim.main import main

sys.exit(main())
