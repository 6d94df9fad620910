"""The FR state machine: allowed moves write events, forbidden ones change nothing, repeats are no-ops."""

import threading

import pytest
from django.db import connection, transaction

from flxhub.exceptions import InvalidTransition
from inventory.models import InventoryVariant
from orders.models import FREvent, FulfillmentRequest
from orders.services.fr_status import TRANSITIONS, fr_transition
from tests.factories import VariantFactory

Status = FulfillmentRequest.Status
ALL = [s.value for s in Status]
ALLOWED = [(a, b) for a in ALL for b in sorted(TRANSITIONS[a])]
FORBIDDEN = [(a, b) for a in ALL for b in ALL if a != b and b not in TRANSITIONS[a]]


def fr_in(make_fr, status):
    fr = make_fr((VariantFactory(quantity=10), 3))
    FulfillmentRequest.objects.filter(pk=fr.pk).update(status=status)
    return fr


@pytest.mark.django_db
@pytest.mark.parametrize(("start", "to"), ALLOWED)
def test_every_allowed_transition_succeeds_and_writes_an_event(make_fr, django_user_model, start, to):
    fr = fr_in(make_fr, start)
    user = django_user_model.objects.create(username="op")
    fr_transition(fr_id=fr.pk, to=to, actor=user, reason="because")
    fr.refresh_from_db()
    assert fr.status == to
    event = FREvent.objects.filter(fulfillment_request=fr, kind=FREvent.Kind.STATUS).latest("id")
    assert (event.from_status, event.to_status, event.actor, event.reason) == (start, to, user, "because")


@pytest.mark.django_db
@pytest.mark.parametrize(("start", "to"), FORBIDDEN)
def test_every_forbidden_transition_raises_and_changes_nothing(make_fr, start, to):
    fr = fr_in(make_fr, start)
    variant = fr.lines.get().variant
    before_events = FREvent.objects.count()
    with pytest.raises(InvalidTransition) as excinfo:
        fr_transition(fr_id=fr.pk, to=to)
    assert fr.number in excinfo.value.message and start in excinfo.value.message
    fr.refresh_from_db()
    variant.refresh_from_db()
    assert fr.status == start
    assert variant.committed_quantity == 3
    assert FREvent.objects.count() == before_events


@pytest.mark.django_db
def test_repeating_a_transition_is_a_no_op_success(make_fr):
    fr = make_fr((VariantFactory(), 1))
    fr_transition(fr_id=fr.pk, to=Status.PROCESSING)
    events = FREvent.objects.filter(fulfillment_request=fr).count()
    again = fr_transition(fr_id=fr.pk, to=Status.PROCESSING)
    assert again.status == Status.PROCESSING
    assert FREvent.objects.filter(fulfillment_request=fr).count() == events


@pytest.mark.django_db
def test_unknown_status_is_refused(make_fr):
    fr = make_fr((VariantFactory(), 1))
    with pytest.raises(InvalidTransition, match="Unknown FR status"):
        fr_transition(fr_id=fr.pk, to="teleported")


@pytest.mark.django_db
def test_committed_stock_rises_on_generation_and_falls_on_void(make_fr):
    variant = VariantFactory(quantity=10)
    fr = make_fr((variant, 4))
    variant.refresh_from_db()
    assert (variant.committed_quantity, variant.available) == (4, 6)
    fr_transition(fr_id=fr.pk, to=Status.VOIDED, reason="customer changed mind")
    variant.refresh_from_db()
    line = fr.lines.get()
    assert variant.committed_quantity == 0
    assert (line.voided_quantity, line.committed_quantity) == (4, 0)
    fr.refresh_from_db()
    assert fr.shipping_status == FulfillmentRequest.ShippingStatus.CANCELED
    assert fr.voided_at is not None and fr.status_reason == "customer changed mind"


@pytest.mark.django_db
def test_cancel_releases_stock_and_records_canceled_quantity(make_fr):
    variant = VariantFactory(quantity=5)
    fr = make_fr((variant, 2))
    fr_transition(fr_id=fr.pk, to=Status.PROCESSING)
    fr_transition(fr_id=fr.pk, to=Status.CANCELED, reason="out of stock at the source")
    variant.refresh_from_db()
    assert variant.committed_quantity == 0
    assert fr.lines.get().canceled_quantity == 2


@pytest.mark.django_db
def test_source_without_commit_stock_commits_nothing(make_fr):
    variant = VariantFactory(quantity=5, source__commit_stock=False)
    make_fr((variant, 2))
    variant.refresh_from_db()
    assert variant.committed_quantity == 0


@pytest.mark.django_db
def test_follow_up_is_enqueued_only_after_commit(make_fr, django_capture_on_commit_callbacks):
    fr = make_fr((VariantFactory(), 1))
    with django_capture_on_commit_callbacks() as callbacks:
        with transaction.atomic():
            fr_transition(fr_id=fr.pk, to=Status.PROCESSING)
    assert len(callbacks) == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_transitions_of_one_fr_serialise(make_fr):
    """Two threads void the same FR at once: one moves it and releases stock once; the other sees it done."""
    variant = VariantFactory(quantity=10)
    fr = make_fr((variant, 5))
    barrier = threading.Barrier(2)
    results, errors = [], []

    def void():
        try:
            barrier.wait()
            results.append(fr_transition(fr_id=fr.pk, to=Status.VOIDED).status)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=void) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == [Status.VOIDED, Status.VOIDED]
    assert FREvent.objects.filter(fulfillment_request=fr, to_status=Status.VOIDED, kind="status").count() == 1
    variant.refresh_from_db()
    assert variant.committed_quantity == 0
    assert InventoryVariant.objects.get(pk=variant.pk).quantity == 10


@pytest.mark.django_db(transaction=True)
def test_conflicting_concurrent_transitions_one_wins_one_is_refused(make_fr):
    fr = make_fr((VariantFactory(), 1))
    fr_transition(fr_id=fr.pk, to=Status.PROCESSING)
    barrier = threading.Barrier(2)
    outcomes = []

    def move(to):
        try:
            barrier.wait()
            fr_transition(fr_id=fr.pk, to=to)
            outcomes.append(("ok", to))
        except InvalidTransition:
            outcomes.append(("refused", to))
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(to,)) for to in (Status.VOIDED, Status.PROCESSED)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fr.refresh_from_db()
    oks = [to for kind, to in outcomes if kind == "ok"]
    # Either voided first (then processed is refused), or processed first (then voided is still allowed).
    assert fr.status == Status.VOIDED
    assert len(outcomes) == 2
    assert Status.VOIDED in oks
