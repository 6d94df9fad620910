"""Build the 997 that answers a received functional group, from the issues found while reading it."""

from __future__ import annotations

from .documents.functional_ack import (
    ACCEPTED,
    ACCEPTED_WITH_ERRORS,
    PARTIALLY_ACCEPTED,
    REJECTED,
    ElementError,
    FunctionalAck,
    SegmentError,
    TransactionAck,
)
from .envelope import FunctionalGroup, Transaction
from .errors import Issue, Severity

# Issue code → AK5 transaction set syntax error code (X12 element 718).
TRANSACTION_CODES = {
    "transaction_unterminated": "2",
    "se_control_mismatch": "3",
    "se_count_mismatch": "4",
    "functional_id_mismatch": "6",
    "transaction_control_duplicate": "23",
}
# Issue code → (AK304 segment syntax error code, AK403 element syntax error code or "") (elements 720, 723).
SEGMENT_CODES = {
    "segment_id_invalid": ("1", ""),
    "segment_run_together": ("8", "3"),
    "segment_terminator_missing": ("8", ""),
    "number_invalid": ("8", "6"),
}
SEGMENT_IN_ERROR = "5"
# Issue code → AK905 functional group syntax error code (element 716).
GROUP_CODES = {
    "group_unterminated": "3",
    "ge_control_mismatch": "4",
    "ge_count_mismatch": "5",
}


def acknowledge(group: FunctionalGroup) -> FunctionalAck:
    """Return the 997 for ``group``: each transaction accepted (A), accepted with errors noted (E) or rejected (R).

    Issues of error severity reject their transaction or group; warnings with an X12 code are reported with
    status E. Typed documents are read first so their own findings count too.
    """
    transactions = [_transaction_ack(transaction) for transaction in group.transactions]
    accepted = sum(1 for ack in transactions if ack.status != REJECTED)
    codes = _unique(GROUP_CODES[issue.code] for issue in group.issues if issue.code in GROUP_CODES)
    group_rejected = any(issue.severity is Severity.ERROR for issue in group.issues)
    if group_rejected or (transactions and accepted == 0):
        status = REJECTED
    elif accepted < len(transactions):
        status = PARTIALLY_ACCEPTED
    elif codes or any(ack.status == ACCEPTED_WITH_ERRORS for ack in transactions):
        status = ACCEPTED_WITH_ERRORS
    else:
        status = ACCEPTED
    declared = group.trailer.get(1) if group.trailer is not None else ""
    return FunctionalAck(
        functional_id=group.functional_id,
        group_control_number=group.control_number,
        version=group.version if group.version.startswith("005") else "",
        transactions=transactions,
        status=status,
        included=int(declared) if declared.isdigit() else len(transactions),
        received=len(transactions),
        accepted=0 if group_rejected else accepted,
        codes=codes,
    )


def _transaction_ack(transaction: Transaction) -> TransactionAck:
    transaction.document  # noqa: B018 - reading the document adds its findings to the issues
    issues = transaction.issues
    segment_errors = _segment_errors(issues)
    codes = _unique(TRANSACTION_CODES[issue.code] for issue in issues if issue.code in TRANSACTION_CODES)
    if segment_errors:
        codes.append(SEGMENT_IN_ERROR)
    if any(issue.severity is Severity.ERROR for issue in issues):
        status = REJECTED
        codes = codes or [SEGMENT_IN_ERROR]
    else:
        status = ACCEPTED_WITH_ERRORS if codes else ACCEPTED
    return TransactionAck(transaction.set_id, transaction.control_number, status, codes[:5], segment_errors)


def _segment_errors(issues: list[Issue]) -> list[SegmentError]:
    errors: dict[int | None, SegmentError] = {}
    for issue in issues:
        if issue.code not in SEGMENT_CODES:
            continue
        segment_code, element_code = SEGMENT_CODES[issue.code]
        position = issue.location.segment
        # AK301 must be a segment ID; a garbled one is cut down to what could be one.
        segment_id = "".join(char for char in issue.location.segment_id if char.isascii() and char.isalnum())[:3]
        error = errors.setdefault(position, SegmentError(segment_id, position, segment_code))
        if element_code and issue.location.element is not None:
            error.elements.append(ElementError(str(issue.location.element), element_code))
    return list(errors.values())


def _unique(codes) -> list[str]:
    return list(dict.fromkeys(codes))
