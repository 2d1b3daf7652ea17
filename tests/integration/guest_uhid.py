"""Virtual HID devices through the kernel's uhid, for code that runs inside the test VM.

A device made here is a real HID device to the kernel: hid-generic binds it and a
/dev/hidrawN node appears, and what a program writes there comes back to us as a
UHID_OUTPUT event. Layouts are those of <linux/uhid.h> (packed structures).
"""

from __future__ import annotations

import dataclasses
import os
import select
import struct
import time

UHID_PATH = "/dev/uhid"
# enum uhid_event_type
UHID_DESTROY, UHID_START, UHID_STOP, UHID_OPEN, UHID_CLOSE, UHID_OUTPUT = (
    1,
    2,
    3,
    4,
    5,
    6,
)
UHID_GET_REPORT, UHID_GET_REPORT_REPLY, UHID_CREATE2 = 9, 10, 11
UHID_SET_REPORT, UHID_SET_REPORT_REPLY = 13, 14
UHID_OUTPUT_REPORT = 1  # enum uhid_report_type: feature 0, output 1, input 2
BUS_USB = 0x03
# struct uhid_event: u32 type, then a union whose largest member is uhid_create2_req
# (name 128, phys 64, uniq 64, rd_size u16, bus u16, vendor, product, version,
# country u32, rd_data[HID_MAX_DESCRIPTOR_SIZE = 4096]).
CREATE2 = struct.Struct("<I128s64s64sHHIIII4096s")
EVENT_SIZE = CREATE2.size  # 4376: the kernel reads and writes whole events
OUTPUT = struct.Struct("<4096sHB")  # uhid_output_req: data, size, rtype
EVENT_NAMES = {UHID_START: "start", UHID_STOP: "stop", UHID_OPEN: "open",
               UHID_CLOSE: "close", UHID_OUTPUT: "output"}  # fmt: skip

# A vendor-defined device with one 8-byte input and one 8-byte output report and no
# report ids: how the Luxafor Flag describes itself.
VENDOR_8_BYTE_REPORTS = bytes.fromhex(
    "0600ff"  # Usage Page (Vendor Defined 0xFF00)
    "0901"  # Usage (1)
    "a101"  # Collection (Application)
    "1500"  # Logical Minimum (0)
    "26ff00"  # Logical Maximum (255)
    "7508"  # Report Size (8)
    "9508"  # Report Count (8)
    "0901"  # Usage (1)
    "8102"  # Input (Data, Variable, Absolute)
    "9508"  # Report Count (8)
    "0901"  # Usage (1)
    "9102"  # Output (Data, Variable, Absolute)
    "c0"  # End Collection
)


@dataclasses.dataclass(frozen=True)
class HidSpec:
    """What a virtual HID device says it is."""

    name: str
    vendor: int
    product: int
    descriptor: bytes
    serial: str = ""
    bus: int = BUS_USB


# The Luxafor Flag's USB ids and the name busylight-core checks (its last word).
LUXAFOR_FLAG = HidSpec("LUXAFOR FLAG", 0x04D8, 0xF372, VENDOR_8_BYTE_REPORTS,
                       serial="IVS-VM-1")  # fmt: skip


@dataclasses.dataclass(frozen=True)
class UhidEvent:
    """One event the kernel sent: its kind, and for an output its report bytes."""

    kind: str
    data: bytes = b""
    report_type: int | None = None
    at: float = 0.0


class VirtualHid:
    """A HID device on /dev/uhid: ``plug()`` creates it, ``unplug()`` destroys it,
    ``next_event()`` reads what the kernel tells it."""

    def __init__(self, spec: HidSpec) -> None:
        self.spec = spec
        self.fd = os.open(UHID_PATH, os.O_RDWR | os.O_CLOEXEC)
        self.plugged = False

    def plug(self) -> None:
        s = self.spec
        event = CREATE2.pack(
            UHID_CREATE2, s.name.encode(), b"ivs-vm/uhid0", s.serial.encode(),
            len(s.descriptor), s.bus, s.vendor, s.product, 0x0100, 0, s.descriptor,
        )  # fmt: skip
        os.write(self.fd, event)
        self.plugged = True

    def unplug(self) -> None:
        os.write(self.fd, struct.pack("<I", UHID_DESTROY).ljust(EVENT_SIZE, b"\0"))
        self.plugged = False

    def close(self) -> None:
        os.close(self.fd)  # also destroys a device still plugged

    def next_event(self, timeout_s: float) -> UhidEvent | None:
        """The next event, or None when none came within ``timeout_s``."""
        if not select.select([self.fd], [], [], timeout_s)[0]:
            return None
        raw = os.read(self.fd, EVENT_SIZE)
        (kind,) = struct.unpack_from("<I", raw)
        if kind == UHID_OUTPUT:
            data, size, rtype = OUTPUT.unpack_from(raw, 4)
            return UhidEvent("output", data[:size], rtype, time.monotonic())
        if kind in (UHID_GET_REPORT, UHID_SET_REPORT):
            self._refuse(kind, raw)
        return UhidEvent(EVENT_NAMES.get(kind, str(kind)), at=time.monotonic())

    def wait_for(
        self, kind: str, timeout_s: float, data: bytes | None = None
    ) -> list[UhidEvent]:
        """Events up to and including the first ``kind`` (with ``data``, if given).

        Raises:
            AssertionError: it did not come within ``timeout_s``; says what did.
        """
        seen: list[UhidEvent] = []
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            event = self.next_event(left)
            if event is None:
                break
            seen.append(event)
            if event.kind == kind and (data is None or event.data == data):
                return seen
        shown = [(e.kind, e.data.hex(":")) for e in seen]
        raise AssertionError(f"no {kind} {data!r} within {timeout_s} s; got {shown}")

    def _refuse(self, kind: int, raw: bytes) -> None:
        # A light that asks for a feature report would wait for our answer: say EIO.
        (request_id,) = struct.unpack_from("<I", raw, 4)
        reply = (
            UHID_GET_REPORT_REPLY if kind == UHID_GET_REPORT else UHID_SET_REPORT_REPLY
        )
        answer = struct.pack("<IIH", reply, request_id, 5)  # id, err = EIO
        os.write(self.fd, answer.ljust(EVENT_SIZE, b"\0"))


def hidraw_nodes(vendor: int, product: int) -> list[str]:
    """The /dev/hidrawN nodes of devices with these ids, from sysfs (no udev needed)."""
    wanted = f"HID_ID={BUS_USB:04X}:{vendor:08X}:{product:08X}"
    found = []
    base = "/sys/class/hidraw"
    for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        with open(f"{base}/{name}/device/uevent", encoding="ascii") as uevent:
            if wanted in uevent.read().split("\n"):
                found.append(f"/dev/{name}")
    return found
