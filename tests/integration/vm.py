"""Run a program, or the host's systemd, on Debian's stock kernel in a QEMU VM."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import lzma
import os
import re
import secrets
import shlex
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal

from public_install import copy_requirements, make_venv, open_to_all

# The VM sees the host's root read-only, so the project must be at the same path in
# both; CI checks the repository out elsewhere, hence the override.
PROJECT_ROOT = Path(
    os.environ.get("IVS_VM_PROJECT_ROOT") or Path(__file__).resolve().parents[2]
)
CACHE_DIR = Path(os.environ.get("IVS_VM_CACHE", "/tmp/ivs-vm-cache"))
QEMU = "qemu-system-x86_64"
BUSYBOX = Path("/bin/busybox")
# What the guest needs beyond the kernel image; modules.dep supplies the rest.
MODULES = (
    "virtio_pci", "9pnet_virtio", "9p", "overlay", "uinput", "evdev",
    "uhid", "hid_generic",  # virtual HID devices (the lamp) with their hidraw nodes
)  # fmt: skip
# Loaded only for a run with a disk (run_in_vm's ``disk``): the overlay's writes then
# go to an ext4 file system that outlives the VM, as a box's SD card does.
DISK_MODULES = ("virtio_blk", "ext4", "crc32c_generic")
# Host units that only slow a test boot down (a database, logins on the console).
DEFAULT_MASKED_UNITS = (
    "postgresql.service",
    "postgresql@.service",
    "getty@.service",
    "serial-getty@.service",
    "e2scrub_reap.service",
    "systemd-timesyncd.service",
)
# A clean environment for argv; unbuffered Python, so a timeout still shows output.
BASE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "LANG": "C.UTF-8",
    "PYTHONUNBUFFERED": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    "IVS_VM_GUEST": "1",
    "TERM": "dumb",  # the console is a tty: keep colour codes out of the output
    "NO_COLOR": "1",
}
# Loading every installed pytest plugin (hypothesis above all) costs ~13 s in the
# emulated CPU; guest-side tests get pytest-timeout only.
GUEST_PYTEST_ENV = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
GUEST_PYTEST_ARGS = ("-q", "-p", "no:cacheprovider", "-p", "pytest_timeout")
JOB_DIR = "/ivs-vm"  # in the guest's overlay root: the run script and its unit
RUN_UNIT = "ivs-vm-run.service"
# Where the guest sees the venv that install_for_guest() made: outside /root, /home and
# /tmp, which the installed service's ProtectHome= and PrivateTmp= hide.
GUEST_VENV = Path("/opt/ivs-vm/venv")
FORMAT_VERSION = "4"  # bump when the initramfs layout or init changes

ExitedBy = Literal["poweroff", "reboot", "timeout"]

INIT = r"""#!/bin/busybox sh
# PID 1 of the test VM: mount the host root under an overlay, then run the job.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() { echo "ivs-vm: $*"; poweroff -f; }
for m in $(cat /modules.load); do insmod "/lib/modules/$m.ko" || fail "insmod $m"; done
mkdir -p /lower /upper /newroot
# cache=loose: the host tree does not change under one short test run.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose \
    hostroot /lower || fail "cannot mount the host root over 9p"
if [ -e /job/disk ]; then
    # A disk that outlives the VM: the second boot finds the first one's writes
    # (and whatever a power cut left of them; ext4 replays its journal).
    for m in $(cat /modules.disk); do
        insmod "/lib/modules/$m.ko" || fail "insmod $m"
    done
    mount -t ext4 /dev/vda /upper || fail "cannot mount the disk /dev/vda"
else
    mount -t tmpfs -o mode=0755 upper /upper
fi
mkdir -p /upper/u /upper/w
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w \
    /newroot || fail "cannot mount the overlay root"
