"""Server options that cannot work are refused when the Config is made, showing the right call."""

from __future__ import annotations

import re

import pytest

from microready.server.cli import build_parser
from microready.server.config import Config, ConfigError


def test_headers_from_the_command_line_and_from_python_become_raw_pairs() -> None:
    from_cli = Config(headers=("X-Frame-Options: DENY", "x-a:1"))
    pairs = [("X-Frame-Options", "DENY"), ("x-a", "1")]
    from_python = Config(headers=pairs)  # type: ignore[arg-type]
    expected = [(b"x-frame-options", b"DENY"), (b"x-a", b"1")]
    assert from_cli.response_headers == expected
    assert from_python.response_headers == expected
    assert from_python.headers == (("X-Frame-Options", "DENY"), ("x-a", "1"))  # a tuple now


@pytest.mark.parametrize(
    "header", ["no-colon", ": value", "bad name: x", "x-a: one\r\ntwo", ("x", "1", "2"), "x-é: 1"]
)
def test_a_header_that_is_not_name_colon_value_is_refused(header: object) -> None:
    with pytest.raises(ConfigError) as error:
        Config(headers=(header,))  # type: ignore[arg-type]
    assert "right: --header 'X-Frame-Options: DENY'" in str(error.value)


def test_a_list_option_given_one_string_is_refused_not_split_into_letters() -> None:
    with pytest.raises(ConfigError, match=r"right: reload_dirs=\['src'\]"):
        Config(reload=True, reload_dirs="src")  # type: ignore[arg-type]


@pytest.mark.parametrize("path", ["metrics", "/"])
def test_metrics_path_must_be_a_path(path: str) -> None:
    with pytest.raises(ConfigError, match="right: --metrics-path /metrics"):
        Config(metrics_path=path)


def test_tls_needs_the_key_and_the_certificate() -> None:
    right = re.escape("--ssl-certfile cert.pem --ssl-keyfile key.pem")
    with pytest.raises(ConfigError, match=right):
        Config(ssl_keyfile="key.pem")
    # As in uvicorn (ssl's load_cert_chain): the key may be in the certificate's file.
    assert Config(ssl_certfile="key-and-cert.pem").ssl_enabled
    assert Config(ssl_keyfile="key.pem", ssl_certfile="cert.pem").ssl_enabled
    assert not Config().ssl_enabled


def test_ssl_cert_reqs_is_one_of_the_ssl_module_constants() -> None:
    with pytest.raises(ConfigError, match="CERT_REQUIRED"):
        Config(ssl_cert_reqs=3)


@pytest.mark.parametrize("name", ["timeout_send", "reload_delay", "timeout_worker_healthcheck"])
def test_new_timeouts_must_be_positive(name: str) -> None:
    with pytest.raises(ConfigError, match=f"{name} must be a positive number of seconds"):
        Config(**{name: 0, "reload": name == "reload_delay"})


def test_access_log_format_is_plain_or_json() -> None:
    with pytest.raises(ConfigError, match="'plain' or 'json'"):
        Config(access_log_format="xml")  # type: ignore[arg-type]


def test_repeatable_flags_collect_every_value_and_switches_take_both_spellings() -> None:
    args = vars(build_parser().parse_args([
        "main:app", "--reload", "--header", "X-A: 1", "--header", "X-B: 2", "--reload-dir", "src",
        "--reload-dir", "lib", "--no-proxy-headers", "--no-server-header", "--use-colors",
    ]))
    assert args["headers"] == ["X-A: 1", "X-B: 2"]
    assert args["reload_dirs"] == ["src", "lib"]
    assert (args["proxy_headers"], args["server_header"], args["use_colors"]) == (
        False, False, True)
    defaults = vars(build_parser().parse_args(["main:app"]))
    assert "headers" not in defaults  # left to Config's default, ()
    assert (defaults["proxy_headers"], defaults["date_header"], defaults["use_colors"]) == (
        True, True, None)
    config = Config(**{k: v for k, v in args.items() if k not in ("app", "factory", "app_dir")})
    assert config.reload_dirs == ("src", "lib")
