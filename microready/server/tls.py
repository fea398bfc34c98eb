"""TLS (``--ssl-*``): the server's ``ssl.SSLContext``, and each connection's handshake.

The context is built once, at start-up, as uvicorn's ``create_ssl_context``
builds it: ``PROTOCOL_TLS_SERVER``, the certificate chain and key, the client
certificate rule (``--ssl-cert-reqs``) with the CAs that verify them
(``--ssl-ca-certs``), and ``--ssl-ciphers`` if given (OpenSSL's defaults
otherwise). A file that cannot be read, a key that does not fit the
certificate, or a wrong or missing password is a ``ConfigError`` that names the
file, so the server stops before it listens.

Each accepted connection is wrapped in anyio's ``TLSStream`` (memory BIOs over
the same ``RawSocketStream``, so it runs alike on asyncio, uvloop and trio). The
handshake is bounded by ``--timeout-request-head``: it is the first thing a
client must send, and one bound means one knob for a client that says nothing
(uvicorn leaves asyncio's 60 s). A failed or late handshake costs only its
connection: it is logged at debug level (as asyncio, and so uvicorn, does) and
is no access line, since no request arrived.

The stream is made with ``standard_compatible=False`` and then sends its own
``close_notify`` on close without waiting for the client's, which is how
trio's ``https_compatible`` streams (and browsers) behave: HTTP frames its own
messages, so a client that closes without ``close_notify`` truncates nothing
(RFC 9112 section 9.8), and waiting for the client's alert inside the
transport's shielded close would let a silent client hold the connection open.
"""

from __future__ import annotations

import logging
import os
import ssl
from typing import Any, cast

import anyio
import anyio.abc
from anyio.streams.tls import TLSStream

from ..datastructures import Address
from .config import Config, ConfigError
from .log import where

__all__ = ["ServerTLSStream", "handshake", "server_context"]

error_logger = logging.getLogger("microready.error")

# OpenSSL's reasons that deserve words in the debug line.
_REASONS = {
    "HTTP_REQUEST": "plain HTTP sent to the TLS port",
    "PEER_DID_NOT_RETURN_A_CERTIFICATE": "the client sent no certificate (--ssl-cert-reqs 2)",
}
# How long closing may wait to hand our close_notify to a socket that is full.
CLOSE_NOTIFY_TIMEOUT = 0.5


class _PasswordNeeded(Exception):
    """The key file is encrypted and no --ssl-keyfile-password was given."""


def server_context(config: Config) -> ssl.SSLContext | None:
    """The context ``config``'s ``ssl_*`` fields describe; None without TLS.

    Raises ConfigError naming the file (or option) that is wrong.
    """
    certfile = config.ssl_certfile
    if certfile is None:
        return None
    keyfile = config.ssl_keyfile
    for option, path in (("--ssl-certfile", certfile), ("--ssl-keyfile", keyfile),
                         ("--ssl-ca-certs", config.ssl_ca_certs)):
        if path is not None:
            _check_readable(option, path)
    _check_holds_certificate("--ssl-certfile", certfile)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    password = config.ssl_keyfile_password
    asked: list[bool] = []

    def give_password() -> str:
        asked.append(True)
        if password is None:
            raise _PasswordNeeded
        return password

    # A callback even without a password: OpenSSL would otherwise ask for one on
    # the terminal, and a server must never wait on a prompt.
    key_in = keyfile if keyfile is not None else certfile
    try:
        context.load_cert_chain(certfile, keyfile, give_password)
    except _PasswordNeeded:
        raise ConfigError(
            f"the TLS key file {key_in} is encrypted; give its password:\n"
            f"    right: --ssl-keyfile {key_in} --ssl-keyfile-password PASSWORD"
        ) from None
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise ConfigError(
                f"the TLS key in {key_in} does not belong to the certificate in {certfile}"
            ) from None
        if password is not None:
            raise ConfigError(
                f"cannot load the TLS key in {key_in}: the --ssl-keyfile-password is wrong, "
                f"or the file holds no PEM private key"
            ) from None
        raise ConfigError(
            f"cannot load the TLS key in {key_in}: it holds no PEM private key"
            + ("" if keyfile is not None else
               f" (a key in its own file: --ssl-certfile {certfile} --ssl-keyfile key.pem)")
        ) from None
    if password is not None and not asked:
        raise ConfigError(
            f"--ssl-keyfile-password was given, but the TLS key in {key_in} is not encrypted; "
            f"leave the password out"
        )
    context.verify_mode = ssl.VerifyMode(config.ssl_cert_reqs)
    if config.ssl_ca_certs is not None:
        _check_holds_certificate("--ssl-ca-certs", config.ssl_ca_certs)
        context.load_verify_locations(config.ssl_ca_certs)
    if config.ssl_ciphers is not None:
        try:
            context.set_ciphers(config.ssl_ciphers)
        except ssl.SSLError:
            raise ConfigError(
                f"--ssl-ciphers {config.ssl_ciphers!r} selects no cipher OpenSSL knows "
                f"(see 'openssl ciphers -v'):\n    right: --ssl-ciphers 'ECDHE+AESGCM'"
            ) from None
    return context