# Host folders the job wants at a guest path (/job/binds: a host path, then a guest
# path, one a line): held now, before the fresh /tmp below can hide one (a checkout
# under /tmp), then mounted in place. Each is the overlay's view, so writes vanish too.
n=0
while IFS= read -r src && IFS= read -r dst; do
    n=$((n + 1))
    mkdir -p "/held/$n"
    mount --bind "/newroot$src" "/held/$n" || fail "cannot find $src on the host"
done </job/binds
mount -t tmpfs -o mode=1777 tmp /newroot/tmp
n=0
while IFS= read -r src && IFS= read -r dst; do
    n=$((n + 1))
    mkdir -p "/newroot$dst" && mount --move "/held/$n" "/newroot$dst" ||
        fail "cannot show $src at $dst"
done </job/binds
# The host may be a container; its marker files would make systemd believe the VM
# is one too (and then read its command line from PID 1 instead of the kernel's).
rm -f /newroot/.dockerenv /newroot/run/.containerenv
# -R without -p: new files keep their modes, existing directories keep theirs; -f
# replaces the symlinks an earlier boot left on a disk (units enabled or masked).
cp -R -f /job/root/. /newroot/ || fail "cannot copy the job files"
. /job/mode
if [ "$MODE" = systemd ]; then
    umount /proc /sys /dev
    exec switch_root /newroot /lib/systemd/systemd --unit=multi-user.target
fi
mount --move /dev /newroot/dev
mount -t proc proc /newroot/proc
mount -t sysfs sysfs /newroot/sys
mount -t tmpfs -o mode=0755 run /newroot/run
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
mount -t tmpfs -o mode=1777 shm /newroot/dev/shm
ip link set lo up
# stdout is still the console that the kernel opened for init.
chroot /newroot /bin/sh "$JOB" </newroot/dev/null 2>&1
sync
poweroff -f
"""


class VmError(RuntimeError):
    """The VM could not be prepared or QEMU failed to start."""


@dataclasses.dataclass(frozen=True)
class Kernel:
    """A bootable kernel image and the modules tree built for it."""

    version: str
    image: Path
    modules_dir: Path


@dataclasses.dataclass(frozen=True)
class VmResult:
    """What one VM run left behind.

    ``output`` is the whole serial console (boot noise included), ``program_output``
    only what ``argv`` printed; ``returncode`` is ``None`` when ``argv`` did not end
    (timeout, or a systemd run that a unit powered off or rebooted).
    """

    returncode: int | None
    output: str
    exited_by: ExitedBy
    program_output: str = ""
    wall_s: float = 0.0


def find_kernel(
    boot: Path = Path("/boot"), modules: Path = Path("/lib/modules")
) -> Kernel | None:
    """Return the newest ``vmlinuz-*`` that has a modules tree, or ``None``."""
    found = []
    for image in boot.glob("vmlinuz-*"):
        version = image.name.removeprefix("vmlinuz-")
        if (modules / version / "modules.dep").is_file():
            found.append(Kernel(version, image, modules / version))
    numbers = lambda k: [int(n) for n in re.findall(r"\d+", k.version)]  # noqa: E731
    return max(found, key=numbers, default=None)


def vm_available() -> tuple[bool, str]:
    """Tell whether a VM can be booted here, with the reason when it cannot."""
    if shutil.which(QEMU) is None:
        return False, f"{QEMU} not found; run scripts/setup-vm"
    kernel = find_kernel()
    if kernel is None:
        return False, "no /boot/vmlinuz-* with its /lib/modules; run scripts/setup-vm"
    if not os.access(kernel.image, os.R_OK):
        return False, f"cannot read {kernel.image}; run as root"
    if not is_static_elf(BUSYBOX):
        return False, f"{BUSYBOX} is missing or not static; install busybox-static"
    try:
        resolve_modules(kernel.modules_dir, MODULES)
    except VmError as exc:
        return False, str(exc)
    return True, ""


def is_static_elf(path: Path) -> bool:
    """True for a 64-bit ELF without an interpreter (runs with no libc around)."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    if data[:5] != b"\x7fELF\x02":
        return False
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    pt_interp = 3
    offsets = range(phoff, phoff + phnum * phentsize, phentsize)
    return all(struct.unpack_from("<I", data, at)[0] != pt_interp for at in offsets)


