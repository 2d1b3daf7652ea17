"""The fixed sections' schema, validation of any section, and the typed Config."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

# The section types and the [bindings] and [source:NAME] schemas live in their own
# modules; the names are re-exported here, where callers have always found them.
from ivs_accessory.config.bindings import (
    HOLD,
    BindingsSection,
    PresetNames,
    binding_key,
)
from ivs_accessory.config.camera_schema import (
    CAMERA_PREFIX,
    CAMERA_SCHEMA,
    PRIVACY_SCHEMA,
    validate_camera,
)
from ivs_accessory.config.lamp_schema import LAMP
from ivs_accessory.config.section import (
    Check,
    Errors,
    Section,
    Values,
    field_error,
    missing_key,
    unknown_key,
)
from ivs_accessory.config.source_schema import (
    KIND,
    SOURCE_KINDS,
    SOURCE_PREFIX,
    SOURCE_SCHEMAS,
    validate_source,
)
from ivs_accessory.config.types import (
    Boolean,
    Choice,
    Command,
    Float,
    Integer,
    IpAddress,
    IpNetworks,
    KeyName,
    Path,
    Secret,
    String,
    Url,
)
from ivs_accessory.door.credentials import READINGS
from ivs_accessory.door.terms import MODES
from ivs_accessory.spelling import closest
from ivs_accessory.valt.models import MARKER_COLOURS

__all__ = [
    "CAMERA_PREFIX",
    "CAMERA_SCHEMA",
    "HOLD",
    "KIND",
    "SCHEMA",
    "SOURCE_KINDS",
    "SOURCE_PREFIX",
    "SOURCE_SCHEMAS",
    "BindingsSection",
    "Check",
    "Config",
    "Errors",
    "Section",
    "Values",
    "binding_key",
    "field_error",
    "missing_key",
    "unknown_key",
    "unknown_section",
    "validate_section",
]


def _helper(operation: str) -> str:
    return f"systemctl start --no-block ivs-accessory-helper@{operation}.service"


def _max_at_least_base(values: Values, label: str) -> Errors:
    base, most = values.get("base_s"), values.get("max_s")
    if base is None or most is None or most >= base:
        return {}
    return {"max_s": f"[{label}] max_s = '{most}': must be at least base_s ({base})"}


# Linux interface names: at most 15 characters, no slash, space or colon.
_INTERFACE = re.compile(r"[A-Za-z0-9_.-]{1,15}")


def _web_tls(values: Values, label: str) -> Errors:
    if values.get("tls_key") and not values.get("tls_cert"):
        return {
            "tls_key": f"[{label}] tls_key: set tls_cert too (the certificate to serve)"
        }
    return {}


def _web_interface(values: Values, label: str) -> Errors:
    name = values.get("network_interface")
    if name is None or _INTERFACE.fullmatch(name):
        return {}
    return {
        "network_interface": f"[{label}] network_interface = {name!r}: must be an "
        "interface name such as eth0 (letters, digits, _ . -; at most 15)"
    }


SCHEMA: dict[str, Section | BindingsSection] = {
    "valt": Section(
        {
            "server": Url(optional=True, default=""),
            "username": String(optional=True, default=""),
            "password": Secret(default=""),
            "timeout_s": Float(0.5, 60, unit="seconds", default="5"),
            "verify_tls": Boolean(default="true"),
            "ca_file": Path(optional=True, default=""),
            "room": Integer(1, 1_000_000, optional=True, default=""),
            "recording_name": String(default="Accessory Recording"),
            "marker_name": String(default="Accessory Comment"),
            "marker_colour": Choice(MARKER_COLOURS, default="red"),
            "success_reauth_s": Integer(60, 604_800, unit="seconds", default="28800"),
            "failure_reauth_s": Integer(5, 3600, unit="seconds", default="30"),
        }
    ),
    "mapping": Section(
        {
            "mode": Choice(MODES, default="both"),
            "pin_length": Integer(0, 32, unit="digits", default="6"),
            "entry_timeout_ms": Integer(
                1000, 600_000, unit="milliseconds", default="10000"
            ),
            "match_reading": Choice(READINGS, default="decimal"),
            "repeat_window_ms": Integer(0, 60_000, unit="milliseconds", default="2000"),
            "busy_action": Choice(("busy", "resume", "stop"), default="busy"),
            "hold_ms": Integer(100, 60_000, unit="milliseconds", default="1500"),
            "user_cache_s": Integer(0, 86_400, unit="seconds", default="60"),
            "prefetch_users": Boolean(default="true"),
            # Empty: 10 s with a door screen or a lamp to keep current, else 60 s
            # (wiring.status_refresh_s); a number is the integrator's choice.
            "status_refresh_s": Integer(
                10, 3600, optional=True, unit="seconds", default=""
            ),
            "status_max_age_s": Integer(0, 3600, unit="seconds", default="10"),
            "max_wait_ms": Integer(1000, 120_000, unit="milliseconds", default="8000"),
        }
    ),
    "privacy": PRIVACY_SCHEMA,
    "bindings": BindingsSection(
        {"KEY_KPPLUS": "marker", "KEY_KPASTERISK.hold": "privacy_toggle"}
    ),
    "feedback": Section(
        {
            "leds": Boolean(default="true"),
            "result_ms": Integer(200, 30_000, unit="milliseconds", default="2000"),
        }
    ),
    "lamp": LAMP,  # the recording lamp (config/lamp_schema.py)
    "lockout": Section(
        {
            "max_failures": Integer(1, 100, default="5"),
            "base_s": Integer(1, 86_400, unit="seconds", default="30"),
            "max_s": Integer(1, 86_400, unit="seconds", default="900"),
            "window_failures": Integer(1, 10_000, default="20"),
            "window_s": Integer(60, 7 * 86_400, unit="seconds", default="3600"),
            "state_file": Path(optional=True, default=""),
        },
        checks=[_max_at_least_base],
    ),
    "logging": Section(
        {
            "level": Choice(("debug", "info", "warning", "error"), default="info"),
            "audit_file": Path(default="/var/lib/ivs-accessory/audit.log"),
            "audit_max_bytes": Integer(
                10_000, 100_000_000, unit="bytes", default="1000000"
            ),
            "audit_keep": Integer(0, 100, unit="files", default="3"),
        }
    ),
    "web": Section(
        {
            "enabled": Boolean(default="true"),
            "address": IpAddress(default="0.0.0.0"),
            "port": Integer(0, 65535, default="80"),
            "tls_cert": Path(optional=True, default=""),
            "tls_key": Path(optional=True, default=""),
            "password_file": Path(default="/etc/ivs-accessory/web-password"),
            "session_idle_s": Integer(60, 86_400, unit="seconds", default="900"),
            "session_max_s": Integer(600, 604_800, unit="seconds", default="43200"),
            "status_poll_s": Integer(1, 60, unit="seconds", default="5"),
            "network_interface": String(example="eth0", default="eth0"),
            "network_confirm_s": Integer(1, 3600, unit="seconds", default="120"),
            # Page security (README: The configuration page).
            "allowed_hosts": String(optional=True, default=""),
            "metrics_access": Choice(("local", "login", "open"), default="local"),
        },
        checks=[_web_tls, _web_interface],
    ),
    # The door page /door (README: The door page): a screen by the door, and an
    # on-screen PIN pad (and camera preset buttons) for the clients named here.
    "door": Section(
        {
            "keypad": Boolean(default="false"),
            "allowed_clients": IpNetworks(default="127.0.0.1 ::1"),
            "screen": Boolean(default="false"),
            "presets": PresetNames(default=""),
        }
    ),
    "system": Section(
        {
            # Root operations run in the privileged helper unit; the daemon only asks
            # systemd to start it (polkit allows exactly these instances).
            "reboot_command": Command(default=_helper("reboot")),
            "factory_default_command": Command(default=_helper("factory-default")),
            "apply_network_command": Command(default=_helper("apply-network")),
            "rollback_network_command": Command(default=_helper("rollback-network")),
            "apply_time_command": Command(default=_helper("set-time")),
            # The helper writes the journal to logs_file (the daemon is not in
            # systemd-journal); empty logs_file: logs_command prints the log itself.
            "logs_command": Command(
                default="systemctl start ivs-accessory-helper@logs.service"
            ),
            "logs_file": Path(
                optional=True, default="/var/lib/ivs-accessory/service-log.txt"
            ),
            "command_timeout_s": Integer(1, 600, unit="seconds", default="60"),
            # Updates: the daemon stages the package in update_dir and starts the
            # helper, which leaves what happened in update_result_file.
            "update_command": Command(default=_helper("update")),
            "update_dir": Path(default="/var/lib/ivs-accessory/update"),
            "update_result_file": Path(
                default="/var/lib/ivs-accessory/update-result.json"
            ),
            # Written by the daemon (the page), installed by the helper as root.
            "network_file": Path(default="/etc/ivs-accessory/network.yaml"),
            "time_file": Path(default="/etc/ivs-accessory/time.conf"),
            # The page's DNS-SD name (README: Discovery): the daemon stages the room
            # name and port in advertise_file; the helper writes avahi's file.
            "advertise_command": Command(optional=True, default=_helper("advertise")),
            "advertise_file": Path(
                optional=True, default="/var/lib/ivs-accessory/advertise.json"
            ),
            # The physical factory-default trigger (a key held this long).
            "factory_key": KeyName(optional=True, default="KEY_RESTART"),
            "factory_hold_ms": Integer(
                2000, 120_000, unit="milliseconds", default="10000"
            ),
            # Only these sources' keys count (space separated source names).
            "factory_sources": String(optional=True, default="button"),
        }
    ),
    # Read only by the privileged helper (`ivs-accessory system OP`, as root), from
    # the packaged defaults and a root-owned file: never from accessory.conf, which
    # the unprivileged daemon may write.
    "helper": Section(
        {
            "factory_dir": Path(default="/opt/ivs-accessory/factory"),
            "config_file": Path(default="/etc/ivs-accessory/accessory.conf"),
            "web_password_file": Path(default="/etc/ivs-accessory/web-password"),
            "netplan_file": Path(default="/etc/netplan/90-ivs-accessory.yaml"),
            "timesyncd_file": Path(
                default="/etc/systemd/timesyncd.conf.d/90-ivs-accessory.conf"
            ),
            "avahi_service_file": Path(
                default="/etc/avahi/services/ivs-accessory.service"
            ),
            "owner": String(optional=True, default="ivs-accessory"),
            "state_dir": Path(default="/var/lib/ivs-accessory"),
            "keep_state": String(optional=True, default="audit.log audit.log.*"),
            "reboot_command": Command(default="systemctl reboot"),
            "timezone_command": Command(default="timedatectl set-timezone"),
            "ntp_restart_command": Command(
                optional=True, default="systemctl try-restart systemd-timesyncd.service"
            ),
            "network_apply_command": Command(default="netplan apply"),
            "journal_command": Command(
                default="journalctl --unit ivs-accessory.service --lines 5000 "
                "--no-pager --output short-iso"
            ),
            "web_enable_command": Command(
                optional=True, default="systemctl enable ivs-accessory.socket"
            ),
            # Updates: the packages kept for a rollback and the journal live in a
            # folder of root's (the daemon could replace one in its own state_dir).
            "update_dir": Path(default="/var/lib/ivs-accessory/update"),
            "update_result_file": Path(
                default="/var/lib/ivs-accessory/update-result.json"
            ),
            "kept_dir": Path(default="/var/lib/ivs-accessory-packages"),
            "update_keyring": Path(default="/etc/ivs-accessory-update.gpg"),
            "restart_command": Command(
                default="systemctl restart ivs-accessory.service"
            ),
            "repack_command": Command(default="dpkg-repack"),
        }
    ),
}
"""Fixed sections: name -> Section (key -> field type). ``bindings`` has free keys."""


def validate_section(section: str, raw: Mapping[str, str]) -> tuple[Values, Errors]:
    """Check one section's raw text values; never raises, whatever the data.

    Args:
        section: a fixed section name, ``bindings``, ``source:NAME`` or
            ``camera:NAME``.
        raw: key -> text as in the file (or a web form); missing keys take defaults.

    Returns:
        (typed values, error message by key). Errors about the section itself
        (an unknown section, a bad source name) are under the key ``""``.
    """
    if section in SCHEMA:
        return SCHEMA[section].validate(section, raw)
    if section.startswith(SOURCE_PREFIX):
        return validate_source(section, raw)
    if section.startswith(CAMERA_PREFIX):
        return validate_camera(section, raw)
    return {}, {"": unknown_section(section)}


def unknown_section(name: str) -> str:
    """``unknown section [x]; did you mean [y]?`` (the hint only when one is close)."""
    prefix, colon, rest = name.partition(":")
    guess: str | None
    prefixes = [SOURCE_PREFIX[:-1], CAMERA_PREFIX[:-1]]
    close = closest(prefix.lower(), prefixes)
    if colon and close:
        guess = close + ":" + rest
    else:
        guess = closest(name.lower(), SCHEMA)
    # Control characters (a NUL from a damaged file) are shown escaped.
    shown = name if name.isprintable() else repr(name)[1:-1]
    return f"unknown section [{shown}]" + (
        f"; did you mean [{guess}]?" if guess else ""
    )


class Config(Mapping[str, dict[str, Any]]):
    """A validated configuration: ``cfg["valt"]["timeout_s"]``, sources, bindings.

    Attributes:
        sources: source name -> typed options, each with ``kind``.
        bindings: ``(KEY_NAME, "tap" | "hold")`` -> action name.
        cameras: ``[camera:NAME]`` name -> typed options.
        path: the main file, or None when only the defaults were loaded.
        text: the main file's text as it was validated (what last-good keeps), or
            None.
    """

    def __init__(
        self,
        sections: dict[str, dict[str, Any]],
        sources: dict[str, dict[str, Any]],
        bindings: dict[tuple[str, str], str],
        path: str | None,
        cameras: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self._sections = sections
        self.sources = sources
        self.bindings = bindings
        self.path = path
        self.cameras = cameras or {}
        self.text: str | None = None

    def __getitem__(self, name: str) -> dict[str, Any]:
        if name == "bindings":
            raise KeyError(
                "bindings: use Config.bindings, keyed by (KEY_NAME, 'tap'|'hold')"
            )
        return self._sections[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._sections)

    def __len__(self) -> int:
        return len(self._sections)

    def __repr__(self) -> str:
        return f"Config(path={self.path!r}, sources={list(self.sources)!r})"

    def redacted(self) -> dict[str, dict[str, str]]:
        """Section -> key -> text, with every secret shown as ``********``."""
        shown = {
            name: {
                key: SCHEMA[name][key].display(value) for key, value in values.items()
            }
            for name, values in self._sections.items()
        }
        shown["bindings"] = {
            key + (HOLD if gesture == "hold" else ""): action
            for (key, gesture), action in self.bindings.items()
        }
        for name, values in self.sources.items():
            schema = SOURCE_SCHEMAS[values["kind"]]
            shown[SOURCE_PREFIX + name] = {
                key: value if key == "kind" else schema[key].display(value)
                for key, value in values.items()
            }
        for name, values in self.cameras.items():
            shown[CAMERA_PREFIX + name] = {
                key: CAMERA_SCHEMA[key].display(value) for key, value in values.items()
            }
        return shown
