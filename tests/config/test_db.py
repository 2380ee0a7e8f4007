"""The deadlock safety net, proven with a real deadlock between two connections."""

import threading

import pytest
from django.db import transaction
from structlog.testing import capture_logs

from catalog.models import Product
from config.db import DatabaseBusy, retry_on_conflict

pytestmark = pytest.mark.django_db(transaction=True)


def test_retry_on_conflict_retries_a_real_deadlock(product_factory, in_threads):
    first, second = product_factory(), product_factory()
    both_locked_once = threading.Barrier(2)
    attempts: list[str] = []

    @retry_on_conflict
    @transaction.atomic(durable=True)
    def lock_both(*, order: list[int], name: str) -> str:
        attempts.append(name)
        Product.objects.select_for_update().get(pk=order[0])
        if attempts.count(name) == 1:
            both_locked_once.wait(timeout=10)  # each holds one row and wants the other: a deadlock
        Product.objects.select_for_update().get(pk=order[1])
        return name

    with capture_logs() as logs:
        outcomes = in_threads(
            lock_both, [{"order": [first.pk, second.pk], "name": "a"}, {"order": [second.pk, first.pk], "name": "b"}]
        )

    assert outcomes == ["a", "b"]
    assert len(attempts) == 3  # PostgreSQL aborted one of them once; the retry succeeded
    retries = [line for line in logs if line["event"] == "transaction_retry"]
    assert len(retries) == 1
    assert retries[0]["error"] == "DeadlockDetected"


def test_retry_on_conflict_gives_up_with_database_busy(product_factory, in_threads, settings):
    settings.DB_RETRY_ATTEMPTS = 1
    first, second = product_factory(), product_factory()
    both_locked = threading.Barrier(2)

    @retry_on_conflict
    @transaction.atomic(durable=True)
    def lock_both(*, order: list[int]) -> str:
        Product.objects.select_for_update().get(pk=order[0])
        both_locked.wait(timeout=10)
        Product.objects.select_for_update().get(pk=order[1])
        return "ok"

    outcomes = in_threads(lock_both, [{"order": [first.pk, second.pk]}, {"order": [second.pk, first.pk]}])

    busy = [o for o in outcomes if isinstance(o, DatabaseBusy)]
    assert len(busy) == 1
    assert busy[0].status == 503
    assert busy[0].details == {"reason": "DeadlockDetected"}
    assert outcomes.count("ok") == 1