def module_name(relpath: str) -> str:
    """``kernel/net/9p/9pnet-virtio.ko.xz`` -> ``9pnet_virtio`` (modprobe's view)."""
    return Path(relpath).name.split(".ko")[0].replace("-", "_")


def resolve_modules(modules_dir: Path, wanted: Iterable[str]) -> list[str]:
    """Return the module files for ``wanted`` and their needs, in load order.

    Built-in modules are left out. Raises VmError for one the kernel lacks.
    """
    deps: dict[str, tuple[str, list[str]]] = {}
    for line in (modules_dir / "modules.dep").read_text().splitlines():
        path, _, needs = line.partition(":")
        deps[module_name(path)] = (path, [module_name(n) for n in needs.split()])
    builtin_file = modules_dir / "modules.builtin"
    builtin = builtin_file.read_text().split() if builtin_file.exists() else []
    builtin_names = {module_name(p) for p in builtin}
    order: list[str] = []

    def visit(name: str) -> None:
        if name in builtin_names or deps.get(name, ("",))[0] in order:
            return
        if name not in deps:
            raise VmError(f"kernel module {name!r} not found in {modules_dir}")
        path, needs = deps[name]
        for need in needs:
            visit(need)
        order.append(path)

    for name in wanted:
        visit(name.replace("-", "_"))
    return order


def read_module(path: Path) -> bytes:
    """Read a ``.ko``, unpacking ``.xz``/``.gz``/``.zst`` (busybox insmod cannot)."""
    if path.name.endswith(".ko.xz"):
        return lzma.decompress(path.read_bytes())
    if path.name.endswith(".ko.gz"):
        return gzip.decompress(path.read_bytes())
    if path.name.endswith(".ko.zst"):
        if shutil.which("zstd") is None:
            raise VmError(f"{path} is zstd-compressed; install zstd")
        argv = ["zstd", "-dc", str(path)]
        return subprocess.run(argv, check=True, capture_output=True).stdout
    return path.read_bytes()


