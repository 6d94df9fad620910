"""Transports move bytes between flxhub and sources (FTP/FTPS, SFTP, HTTP, IMAP, operator uploads); no database."""

from sources.transports.base import (
    ConnectionSettings,
    RemoteFile,
    TestVerdict,
    TransientTransportError,
    Transport,
    TransportError,
    get_transport,
)

__all__ = [
    "ConnectionSettings",
    "RemoteFile",
    "TestVerdict",
    "TransientTransportError",
    "Transport",
    "TransportError",
    "get_transport",
]
