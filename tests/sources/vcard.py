"""A virtual contactless card for vpcd, run by the system python3 (virtualsmartcard).

It answers GET DATA (``FF CA 00 00 00``) with ``--uid`` and 90 00, or with the status
word ``--sw``, or leaves the reader in the middle of it (``--leave``), as a card taken
away too early does. Every other command gets 6D 00 (instruction not supported).
Usage: python3 vcard.py --port PORT (--uid HEX | --sw HEX | --leave)
"""

import argparse
import os
import sys

from virtualsmartcard.VirtualSmartcard import SmartcardOS, VirtualICC

GET_UID = bytes((0xFF, 0xCA, 0x00, 0x00, 0x00))
# The ATR a PC/SC contactless reader makes up for a MIFARE Classic 1K (PC/SC part 3).
ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")


class UidCardOS(SmartcardOS):
    """The card's answers: a UID, an error status word, or leaving."""

    def __init__(self, uid: bytes, sw: bytes, leave: bool) -> None:
        self.uid, self.sw, self.leave = uid, sw, leave

    def getATR(self) -> bytes:
        return ATR

    def execute(self, msg: bytes) -> bytes:
        if bytes(msg[:5]) != GET_UID:
            return b"\x6d\x00"
        if self.leave:
            # Gone before answering: vpcd sees its connection close mid-command.
            os._exit(0)
        return self.sw if self.sw != b"\x90\x00" else self.uid + self.sw


class UidCard(VirtualICC):
    """VirtualICC's relay loop to vpcd, around UidCardOS instead of a file system."""

    def __init__(self, card_os: SmartcardOS, port: int) -> None:
        # VirtualICC.__init__ would build an ISO 7816 file system card; only its
        # connection to vpcd and its relay loop (run) are wanted.
        self.os, self.type = card_os, "uid"
        self.host, self.port, self.server_sock = "localhost", port, None
        self.sock = self.connectToPort(self.host, port)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--uid", default="04A1B2C3D4E5F6")
    parser.add_argument("--sw", default="9000")
    parser.add_argument("--leave", action="store_true")
    args = parser.parse_args()
    card = UidCardOS(bytes.fromhex(args.uid), bytes.fromhex(args.sw), args.leave)
    try:
        relay = UidCard(card, args.port)
    except OSError as exc:
        sys.exit(f"cannot reach vpcd on port {args.port}: {exc}")
    print("inserted", flush=True)
    try:
        relay.run()
    except (SystemExit, KeyboardInterrupt, OSError):
        sys.exit(0)


if __name__ == "__main__":
    main()
