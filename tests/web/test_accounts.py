"""Password hash and file, sessions, CSRF compare, login throttle (pure, real files)."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

from ivs_accessory.web.accounts import (
    FACTORY_PASSWORD,
    INITIAL_HASH,
    PasswordFile,
    PasswordFileError,
    Sessions,
    hash_password,
    new_password_problem,
    tokens_match,
    verify_password,
)
from ivs_accessory.web.throttle import LoginThrottle

TEMPLATE = Path(__file__).resolve().parents[2] / "config" / "web-password"


def test_hash_is_salted_scrypt_and_verifies():
    first, second = hash_password("s3cret-pass"), hash_password("s3cret-pass")
    assert first.startswith("scrypt$16384$8$1$") and first != second
    assert verify_password("s3cret-pass", first) and verify_password(
        "s3cret-pass", second
    )
    assert not verify_password("s3cret-pasS", first)


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "plain",
        "md5$1$2$3$4$5",
        "scrypt$16384$8$1$!!!$AAAA",
        "scrypt$x$8$1$AAAA$AAAA",
        "scrypt$3$8$1$AAAA$AAAA",  # n must be a power of two
        "scrypt$1073741824$8$1$AAAA$AAAA",  # far beyond the memory limit
    ],
)
def test_verify_refuses_damaged_hashes_without_raising(encoded):
    assert verify_password("anything", encoded) is False


def test_factory_template_holds_the_initial_hash_and_must_change():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(TEMPLATE)
    assert parser["password"]["hash"] == INITIAL_HASH
    assert parser["password"].getboolean("must_change") is True
    assert verify_password(FACTORY_PASSWORD, INITIAL_HASH)
    record = PasswordFile(str(TEMPLATE)).read()
    assert record.must_change and record.hash == INITIAL_HASH


def test_missing_file_means_the_factory_password_to_be_changed(tmp_path):
    store = PasswordFile(str(tmp_path / "web-password"))
    assert store.read().must_change and store.verify(FACTORY_PASSWORD)


def test_change_writes_a_private_file_atomically_without_the_password(tmp_path):
    path = tmp_path / "web-password"
    store = PasswordFile(str(path))
    store.change("a-new-password")
    assert path.stat().st_mode & 0o777 == 0o600
    assert "a-new-password" not in path.read_text()
    assert not store.read().must_change
    assert store.verify("a-new-password") and not store.verify(FACTORY_PASSWORD)
    assert [p.name for p in tmp_path.iterdir()] == ["web-password"]  # no temp file left


def test_change_into_a_missing_folder_raises_a_password_file_error(tmp_path):
    with pytest.raises(PasswordFileError, match="cannot write the password file"):
        PasswordFile(str(tmp_path / "nope" / "web-password")).change("a-new-password")


@pytest.mark.parametrize(
    "text",
    [
        "garbage",
        "[password]\n",
        "[other]\nhash = x\n",
        "[password]\nhash = x\nmust_change = perhaps\n",
    ],
)
def test_damaged_file_is_reported_not_replaced_by_the_factory_password(tmp_path, text):
    path = tmp_path / "web-password"
    path.write_text(text)
    with pytest.raises(PasswordFileError, match="is damaged"):
        PasswordFile(str(path)).read()


def test_unreadable_file_is_reported(tmp_path):
    path = tmp_path / "web-password"
    path.write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(PasswordFileError, match="cannot read"):
        PasswordFile(str(path)).read()


@pytest.mark.parametrize(
    "new, confirm, current, field",
    [
        ("short", "short", "", "new"),
        ("x" * 257, "x" * 257, "", "new"),
        ("long-enough", "long-enougH", "", "confirm"),
        ("same-as-now", "same-as-now", "same-as-now", "new"),
        (FACTORY_PASSWORD, FACTORY_PASSWORD, "", "new"),
    ],
)
def test_new_password_rules(new, confirm, current, field):
    assert list(new_password_problem(new, confirm, current)) == [field]


def test_new_password_accepted():
    assert new_password_problem("good-password", "good-password", "old-password") == {}


def test_sessions_expire_when_idle_and_keep_a_limit():
    now = [0.0]
    sessions = Sessions(lambda: 60, clock=lambda: now[0], limit=2)
    first = sessions.create(must_change=False)
    assert sessions.get(first.token) is first
    now[0] = 59
    assert sessions.get(first.token) is first
    now[0] = 120
    assert sessions.get(first.token) is None
    a, b, c = (sessions.create(False) for _ in range(3))
    assert sessions.get(a.token) is None and sessions.get(c.token) is c
    sessions.drop_others(c.token)
    assert sessions.get(b.token) is None and sessions.get(c.token) is c
    assert sessions.get("") is None and sessions.get(None) is None


def test_tokens_match_in_constant_time_and_refuse_blanks():
    assert tokens_match("abc", "abc")
    assert not tokens_match("abc", "abd") and not tokens_match("abc", None)
    assert not tokens_match("", "") and not tokens_match("abc", "\ud800")


def test_login_throttle_backs_off_and_forgets_after_success():
    now = [0.0]
    throttle = LoginThrottle(max_failures=3, base_s=10, max_s=25, clock=lambda: now[0])
    assert [throttle.begin("a").locks_s for _ in range(3)] == [0, 0, 10]
    assert throttle.begin("a").wait_s == 10 and throttle.begin("b").wait_s == 0
    now[0] = 10
    assert [throttle.begin("a").locks_s for _ in range(3)] == [0, 0, 20]
    now[0] = 30
    assert [throttle.begin("a").locks_s for _ in range(3)] == [0, 0, 25]
    throttle.succeeded("a")
    assert throttle.begin("a") == throttle.begin("c")  # allowed, nothing locked


def test_login_throttle_has_a_budget_for_the_whole_box():
    now = [0.0]
    throttle = LoginThrottle(burst=3, refill_s=5, clock=lambda: now[0])
    assert [throttle.begin(f"10.0.0.{n}").wait_s for n in range(4)] == [0, 0, 0, 5]
    assert throttle.begin("10.0.0.9").global_limit
    now[0] = 5
    assert throttle.begin("10.0.0.9").wait_s == 0  # one more after refill_s
    assert throttle.begin("10.0.0.9").wait_s == 5
    throttle.succeeded("10.0.0.9")  # a right password gives its try back
    assert throttle.begin("10.0.0.10").wait_s == 0


def test_login_throttle_forgets_idle_addresses_and_stays_bounded():
    now = [0.0]
    throttle = LoginThrottle(
        max_s=100, burst=10**6, max_entries=100, clock=lambda: now[0]
    )
    for n in range(1000):
        throttle.begin(f"2001:db8:{n:x}::1")
        assert throttle.tracked() <= 100
    now[0] = 1000
    throttle.begin("10.0.0.1")
    assert throttle.tracked() == 1


def test_sessions_polls_do_not_touch_and_twelve_hours_is_the_end():
    now = [0.0]
    sessions = Sessions(lambda: 60, clock=lambda: now[0], max_s=lambda: 150)
    first = sessions.create(must_change=False)
    now[0] = 50
    assert sessions.get(first.token, touch=False) is first
    now[0] = 61
    assert sessions.get(first.token) is None  # the poll at 50 did not count
    second = sessions.create(must_change=False)
    for step in (110, 160, 211):
        now[0] = step
        assert sessions.get(second.token) is second
    now[0] = 212
    assert sessions.get(second.token) is None  # 151 s after its login