class Cpio:
    """Writer for the ``newc`` cpio format that the kernel unpacks as initramfs."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[int, bytes, int]] = {}

    def add_file(self, path: str, data: str | bytes, mode: int = 0o644) -> None:
        raw = data.encode() if isinstance(data, str) else data
        self._add_parents(path)
        self._entries[path.strip("/")] = (stat.S_IFREG | mode, raw, 0)

    def add_symlink(self, path: str, target: str) -> None:
        self._add_parents(path)
        self._entries[path.strip("/")] = (stat.S_IFLNK | 0o777, target.encode(), 0)

    def add_dir(self, path: str, mode: int = 0o755) -> None:
        self._add_parents(path)
        self._entries.setdefault(path.strip("/"), (stat.S_IFDIR | mode, b"", 0))

    def add_chardev(self, path: str, major: int, minor: int) -> None:
        self._add_parents(path)
        self._entries[path.strip("/")] = (stat.S_IFCHR | 0o600, b"", major << 8 | minor)

    def _add_parents(self, path: str) -> None:
        parent = str(Path(path.strip("/")).parent)
        if parent != ".":
            # /tmp keeps its sticky mode when the job tree is copied over it.
            self.add_dir(parent, 0o1777 if parent.endswith("root/tmp") else 0o755)

    def to_bytes(self) -> bytes:
        """Serialise: parents sort before their children, then the trailer."""
        out = bytearray()
        for ino, name in enumerate(sorted(self._entries), start=1):
            mode, data, rdev = self._entries[name]
            out += self._entry(ino, name, mode, data, rdev)
        out += self._entry(0, "TRAILER!!!", 0, b"", 0)
        return bytes(out)

    @staticmethod
    def _entry(ino: int, name: str, mode: int, data: bytes, rdev: int) -> bytes:
        nlink = 2 if stat.S_ISDIR(mode) else 1
        fields = (ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev >> 8, rdev & 0xFF)
        raw_name = name.encode() + b"\0"
        head = b"070701" + b"".join(b"%08X" % f for f in fields)
        head += b"%08X%08X" % (len(raw_name), 0) + raw_name
        pad = lambda b: b + b"\0" * (-len(b) % 4)  # noqa: E731
        return pad(head) + pad(data)


def base_initramfs(kernel: Kernel, cache_dir: Path = CACHE_DIR) -> Path:
    """Return the cached busybox + modules + init archive, building it when missing."""
    modules = resolve_modules(kernel.modules_dir, MODULES)
    disk = [
        rel
        for rel in resolve_modules(kernel.modules_dir, DISK_MODULES)
        if rel not in modules
    ]
    contents = {"init": INIT.encode(), "busybox": BUSYBOX.read_bytes()}
    for rel in modules + disk:
        contents[rel] = read_module(kernel.modules_dir / rel)
    digest = hashlib.sha256(FORMAT_VERSION.encode() + kernel.version.encode())
    for name, data in contents.items():
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    target = cache_dir / f"initramfs-{digest.hexdigest()[:20]}.cpio"
    if not target.exists():
        _write_base(
            target,
            contents,
            [module_name(rel) for rel in modules],
            [module_name(rel) for rel in disk],
        )
    return target


def boot_image(kernel: Kernel, cache_dir: Path = CACHE_DIR) -> Path:
    """Return the kernel to hand QEMU: a cached plain ``vmlinux`` when possible.

    Unpacking the XZ-compressed bzImage takes the emulated CPU about 4 s of every
    boot; QEMU can start the already unpacked ELF directly through its PVH entry
    point. Falls back to the bzImage when the kernel has no PVH note.
    """
    data = kernel.image.read_bytes()
    target = cache_dir / f"vmlinux-{hashlib.sha256(data).hexdigest()[:20]}"
    if target.exists():
        return target
    elf = unpack_bzimage(data)
    if elf is None:
        return kernel.image
    _write_atomically(target, elf)
    return target


def unpack_bzimage(data: bytes) -> bytes | None:
    """The ELF kernel inside a bzImage, if XZ or gzip packed and PVH-bootable."""
    for magic, unpack in (
        (b"\xfd7zXZ\x00", lambda b: lzma.LZMADecompressor().decompress(b)),
        (b"\x1f\x8b\x08\x00", lambda b: zlib.decompressobj(31).decompress(b)),
    ):
        offset = data.find(magic)
        if offset < 0:
            continue
        try:
            elf = unpack(data[offset:])
        except (lzma.LZMAError, zlib.error):
            continue
        # XEN_ELFNOTE_PHYS32_ENTRY (18): the 32-bit entry QEMU needs for PVH boot.
        if elf[:4] == b"\x7fELF" and struct.pack("<III", 4, 8, 18) + b"Xen\0" in elf:
            return elf
    return None


def _write_atomically(target: Path, data: bytes) -> None:
    """Write aside and rename, so parallel test runs never read half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}-")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, target)


def _write_base(
    target: Path, contents: dict[str, bytes], names: list[str], disk: list[str]
) -> None:
    archive = Cpio()
    for name in ("proc", "sys", "dev", "bin", "job/root"):
        archive.add_dir(name)
    archive.add_chardev("dev/console", 5, 1)
    archive.add_file("init", contents.pop("init"), 0o755)
    archive.add_file("bin/busybox", contents.pop("busybox"), 0o755)
    for rel, data in contents.items():
        archive.add_file(f"lib/modules/{module_name(rel)}.ko", data)
    archive.add_file("modules.load", "\n".join(names) + "\n")
    archive.add_file("modules.disk", "\n".join(disk) + "\n")
    # Left uncompressed: gzip costs 1 s here and saves nothing measurable at boot.
    _write_atomically(target, archive.to_bytes())


