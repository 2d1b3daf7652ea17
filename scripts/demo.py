"""Demo until the daemon exists: the simulator plus the client, driven from the terminal."""

from __future__ import annotations

import argparse
import sys

from ivs_accessory.errors import ValtError
from ivs_accessory.valt import ValtClient
from ivs_accessory.valtsim import ValtSimulator, default_data


def toggle(client: ValtClient, room: int, card: str) -> str:
    """What the keypad will do: look the card up, then start or stop."""
    before = client.request_count
    user = client.user_by_card(card)
    if user is None:
        outcome = "denied: no VALT user has that card number"
    elif client.room_status(room).can_start:
        rid = client.start(room, "Accessory Recording", author=user.id)
        outcome = f"recording {rid} started for {user.display_name or user.name}"
    elif client.is_recording(room):
        outcome = f"recording {client.stop(room)} stopped by {user.display_name or user.name}"
    else:
        outcome = "busy: the room is locked"
    return f"{outcome} ({client.request_count - before} requests)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--version", default="6.6.0", help="VALT version to simulate")
    parser.add_argument("--room", type=int, default=1)
    args = parser.parse_args()
    with ValtSimulator(port=0, version=args.version) as sim, \
            ValtClient(sim.url, "admin", "admin", auto_reauth=False) as client:
        print(f"VALT simulator {args.version} at {sim.url}; room {args.room}: "
              f"{client.room_name(args.room)}")
        print("Known cards / PINs:")
        for user in default_data()["users"]:
            if user.get("card_number"):
                print(f"  {user['card_number']:>12}  {user.get('displayName', user['name'])}")
        print("Type a card number and Enter (twice to stop again); Ctrl-D to quit.")
        try:
            for line in sys.stdin:
                card = line.strip()
                if not card:
                    continue
                if not card.isdigit():
                    print("  type digits only", file=sys.stderr)
                    continue
                try:
                    print("  " + toggle(client, args.room, card))
                except ValtError as exc:
                    print(f"  offline: {exc}")
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
