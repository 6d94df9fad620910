"""Persisted X12 control numbers: one sequence per trading partner and kind, safe under concurrent writers."""

from django.db import connection, transaction

from flxhub.exceptions import ValidationFailed

from ..models import X12ControlSequence

KINDS = ("interchange", "group", "transaction")
# ISA13 has nine digits, GS06 and ST02 are at most nine; a sequence wraps to 1 after this.
MAX_CONTROL_NUMBER = 999_999_999


def x12_control_number_next(*, partner: str, kind: str) -> int:
    """Return the next control number of ``kind`` for ``partner`` and persist it; never the same one twice.

    One ``UPDATE … RETURNING`` on the partner's row (created on first use) takes the number, so two
    workers writing to the same partner at once get different numbers. Inside a caller's transaction
    the row stays locked until that transaction ends.
    """
    if kind not in KINDS:
        raise ValidationFailed(f"Unknown X12 control number kind {kind!r}.", details={"kind": kind})
    with transaction.atomic():
        number = _increment(partner, kind)
        if number is None:
            X12ControlSequence.objects.get_or_create(partner=partner, kind=kind)
            number = _increment(partner, kind)
    return number


def _increment(partner: str, kind: str) -> int | None:
    table = X12ControlSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_value = CASE WHEN last_value >= %s THEN 1 ELSE last_value + 1 END "  # noqa: S608
            "WHERE partner = %s AND kind = %s RETURNING last_value",
            [MAX_CONTROL_NUMBER, partner, kind],
        )
        row = cursor.fetchone()
    return None if row is None else int(row[0])


class DatabaseControlNumbers:
    """The ``x12.ControlNumbers`` of one partner, backed by ``X12ControlSequence`` rows."""

    def __init__(self, partner: str):
        self.partner = partner

    def next(self, kind: str) -> int:
        return x12_control_number_next(partner=self.partner, kind=kind)
