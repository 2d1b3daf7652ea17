"""Any bytes as a backup, any text as its files: refused with words, never a crash."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivs_accessory.backup.document import decode, make_backup
from ivs_accessory.backup.plan import make_plan
from ivs_accessory.errors import ConfigError

from .boxfolder import snapshot, write_box

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(data=st.binary(max_size=400))
def test_any_bytes_are_read_or_refused(data):
    try:
        decode(data, "a passphrase of some length")
    except ConfigError as exc:
        assert str(exc)


def test_a_json_bomb_is_refused():
    bomb = b'{"kind": "ivs-accessory backup", "format": 1, "x": ' + b"[" * 100_000
    with pytest.raises(ConfigError, match="cut short"):
        decode(bomb)


@FUZZ
@given(
    main=st.text(max_size=200),
    dropin=st.text(max_size=100),
    time=st.dictionaries(
        st.sampled_from(["timezone", "ntp_servers"]), st.text(max_size=30)
    ),
    network=st.dictionaries(
        st.sampled_from(["mode", "address", "gateway", "dns"]), st.text(max_size=30)
    ),
)
def test_any_content_is_checked_or_refused_and_nothing_is_written(
    tmp_path_factory, main, dropin, time, network
):
    folder = tmp_path_factory.mktemp("box")
    files = write_box(folder)
    content = json.loads(make_backup(files))
    content["config"] = {"main": main, "dropins": {"90-x.conf": dropin}}
    content["time"], content["network"] = time, network
    before = snapshot(folder)
    try:
        make_plan(decode(json.dumps(content).encode()), files)
    except ConfigError as exc:
        assert exc.errors or str(exc)
    assert snapshot(folder) == before
