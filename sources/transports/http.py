"""HTTP(S) feed URLs with requests: one file per connection, streamed with a size limit."""

from __future__ import annotations

import contextlib
import posixpath
from typing import IO, Any
from urllib.parse import unquote, urlsplit

import requests

from sources.transports.base import (
    CHUNK_BYTES,
    BaseTransport,
    RemoteFile,
    TransientTransportError,
    TransportError,
    format_size,
    matches,
    network_error,
)

# Answers that mean "not now" rather than "never": worth a retry later.
TRANSIENT_STATUSES = {408, 425, 429}


class HTTPTransport(BaseTransport):
    """One feed at ``settings.url``, fetched with GET.

    Settings: url, username + password (basic auth), timeout, max_bytes; options ``token`` (sent as
    ``Authorization: Bearer``), ``headers`` (extra headers, e.g. ``{"X-Api-Key": "…"}``), ``file_name`` (the name
    the feed is listed under; default the last part of the URL's path), ``verify_tls`` (default true).
    The feed cannot be written, moved or archived.
    """

    kind = "http"
    can_put = False
    can_move = False

    def __init__(self, settings):
        super().__init__(settings)
        self._session: requests.Session | None = None

    @property
    def port(self) -> int | None:
        parts = urlsplit(self.settings.url)
        return parts.port or {"http": 80, "https": 443}.get(parts.scheme)

    @property
    def host(self) -> str:
        return urlsplit(self.settings.url).hostname or ""

    @property
    def safe_url(self) -> str:
        """The feed URL without credentials or query string, fit for messages and logs."""
        parts = urlsplit(self.settings.url)
        netloc = parts.hostname or ""
        if parts.port:
            netloc = f"{netloc}:{parts.port}"
        return f"{parts.scheme}://{netloc}{parts.path}"

    @property
    def feed_name(self) -> str:
        return self.settings.options.get("file_name") or posixpath.basename(unquote(urlsplit(self.settings.url).path))

    def describe(self) -> str:
        return self.safe_url

    def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()

    def session(self) -> requests.Session:
        """Return the HTTP session, with authentication and headers from the settings."""
        if self._session is None:
            settings = self.settings
            if urlsplit(settings.url).scheme not in {"http", "https"}:
                raise TransportError("The feed URL must start with http:// or https://", code="transport_bad_url")
            session = requests.Session()
            session.headers.update(settings.options.get("headers") or {})
            if settings.options.get("token"):
                session.headers["Authorization"] = f"Bearer {settings.options['token']}"
            if settings.username:
                session.auth = (settings.username, settings.password)
            session.verify = bool(settings.options.get("verify_tls", True))
            self._session = session
        return self._session

    @contextlib.contextmanager
    def request_errors(self):
        """Translate requests' failures into TransportErrors that name the cause: timeout, refusal, TLS, reset."""
        try:
            yield
        except requests.Timeout:
            raise TransientTransportError(
                f"Timed out after {self.settings.timeout:g} s talking to {self.host}:{self.port}",
                code="transport_timeout",
            ) from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as error:
            cause = _root_cause(error)
            if isinstance(cause, OSError | EOFError):
                raise network_error(cause, host=self.host, port=self.port, timeout=self.settings.timeout) from None
            raise TransientTransportError(
                f"The connection to {self.host}:{self.port} failed: {type(error).__name__}", code="transport_reset"
            ) from None
        except requests.RequestException as error:
            raise TransportError(f"The request for {self.safe_url} failed: {type(error).__name__}") from None

    def get(self) -> requests.Response:
        """Send the GET and return the streamed response (body not read yet); raise TransportError for failures."""
        session = self.session()
        with self.request_errors():
            response = session.get(self.settings.url, stream=True, timeout=self.settings.timeout)
        try:
            self._check_status(response)
        except TransportError:
            response.close()
            raise
        return response

    def _check_status(self, response: requests.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        if status in {401, 403}:
            raise TransportError(
                f"Wrong credentials: the feed server answered HTTP {status} for {self.safe_url}",
                code="transport_auth_failed",
                details={"status": status},
            )
        if status in {404, 410}:
            raise TransportError(
                f"Feed URL not found (HTTP {status}): {self.safe_url}",
                code="transport_not_found",
                details={"status": status},
            )
        if status >= 500 or status in TRANSIENT_STATUSES:
            details = {"status": status}
            if response.headers.get("Retry-After"):
                details["retry_after"] = response.headers["Retry-After"]
            raise TransientTransportError(
                f"The feed server answered HTTP {status} for {self.safe_url}: try again later",
                code="transport_server_error",
                details=details,
            )
        raise TransportError(
            f"The feed server refused the request: HTTP {status} for {self.safe_url}",
            code="transport_refused",
            details={"status": status},
        )

    def list_files(self, pattern: str = "*") -> list[RemoteFile]:
        """Return the feed as the one file of this connection (no request is sent: a feed has no listing)."""
        return [RemoteFile(self.feed_name)] if matches(self.feed_name, pattern) else []

    def exists(self, name: str) -> bool:
        if name != self.feed_name:
            return False
        try:
            self.get().close()
        except TransportError as error:
            if error.code == "transport_not_found":
                return False
            raise
        return True

    def download(self, name: str) -> IO[bytes]:
        if name != self.feed_name:
            raise TransportError(
                f"File {name} does not exist: this connection serves one feed, {self.feed_name}",
                code="transport_not_found",
            )
        with self.get() as response, self.request_errors():
            return self.spool(response.iter_content(CHUNK_BYTES), name, size=_content_length(response))

    def check(self) -> tuple[str, dict[str, Any]]:
        with self.get() as response:
            size = _content_length(response)
            content_type = response.headers.get("Content-Type", "").split(";")[0] or "no content type"
        parts = [f"HTTP {response.status_code}", content_type]
        if size is not None:
            parts.append(format_size(size))
        message = f"Feed reachable at {self.safe_url}: {', '.join(parts)}"
        return message, {"status": response.status_code, "content_type": content_type, "size": size}


def _content_length(response: requests.Response) -> int | None:
    value = response.headers.get("Content-Length", "")
    return int(value) if value.isdigit() else None


def _root_cause(error: BaseException) -> BaseException:
    """Return the deepest OSError behind a requests/urllib3 error (they wrap it several times), else ``error``."""
    seen: set[int] = set()
    layer: list[BaseException] = [error]
    found: BaseException = error
    while layer:
        next_layer: list[BaseException] = []
        for current in layer:
            if id(current) in seen:
                continue
            seen.add(id(current))
            if isinstance(current, OSError) and not isinstance(current, requests.RequestException):
                found = current
            linked = [
                *getattr(current, "args", ()),
                current.__cause__,
                current.__context__,
                getattr(current, "reason", None),
            ]
            next_layer.extend(item for item in linked if isinstance(item, BaseException))
        layer = next_layer
    return found