def run_script(
    argv: Sequence[str], nonce: str, cwd: Path, env: Mapping[str, str]
) -> str:
    """The guest's shell script: ``argv`` between markers the host looks for."""
    assignments = " ".join(shlex.quote(f"{k}={v}") for k, v in env.items())
    command = " ".join(shlex.quote(arg) for arg in argv)
    return (
        f"echo 'IVS-VM-START {nonce}'\n"
        f"cd {shlex.quote(str(cwd))} && env -i {assignments} {command} </dev/null\n"
        f'echo "IVS-VM-EXIT {nonce} $?"\n'
    )


def run_unit(after: Iterable[str]) -> str:
    """The unit that runs the job under systemd, then powers the VM off either way."""
    return (
        "[Unit]\nDescription=ivs-vm test program\n"
        f"After={' '.join(after)}\n"
        "SuccessAction=poweroff-force\nFailureAction=poweroff-force\n\n"
        f"[Service]\nType=oneshot\nExecStart=/bin/sh {JOB_DIR}/run.sh\n"
        "StandardOutput=tty\nTTYPath=/dev/console\nTimeoutStartSec=infinity\n"
    )


def job_archive(
    script: str | None,
    files: Mapping[str, str | bytes],
    systemd: bool,
    units: Mapping[str, str],
    masked: Iterable[str],
    binds: Mapping[Path, Path] | None = None,
    disk: bool = False,
) -> bytes:
    """The per-run cpio after the base archive; init copies ``job/root`` over /.

    ``binds`` maps a guest path to the host folder that init shows there; ``disk``
    tells init to keep the overlay's writes on /dev/vda.
    """
    archive = Cpio()
    kind = "systemd" if systemd else "plain"
    archive.add_file("job/mode", f"MODE={kind}\nJOB={JOB_DIR}/run.sh\n")
    if disk:
        archive.add_file("job/disk", "")
    pairs = [str(p) for guest, host in (binds or {}).items() for p in (host, guest)]
    if any("\n" in p or not p.startswith("/") for p in pairs):
        raise ValueError(f"binds need absolute paths without a newline: {binds}")
    archive.add_file("job/binds", "".join(p + "\n" for p in pairs))
    if script is not None:
        archive.add_file(f"job/root{JOB_DIR}/run.sh", script, 0o755)
    for name, data in files.items():
        if ".." in Path(name).parts:
            raise ValueError(f"file name {name!r} has '..'; give a path inside the VM")
        guest = name if name.startswith("/") else f"/tmp/{name}"
        mode = 0o755 if (data[:2] in ("#!", b"#!")) else 0o644
        archive.add_file(f"job/root{guest}", data, mode)
    if systemd:
        # init already gave the guest a fresh /tmp; systemd-tmpfiles would empty it
        # at boot (D /tmp), taking the job's files with it and failing on a checkout
        # held there.
        tmp_conf = "d /tmp 1777 root root -\n"
        archive.add_file("job/root/etc/tmpfiles.d/tmp.conf", tmp_conf)
        _add_units(archive, units, masked, with_runner=script is not None)
    return archive.to_bytes()


def _add_units(
    archive: Cpio, units: Mapping[str, str], masked: Iterable[str], with_runner: bool
) -> None:
    etc = "job/root/etc/systemd/system"
    enabled = [n for n in units if "/" not in n and "@." not in n]
    all_units = dict(units)
    if with_runner:
        all_units[RUN_UNIT] = run_unit(enabled)
        enabled.append(RUN_UNIT)
    for name, text in all_units.items():
        archive.add_file(f"{etc}/{name}", text)  # "x.service.d/y.conf": a drop-in
    for name in enabled:
        archive.add_symlink(f"{etc}/multi-user.target.wants/{name}", f"../{name}")
    for name in masked:
        archive.add_symlink(f"{etc}/{name}", "/dev/null")


