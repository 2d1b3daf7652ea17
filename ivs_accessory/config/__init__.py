"""Typed configuration: the schema, layered loading with every error, atomic save."""

from ivs_accessory.config.loader import DEFAULTS_PATH, check_file, load
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
    KeyName,
    Path,
    Secret,
    String,
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
    "KeyName",
    "Path",
    "Secret",
    "String",
    "binding_key",
    "check_file",
    "load",
    "save",
    "validate_section",
]