def _check_readable(option: str, path: str) -> None:
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise ConfigError(
            f"cannot read {option} {path}: {exc.strerror or exc}"
            f" (the working directory is {os.getcwd()})"
        ) from None


def _check_holds_certificate(option: str, path: str) -> None:
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(path)
    except ssl.SSLError:
        raise ConfigError(f"{option} {path} holds no PEM certificate") from None


class ServerTLSStream(TLSStream):
    """anyio's ``TLSStream``, with what the transport needs of a server's stream.

    * ``receive_nowait``: at shutdown the transport answers a request that has
      fully arrived and closes a connection with nothing; this decrypts what the
      kernel (or the TLS buffer) already holds, without waiting.
    * ``send_eof``: our ``close_notify``, then the TCP half-close, so the
      transport's polite close works over TLS too.
    * ``aclose``: sends ``close_notify`` (bounded), not waiting for the client's.
    """

    _notified: bool = False

    def receive_nowait(self, max_bytes: int = 65536) -> bytes | None:
        """Decrypted bytes already here: None if none, b"" if the peer has gone."""
        if self._broken:
            return b""
        data = self._read_decrypted(max_bytes)  # a record buffered already?
        if data is not None:
            return data
        receive_nowait = getattr(self.transport_stream, "receive_nowait", None)
        raw = receive_nowait(max_bytes) if receive_nowait is not None else None
        if raw is None:
            return None
        if raw:
            self._read_bio.write(raw)
        else:
            self._read_bio.write_eof()
        return self._read_decrypted(max_bytes)  # None: a partial record, the rest to come

    def _read_decrypted(self, max_bytes: int) -> bytes | None:
        try:
            return self._ssl_object.read(max_bytes)
        except ssl.SSLWantReadError:
            return None
        except ssl.SSLError:  # an EOF without close_notify, or garbage: the peer is gone
            return b""

    async def send_eof(self) -> None:
        await self._send_close_notify()
        await self.transport_stream.send_eof()

    async def aclose(self) -> None:
        try:
            with anyio.move_on_after(CLOSE_NOTIFY_TIMEOUT):
                await self._send_close_notify()
        except Exception:  # the peer is gone: there is no one to tell
            pass
        finally:
            await self.transport_stream.aclose()

    async def _send_close_notify(self) -> None:
        if self._notified or self._broken:
            return
        self._notified = True
        try:
            self._ssl_object.unwrap()  # writes close_notify; the peer's may never come
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLError:
            return
        await self._flush_write_bio()


async def handshake(
    stream: anyio.abc.ByteStream, context: ssl.SSLContext, limit: float,
    peer: Address | None,
) -> ServerTLSStream | None:
    """Do the server's side of the TLS handshake on ``stream``, within ``limit`` seconds.

    Returns None (logged at debug level) when it fails or takes too long; the
    caller then closes ``stream``.
    """
    reason: Any = f"no handshake within {limit:g}s (--timeout-request-head)"
    with anyio.move_on_after(limit):
        try:
            # wrap() builds the class it is called on (cls(...)): a ServerTLSStream.
            tls = await ServerTLSStream.wrap(
                stream, server_side=True, ssl_context=context, standard_compatible=False
            )
        except ssl.SSLError as exc:  # not TLS (plain HTTP, say), or refused
            reason = _REASONS.get(exc.reason, exc.reason or exc)
        except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
            reason = "the client closed the connection"
        else:
            return cast(ServerTLSStream, tls)
    error_logger.debug("TLS handshake with %s failed: %s", where(peer), reason)
    return None
