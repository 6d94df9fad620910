"""Keyset pagination on (updated_at, id): a change feed that never skips a row while others change.

A cursor is an opaque token for the position (updated_at, id) of the last row a client has seen; the
next page is every row strictly after it, in (updated_at, id) order, so paging costs the same at any
depth and needs no COUNT. A row that changes while a client pages moves to the end of the feed and is
seen again in its new state; a row never falls behind a cursor that has already passed it.

That last promise needs care: ``updated_at`` is stamped when a row is saved, but the row becomes visible
when its transaction commits. A transaction that stamps a row at 12:00:00.1 and commits at 12:00:00.5
would be missed by a client whose page at 12:00:00.3 returned a row stamped 12:00:00.2. So on PostgreSQL
a page stops short of the oldest transaction still writing (from ``pg_stat_activity``), less a margin for
clock skew between the web hosts and the database: rows stamped after that are served once it commits.
The FR page reads the writers in its own statement, just after that statement's snapshot: a transaction the
snapshot saw in progress that has finished by then started at an unknown time, so the page then stops as
far back as any writer counts (``MAX_WRITER_AGE``).
"""

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

from flxhub.exceptions import ValidationFailed

from .prepared import prepared_fetchall

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
# Clock skew tolerated between the hosts that stamp updated_at and the database's clock.
CLOCK_SKEW_MARGIN = timedelta(seconds=1)
# A writing transaction open longer than this (a forgotten psql session) stops holding the feed back.
MAX_WRITER_AGE = timedelta(minutes=10)
# A position after every id at a timestamp: "updated strictly after t".
_AFTER_ALL_IDS = 2**63 - 1


@dataclass(frozen=True)
class Position:
    updated_at: datetime
    id: int

    def encode(self) -> str:
        raw = f"{self.updated_at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True)
class Page:
    rows: list[dict]
    next_cursor: str | None
    has_more: bool

    def envelope(self, data: list) -> dict:
        return {"data": data, "next_cursor": self.next_cursor, "has_more": self.has_more}


def cursor_decode(cursor: str) -> Position:
    """Parse a cursor this module produced, or raise a 400 that says so."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _, pk = raw.rpartition("|")
        updated_at = parse_datetime(stamp)
        position = Position(updated_at=updated_at, id=int(pk)) if updated_at and updated_at.tzinfo else None
    except (binascii.Error, UnicodeDecodeError, ValueError):
        position = None
    if position is None:
        raise ValidationFailed(
            "The cursor is not valid; pass back the next_cursor of a previous page unchanged.",
            code="invalid_cursor",
            details={"cursor": cursor},
        )
    return position


def start_position(*, cursor: str | None, updated_after: datetime | None) -> Position | None:
    """Where a page starts: after the cursor if given, else after ``updated_after``, else at the beginning."""
    if cursor:
        return cursor_decode(cursor)
    if updated_after is not None:
        return Position(updated_at=updated_after, id=_AFTER_ALL_IDS)
    return None


def _interval(delta: timedelta) -> str:
    return f"interval '{delta.total_seconds():g} seconds'"


# PostgreSQL: the horizon (a timestamptz, or NULL) of the statement that holds this as a subquery. The writers
# are read from pg_stat_get_activity() without the view, whose joins to pg_database and pg_authid cost 3×.
HORIZON_SQL = (
    "WITH writer AS MATERIALIZED (SELECT datid, pid, backend_xid, xact_start FROM pg_stat_get_activity(NULL)"
    " WHERE backend_xid IS NOT NULL)"
    # A transaction the snapshot sees in progress that no longer runs: it committed since, start unknown.
    " SELECT CASE WHEN EXISTS (SELECT FROM pg_snapshot_xip(pg_current_snapshot()) AS x (xid)"
    " WHERE NOT EXISTS (SELECT FROM writer WHERE writer.backend_xid = x.xid::xid))"
    f" THEN statement_timestamp() - {_interval(MAX_WRITER_AGE)}"
    " ELSE (SELECT min(xact_start) FROM writer"
    " WHERE datid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND pid <> pg_backend_pid()"
    f" AND xact_start > statement_timestamp() - {_interval(MAX_WRITER_AGE)})"
    f" END - {_interval(CLOCK_SKEW_MARGIN)}"
)


def visibility_horizon() -> datetime | None:
    """Return the stamp after which rows may still be joined by earlier-stamped uncommitted ones, or None.

    For a page read by a later statement; a statement can hold ``HORIZON_SQL`` instead and save the round trip.
    """
    if connection.vendor != "postgresql":
        return None  # SQLite serialises writers; nothing commits behind a reader's back.
    ((horizon,),) = prepared_fetchall(HORIZON_SQL)
    return horizon


def keyset_slice(queryset: QuerySet, *, start: Position | None, limit: int) -> QuerySet:
    """``queryset`` cut to the ``limit + 1`` rows after ``start`` in (updated_at, id) order, below the horizon.

    One row more than the page: its presence is ``has_more``.
    """
    if start is not None:
        # The first condition lets PostgreSQL range-scan the (updated_at, id) index.
        queryset = queryset.filter(
            Q(updated_at__gte=start.updated_at) & (Q(updated_at__gt=start.updated_at) | Q(id__gt=start.id))
        )
    horizon = visibility_horizon()
    if horizon is not None:
        queryset = queryset.filter(updated_at__lt=horizon)
    return queryset.order_by("updated_at", "id")[: limit + 1]


def next_cursor(*, start: Position | None, last: Position | None) -> str | None:
    """The cursor after a page whose last row is at ``last`` (None: an empty page, which keeps ``start``)."""
    if last is not None:
        return last.encode()
    return start.encode() if start is not None else None


def keyset_page(queryset: QuerySet, *, start: Position | None, limit: int) -> Page:
    """Return up to ``limit`` rows of ``queryset`` (a ``.values()`` query with updated_at and id) after ``start``."""
    rows = list(keyset_slice(queryset, start=start, limit=limit))
    has_more = len(rows) > limit
    rows = rows[:limit]
    last = Position(updated_at=rows[-1]["updated_at"], id=rows[-1]["id"]) if rows else None
    return Page(rows=rows, next_cursor=next_cursor(start=start, last=last), has_more=has_more)


def page_size(value: int | None) -> int:
    return DEFAULT_PAGE_SIZE if value is None else max(1, min(value, MAX_PAGE_SIZE))
