"""``python -m ivs_accessory.axissim``: run the Axis camera simulator."""

import sys

from ivs_accessory.axissim.axis_main import main

sys.exit(main())