def qemu_argv(
    image: Path, initrd: Path, append: str, memory_mb: int, disk: Path | None = None
) -> list[str]:
    """QEMU command line: TCG (KVM hangs here), serial on stdout, host root on 9p;
    ``disk`` a raw image as /dev/vda.

    The disk's cache is ``unsafe``: the guest's flushes do not wait for the host's
    disk (dpkg's many fsyncs took apt past 600 s otherwise). A reset of the guest
    still loses what the guest had not written out, as a power cut does; only a
    crash of this host would lose more, and no test needs that.
    """
    drive = ["-drive", f"file={disk},format=raw,if=virtio,cache=unsafe"] if disk else []
    return [
        QEMU, "-accel", "tcg", "-m", str(memory_mb), "-smp", "2",
        "-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none",
        "-serial", "stdio", "-no-reboot",
        "-kernel", str(image), "-initrd", str(initrd), "-append", append,
        "-virtfs",
        "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
        *drive,
    ]  # fmt: skip


def run_qemu(argv: list[str], timeout_s: float) -> tuple[str, bool]:
    """Run QEMU to its end or kill it at the timeout; return (console, timed_out)."""
    if shutil.which("setpriv"):
        # Should this process die without cleaning up, the kernel kills QEMU too.
        argv = ["setpriv", "--pdeathsig", "KILL", *argv]
    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    timed_out = False
    try:
        raw, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)
        raw, _ = proc.communicate()  # keeps what was printed before the timeout
    finally:
        if proc.poll() is None:  # an exception in communicate, e.g. Ctrl-C
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    console = raw.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "")
    if not timed_out and proc.returncode != 0:
        raise VmError(f"QEMU exited with {proc.returncode}:\n{console[-3000:]}")
    return console, timed_out


def parse_console(console: str, nonce: str, timed_out: bool) -> VmResult:
    """Find the job's exit marker and how the VM stopped."""
    found = re.search(rf"IVS-VM-EXIT {nonce} (\d+)", console)
    start = console.find(f"IVS-VM-START {nonce}\n")
    program = ""
    if start >= 0:
        begin = start + len(f"IVS-VM-START {nonce}\n")
        program = console[begin : found.start() if found else len(console)]
    if timed_out:
        exited_by: ExitedBy = "timeout"
    elif console.rfind("reboot: Power down") > console.rfind("reboot: Restarting"):
        exited_by = "poweroff"
    else:
        # With -no-reboot every reset ends QEMU: a reboot, a panic (panic=-1), a
        # triple fault; only a power-off prints "Power down".
        exited_by = "reboot"
    code = int(found.group(1)) if found else None
    return VmResult(code, console, exited_by, program)


