"""Files attached to emails in an IMAP folder, with imap-tools: filter messages, fetch attachments, mark them done."""

from __future__ import annotations

import contextlib
import imaplib
import logging
from datetime import UTC
from typing import IO, Any

from imap_tools import AND, BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessage
from imap_tools.errors import MailboxFolderSelectError, MailboxLoginError, UnexpectedCommandStatusError

from sources.transports.base import (
    BaseTransport,
    FileTooLarge,
    RemoteFile,
    TransientTransportError,
    TransportError,
    matches,
    network_error,
    tls_context,
)

logger = logging.getLogger(__name__)

DEFAULT_PROCESSED_FLAG = "$FlxhubProcessed"
# System flags that can mark a message as processed, with the search that finds messages without them.
SYSTEM_FLAGS = {"\\Seen": "seen", "\\Flagged": "flagged", "\\Answered": "answered"}
# Attachments travel base64-encoded (4 bytes for 3) inside a message that also has headers and text.
MESSAGE_OVERHEAD_BYTES = 1024 * 1024


class IMAPTransport(BaseTransport):
    """Attachments of the messages in one IMAP folder that match the filters and are not processed yet.

    Settings: host, port (143, or 993 with tls), username, password, path (the folder, default INBOX), tls
    (implicit TLS), timeout, max_bytes; options ``starttls``, ``sender`` and ``subject`` (substring filters),
    ``processed_flag`` (a keyword such as ``$FlxhubProcessed``, the default, or ``\\Seen``),
    ``processed_folder`` (move processed messages there instead of flagging them), ``verify_tls``, ``ca_cert``.

    A file's name is ``<message UID>/<attachment file name>``; patterns match the attachment file name.
    Messages larger than the size limit allows are left out of listings (and logged) and refused by ``fetch``.
    """

    kind = "imap"
    can_put = False

    def __init__(self, settings):
        super().__init__(settings)
        self._mailbox: BaseMailBox | None = None

    @property
    def port(self) -> int:
        return self.settings.port or (993 if self.settings.tls else 143)

    @property
    def folder(self) -> str:
        return self.settings.path or "INBOX"

    @property
    def processed_flag(self) -> str:
        return self.settings.options.get("processed_flag") or DEFAULT_PROCESSED_FLAG

    @property
    def message_limit(self) -> int:
        return self.settings.max_bytes * 4 // 3 + MESSAGE_OVERHEAD_BYTES

    def describe(self) -> str:
        return f"{self.settings.host}:{self.port}/{self.folder}"

    def close(self) -> None:
        mailbox, self._mailbox = self._mailbox, None
        if mailbox is not None:
            with contextlib.suppress(OSError, EOFError, imaplib.IMAP4.error):
                mailbox.logout()

    def _drop(self) -> None:
        """Forget a connection that broke, closing its socket without a polite LOGOUT."""
        mailbox, self._mailbox = self._mailbox, None
        if mailbox is not None:
            with contextlib.suppress(OSError):
                mailbox.client.shutdown()

    def connect(self) -> BaseMailBox:
        """Return the mailbox, logged in with the folder selected, connecting first if needed."""
        if self._mailbox is not None:
            return self._mailbox
        settings = self.settings
        with self.errors():
            if settings.tls:
                mailbox = MailBox(
                    settings.host, self.port, timeout=settings.timeout, ssl_context=tls_context(settings.options)
                )
            elif settings.options.get("starttls"):
                mailbox = MailBoxStartTls(
                    settings.host, self.port, timeout=settings.timeout, ssl_context=tls_context(settings.options)
                )
            else:
                mailbox = MailBoxUnencrypted(settings.host, self.port, timeout=settings.timeout)
        self._mailbox = mailbox
        try:
            with self.errors():
                mailbox.login(settings.username, settings.password, initial_folder=None)
                try:
                    mailbox.folder.set(self.folder)
                except MailboxFolderSelectError:
                    raise TransportError(f"Folder {self.folder} does not exist", code="transport_not_found") from None
        except TransportError:
            # Only a session that reached its folder is kept: a half-made one would work in the wrong place.
            self.close()
            raise
        return mailbox

    @contextlib.contextmanager
    def errors(self):
        """Translate imaplib, imap-tools and socket errors into TransportErrors; drop a broken connection."""
        try:
            yield
        except TransportError:
            raise
        except MailboxLoginError:
            raise TransportError("Wrong username or password", code="transport_auth_failed") from None
        except imaplib.IMAP4.abort as error:
            self._drop()
            raise TransientTransportError(
                f"The IMAP server closed the connection: {error}", code="transport_reset"
            ) from None
        except (UnexpectedCommandStatusError, imaplib.IMAP4.error) as error:
            raise TransportError(f"The IMAP server refused: {error}", code="transport_refused") from None
        except (OSError, EOFError) as error:
            self._drop()
            raise network_error(error, host=self.settings.host, port=self.port, timeout=self.settings.timeout) from None

    def criteria(self, **extra) -> AND:
        """Return the search for unprocessed messages that match the sender and subject filters."""
        options = self.settings.options
        terms: dict[str, Any] = dict(extra)
        if options.get("sender"):
            terms["from_"] = options["sender"]
        if options.get("subject"):
            terms["subject"] = options["subject"]
        flag = self.processed_flag
        if flag in SYSTEM_FLAGS:
            terms[SYSTEM_FLAGS[flag]] = False
        elif flag.startswith("\\"):
            raise TransportError(
                f"Unsupported processed flag {flag}: use a keyword or one of {', '.join(SYSTEM_FLAGS)}",
                code="transport_bad_option",
            )
        else:
            terms["no_keyword"] = flag
        return AND(**terms) if terms else AND(all=True)

    def _messages(self, criteria: AND, *, headers_only: bool = False) -> list[MailMessage]:
        mailbox = self.connect()
        with self.errors():
            return list(mailbox.fetch(criteria, charset="UTF-8", mark_seen=False, headers_only=headers_only, bulk=True))

    def list_files(self, pattern: str = "*") -> list[RemoteFile]:
        entries = []
        for message in self._messages(self.criteria(size_lt=self.message_limit)):
            modified = message.date if message.date.year > 1900 else None
            if modified is not None and modified.tzinfo is None:
                modified = modified.replace(tzinfo=UTC)
            for attachment in message.attachments:
                if attachment.filename and matches(attachment.filename, pattern):
                    entries.append(RemoteFile(f"{message.uid}/{attachment.filename}", attachment.size, modified))
        self._log_oversized()
        return entries

    def _log_oversized(self) -> None:
        mailbox = self.connect()
        with self.errors():
            oversized = mailbox.uids(self.criteria(size_gt=self.message_limit - 1), charset="UTF-8")
        if oversized:
            logger.warning(
                "IMAP %s: %d message(s) over the size limit left out: UIDs %s",
                self.describe(),
                len(oversized),
                ", ".join(oversized),
            )

    def _message(self, name: str, *, headers_only: bool = False) -> tuple[MailMessage, str]:
        uid, _, filename = name.partition("/")
        if not uid.isdigit() or not filename:
            raise TransportError(f"Not an attachment name (<UID>/<file name>): {name!r}", code="transport_bad_name")
        messages = self._messages(AND(uid=uid), headers_only=headers_only)
        if not messages:
            raise TransportError(f"Message {uid} does not exist in {self.folder}", code="transport_not_found")
        return messages[0], filename

    def exists(self, name: str) -> bool:
        try:
            message, filename = self._message(name)
        except TransportError as error:
            if error.code == "transport_not_found":
                return False
            raise
        return any(attachment.filename == filename for attachment in message.attachments)

    def download(self, name: str) -> IO[bytes]:
        headers, _ = self._message(name, headers_only=True)
        if headers.size_rfc822 > self.message_limit:
            raise FileTooLarge(name, self.settings.max_bytes)
        message, filename = self._message(name)
        for attachment in message.attachments:
            if attachment.filename == filename:
                return self.spool([attachment.payload], name, size=attachment.size)
        raise TransportError(
            f"File {filename} does not exist in message {message.uid} in {self.folder}", code="transport_not_found"
        )

    def move(self, name: str, folder: str) -> str:
        """Move the message that carries ``name`` (all its attachments with it) into ``folder``, created if missing."""
        message, filename = self._message(name, headers_only=True)
        mailbox = self.connect()
        with self.errors():
            if not mailbox.folder.exists(folder):
                mailbox.folder.create(folder)
            mailbox.move(message.uid, folder)
        return f"{folder}/{filename}"

    def mark_processed(self, name: str) -> str:
        """Mark the message that carries ``name`` as processed: move it to ``processed_folder`` or set the flag.

        Either way it no longer appears in ``list_files``. Returns where it went or which flag it carries.
        """
        folder = self.settings.options.get("processed_folder")
        if folder:
            return self.move(name, folder)
        message, _ = self._message(name, headers_only=True)
        self.criteria()  # refuses an unsupported flag before anything changes
        mailbox = self.connect()
        with self.errors():
            mailbox.flag(message.uid, self.processed_flag, True)
        return self.processed_flag

    def check(self) -> tuple[str, dict[str, Any]]:
        mailbox = self.connect()
        with self.errors():
            matching = mailbox.uids(self.criteria(), charset="UTF-8")
        plural = "" if len(matching) == 1 else "s"
        message = (
            f"Connected to {self.settings.host}:{self.port} over IMAP as {self.settings.username}; "
            f"folder {self.folder} has {len(matching)} unprocessed message{plural} matching the filters"
        )
        return message, {"messages": len(matching), "folder": self.folder}
