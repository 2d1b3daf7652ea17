"""``python -m ivs_accessory``: the same as the ``ivs-accessory`` command."""

from ivs_accessory.cli import main

raise SystemExit(main())