def run_in_vm(
    argv: Sequence[str],
    *,
    timeout_s: float,
    files: Mapping[str, str | bytes] | None = None,
    systemd: bool = False,
    units: Mapping[str, str] | None = None,
    kernel_args: Sequence[str] = ("quiet",),
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    masked_units: Iterable[str] = DEFAULT_MASKED_UNITS,
    memory_mb: int = 1024,
    project_root: Path = PROJECT_ROOT,
    cache_dir: Path = CACHE_DIR,
    binds: Mapping[Path | str, Path] | None = None,
    disk: Path | None = None,
) -> VmResult:
    """Boot a VM over the host root and run ``argv`` in it as root.

    The guest root is the host's ``/`` under a throw-away overlay (writes vanish),
    with a fresh tmpfs on ``/tmp``. ``files`` maps a guest path (relative: under
    ``/tmp``; not under ``/run``, which starts empty) to its content; a content
    starting with ``#!`` is made executable.
    ``env`` is added to a clean environment (PATH, HOME=/root, LANG, unbuffered
    Python); ``cwd`` defaults to ``project_root``, which the guest sees at its host
    path even under /tmp. ``binds`` maps more guest paths to host folders shown there.
    With ``disk`` (an ext4 image from :func:`make_disk`) the overlay's writes go
    there instead and a later run with the same disk finds them: /tmp stays fresh.

    With ``systemd=True`` the host's systemd boots as PID 1 with ``units`` (name ->
    unit text; ``name.d/x.conf`` for a drop-in) installed and enabled in
    multi-user.target. A non-empty ``argv`` then runs as a oneshot unit after them
    and powers the VM off; with an empty ``argv`` a unit must power off or reboot.

    Raises:
        VmError: the kernel, modules or busybox are missing, a folder in ``binds``
            is, or QEMU failed.
    """
    if not argv and not systemd:
        raise ValueError("argv is empty; give a program to run in the VM")
    started = time.monotonic()
    shown = guest_binds(Path(project_root), binds or {})
    kernel = find_kernel()
    if kernel is None:
        raise VmError("no kernel with modules found; run scripts/setup-vm")
    nonce = secrets.token_hex(6)
    script = None
    if argv:
        full_env = {**BASE_ENV, **(env or {})}
        script = run_script(argv, nonce, Path(cwd or project_root), full_env)
    job = job_archive(
        script, files or {}, systemd, units or {}, masked_units, shown, disk is not None
    )
    append = command_line(kernel_args, systemd)
    with tempfile.TemporaryDirectory(prefix="ivs-vm-") as tmp:
        initrd = Path(tmp) / "initrd"
        base = base_initramfs(kernel, cache_dir).read_bytes()
        # The kernel unpacks concatenated archives in turn; it skips zero bytes
        # between them but wants each cpio to start 4-byte aligned.
        initrd.write_bytes(base + b"\0" * (-len(base) % 4) + job)
        image = boot_image(kernel, cache_dir)
        console, timed_out = run_qemu(
            qemu_argv(image, initrd, append, memory_mb, disk), timeout_s
        )
    result = parse_console(console, nonce, timed_out)
    return dataclasses.replace(result, wall_s=time.monotonic() - started)


