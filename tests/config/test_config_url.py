"""[valt] server forms: refused with the fix or normalised; base_url() agrees."""

from __future__ import annotations

import pytest

from ivs_accessory.config import check_file, load, notes
from ivs_accessory.config.types import Url
from ivs_accessory.config.url import parse_server
from ivs_accessory.service import valt_client
from ivs_accessory.valt.client import ValtClient
from ivs_accessory.valt.transport import base_url

GOOD = [
    ("valt.local", "https://valt.local"),
    ("valt.local:8443", "https://valt.local:8443"),
    ("http://valt.local", "http://valt.local"),
    ("https://valt.local", "https://valt.local"),
    ("HTTPS://Valt.Local", "https://valt.local"),
    ("10.0.0.5", "https://10.0.0.5"),
    ("http://10.0.0.5:8080", "http://10.0.0.5:8080"),
    ("[::1]:8443", "https://[::1]:8443"),
    ("https://[FD00:0::1]", "https://[fd00::1]"),
    ("https://valt.local/", "https://valt.local"),
    ("https://valt.local/valt", "https://valt.local/valt"),
    ("http://valt.local//valt//x/", "http://valt.local/valt/x"),
    ("http://valt.local/api/v3/", "http://valt.local/api/v3"),
    ("valt_1.example-site.org.", "https://valt_1.example-site.org."),
    ("https://valt.local:65535", "https://valt.local:65535"),
]

BAD = [
    ("htps://valt.local", "scheme 'htps' is not supported; did you mean https://?"),
    ("ftp://valt.local", "scheme 'ftp' is not supported; use http:// or https://"),
    ("http://", "has no host name"),
    ("https://:443", "has no host name"),
    ("http://[::1", "the IPv6 address has no closing ]"),
    ("http://[::1]x", "unexpected 'x' after the IPv6 address"),
    ("x" * 5000, "is 5000 characters long; at most 2048"),
    ("a" * 254, "the host name is 254 characters long; at most 253"),
    ("a" * 64 + ".local", "a part of the host name is over 63 characters"),
    ("http://admin:Hunter2@valt.local", "must not hold user:password@"),
    ("http://valt local", "must not contain spaces"),
    ("valt.local:0", "port '0' must be a number from 1 to 65535"),
    ("valt.local:65536", "port '65536' must be a number from 1 to 65535"),
    ("valt.local:https", "port 'https' must be a number from 1 to 65535"),
    ("valt.local:", "has ':' but no port after it"),
    ("fd00::1", "put an IPv6 address in brackets"),
    ("[fe80::1%eth0]", "an IPv6 zone (%...) cannot be used"),
    ("[fd00::zz]", "is not an IPv6 address"),
    ("999.1.1.1", "'999.1.1.1' is not an IPv4 address"),
    ("10.1.2", "'10.1.2' is not an IPv4 address"),
    ("http:/valt.local", "write http:// (two slashes)"),
    ("https:valt.local", "write https:// (two slashes)"),
    ("valt.local/?room=1", "must not have a query (?) or fragment (#)"),
    ("valt.local#x", "must not have a query (?) or fragment (#)"),
    ("välT.local", "in its xn-- (punycode) form"),
    ("http://valt.local/a%zz", "the path after the host may only use URL characters"),
    ("http://valt.local\\x", "may only use letters, digits"),
    ("-valt.local", "may only use letters, digits"),
    ("valt..local", "the host name has an empty part between dots"),
]


@pytest.mark.parametrize(("text", "normalised"), GOOD)
def test_url_accepts_and_normalises(text, normalised):
    assert Url().deserialize(text) == normalised


@pytest.mark.parametrize(("text", "words"), BAD)
def test_url_refuses_with_the_fix(text, words):
    with pytest.raises(ValueError) as caught:
        Url().deserialize(text)
    assert words in str(caught.value)


def server_file(tmp_path, text: str) -> str:
    path = tmp_path / "accessory.conf"
    path.write_text(f"[valt]\nserver = {text}\nroom = 1\n", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(("text", "words"), BAD)
def test_config_check_refuses_each_bad_server_once(tmp_path, text, words):
    errors = check_file(server_file(tmp_path, text))
    assert len(errors) == 1 and words in errors[0]
    assert errors[0].startswith("[valt] server")
    assert "Hunter2" not in errors[0]  # the password of a user:password@ part
    assert len(errors[0]) < 300  # a 5000-character value is not echoed back


@pytest.mark.parametrize(("text", "normalised"), GOOD)
def test_valt_client_and_base_url_agree_with_the_validator(tmp_path, text, normalised):
    config = load(server_file(tmp_path, text))
    assert config["valt"]["server"] == normalised
    client = valt_client(config)
    try:
        assert isinstance(client, ValtClient)
        expected = normalised.removesuffix("/api/v3") + "/api/v3/"
        assert client.base_url == base_url(normalised) == expected
    finally:
        client.close()


@pytest.mark.parametrize(("text", "words"), BAD)
def test_base_url_refuses_what_the_validator_refuses(text, words):
    with pytest.raises(ValueError) as caught:
        base_url(text, default_scheme="https")
    assert words in str(caught.value) and "Hunter2" not in str(caught.value)


def test_base_url_keeps_the_vendor_api_http_default():
    # ivs.valt("host") documents http://; a config value always has its scheme.
    assert base_url("valt.local") == "http://valt.local/api/v3/"
    assert base_url("valt.local", default_scheme="https") == (
        "https://valt.local/api/v3/"
    )


def test_server_without_scheme_is_noted_as_https(tmp_path):
    path = server_file(tmp_path, "valt.local:8443")
    assert notes(path) == [
        "[valt] server = 'valt.local:8443' has no scheme: https:// is used "
        "(write http:// for plain HTTP)"
    ]
    assert notes(server_file(tmp_path, "http://valt.local")) == []


def test_parse_server_says_whether_the_scheme_was_written():
    assert parse_server("valt.local").scheme_given is False
    assert parse_server("https://valt.local").scheme_given is True
    assert parse_server("valt.local", "http").origin == "http://valt.local"


def test_config_check_says_a_bare_host_means_https(tmp_path, capsys):
    from ivs_accessory.cli import config_check

    path = server_file(tmp_path, "valt.local")
    assert config_check(path) == 0
    out, err = capsys.readouterr()
    assert out == f"{path}: ok\n"
    assert err == (
        f"{path}: note: [valt] server = 'valt.local' has no scheme: https:// is used "
        "(write http:// for plain HTTP)\n"
    )
