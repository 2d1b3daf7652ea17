"""Typed configuration: the schema, layered loading with every error, atomic save."""

from ivs_accessory.config.lastgood import (
    fallback,
    keep_last_good,
    last_good_path,
    restore_last_good,
)
from ivs_accessory.config.loader import DEFAULTS_PATH, check, check_file, load, notes
from ivs_accessory.config.schema import (
    SCHEMA,
    SOURCE_KINDS,
    SOURCE_SCHEMAS,
    Config,
    binding_key,
    validate_section,
)
from ivs_accessory.config.store import save
from ivs_accessory.config.types import (
    Boolean,
    Choice,
    Command,
    ConfigValue,
    DeviceSelector,
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

__all__ = [
    "DEFAULTS_PATH",
    "SCHEMA",
    "SOURCE_KINDS",
    "SOURCE_SCHEMAS",
    "Boolean",
    "Choice",
    "Command",
    "Config",
    "ConfigValue",
    "DeviceSelector",
    "Float",
    "Integer",
    "IpAddress",
    "IpNetworks",
    "KeyName",
    "Path",
    "Secret",
    "String",
    "Url",
    "binding_key",
    "check",
    "check_file",
    "fallback",
    "keep_last_good",
    "last_good_path",
    "load",
    "notes",
    "restore_last_good",
    "save",
    "validate_section",
]