def make_disk(path: Path, size_mb: int) -> Path:
    """A sparse raw image with an empty ext4 file system, for ``run_in_vm(disk=)``.

    Raises:
        VmError: mkfs.ext4 is missing or failed.
    """
    with open(path, "wb") as image:
        image.truncate(size_mb * 1024 * 1024)
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    mkfs = shutil.which("mkfs.ext4", path=search)
    if mkfs is None:
        raise VmError("mkfs.ext4 not found; run scripts/setup-vm (e2fsprogs)")
    done = subprocess.run([mkfs, "-q", "-F", str(path)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    if done.returncode != 0:
        raise VmError(f"mkfs.ext4 failed: {done.stderr.strip()}")
    return path


def guest_binds(
    project_root: Path, binds: Mapping[Path | str, Path]
) -> dict[Path, Path]:
    """Guest path -> host folder for init to show; the checkout too when under /tmp.

    Raises:
        VmError: a host folder does not exist.
    """
    shown = {Path(guest): Path(host).resolve() for guest, host in binds.items()}
    root = project_root.resolve()
    if root.is_relative_to("/tmp"):  # which the guest gets fresh, as a tmpfs
        shown.setdefault(root, root)
    for host in shown.values():
        if not host.is_dir():
            raise VmError(f"{host} is not a folder on the host; cannot show it")
    return shown


def command_line(kernel_args: Sequence[str], systemd: bool) -> str:
    """Kernel command line: serial console, and a panic ends the VM at once."""
    args = ["console=ttyS0", "panic=-1", *kernel_args]
    if systemd and not any(a.startswith("systemd.show_status") for a in args):
        args.append("systemd.show_status=0")  # keeps unit output readable
    return " ".join(args)


def install_for_guest(project_root: Path, python: Path, folder: Path) -> Path:
    """Install the project into a new venv of ``python`` in ``folder``, made to run at
    GUEST_VENV in the guest; return the venv's host path.

    The project comes from a wheel built from the checkout, its run-time dependencies
    are copied from this venv. The checkout's own venv is no use to the installed
    service, which cannot see /root, /home (ProtectHome=) or /tmp (PrivateTmp=), nor
    to the daemon's user, who cannot enter a 0700 folder.

    Raises:
        VmError: the wheel could not be built or installed.
    """
    venv = folder / "venv"
    site = make_venv(venv, python)
    # Built from a copy of what the build reads: a build in the checkout would leave
    # build/ and *.egg-info there, for two test runs to race on.
    source = folder / "source"
    source.mkdir()
    for item in project_root.iterdir():
        if item.is_file():
            shutil.copy2(item, source / item.name)
    shutil.copytree(project_root / "ivs_accessory", source / "ivs_accessory",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    argv = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
            "install", "--quiet", "--no-deps", str(source)]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise VmError(f"cannot install the project from a wheel:\n{done.stderr}")
    copy_requirements(site)
    # pip wrote this host path into the console scripts' #! lines.
    for script in (venv / "bin").iterdir():
        if script.is_file() and not script.is_symlink():
            text = script.read_bytes()
            script.write_bytes(text.replace(bytes(venv), bytes(GUEST_VENV)))
    open_to_all(venv)
    return venv


@dataclasses.dataclass(frozen=True)
class Vm:
    """A project checkout as the VM sees it: what the ``vm`` test fixture hands out.

    With ``installed`` (a venv from install_for_guest) every run shows it at
    GUEST_VENV, and programs find that path in ``IVS_VM_VENV``.
    """

    project_root: Path = PROJECT_ROOT
    cache_dir: Path = CACHE_DIR
    installed: Path | None = None

    @property
    def python(self) -> str:
        """The project's virtual-environment Python, at the same path in the guest."""
        return str(self.project_root / ".venv" / "bin" / "python")

    def prepare(self) -> None:
        """Build the cached kernel and initramfs now rather than in the first run."""
        kernel = find_kernel()
        if kernel is None:
            raise VmError("no kernel with modules found; run scripts/setup-vm")
        base_initramfs(kernel, self.cache_dir)
        boot_image(kernel, self.cache_dir)

    def run(self, argv: Sequence[str], **options) -> VmResult:
        """``run_in_vm`` for this checkout; takes the same keyword arguments."""
        options.setdefault("project_root", self.project_root)
        options.setdefault("cache_dir", self.cache_dir)
        if self.installed is not None:
            binds = {GUEST_VENV: self.installed, **options.get("binds", {})}
            env = {"IVS_VM_VENV": str(GUEST_VENV), **options.get("env", {})}
            options.update(binds=binds, env=env)
        return run_in_vm(argv, **options)

    def run_pytest(
        self, args: Sequence[str], *, timeout_s: float, **options
    ) -> VmResult:
        """Run pytest in the guest (on guest-side test files) from the project root.

        Returns a VmResult whose ``returncode`` is pytest's exit code.
        """
        options["env"] = {**GUEST_PYTEST_ENV, **options.get("env", {})}
        argv = [self.python, "-m", "pytest", *GUEST_PYTEST_ARGS, *args]
        return self.run(argv, timeout_s=timeout_s, **options)

    def run_python(self, code: str, *, timeout_s: float, **options) -> VmResult:
        """Run a short Python program with the project's venv in the guest."""
        files = {**options.pop("files", {}), "/tmp/ivs-vm-main.py": code}
        return self.run([self.python, "/tmp/ivs-vm-main.py"], timeout_s=timeout_s,
                        files=files, **options)  # fmt: skip
