"""Writing the audit trail (django-simple-history) from services, in the transaction of the change.

The services change rows with ``QuerySet.update()`` (relative, guarded statements), which sends no
model signal, so the trail cannot rely on simple-history's signal handlers there: a service wraps
its statement in ``changes_recorded``, which writes one history row per row whose audited values
the statement changed, naming the actor the service was given. Rows inserted with
``bulk_create`` get theirs from ``creations_recorded``. Saves and deletes of model instances
(``Model.objects.create``, a cascaded delete) go through the signal handlers; a service runs them
inside ``audit_actor(actor)`` so those rows name the same actor.

A history row is the row's audited values after the change; its previous row holds the values
before, so ``history_changes`` (and the admin's history pages) show old and new values.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import models
from django.db.models import Q

from accounts.models import User, audit_actor


def _audited_columns(model: type[models.Model]) -> list[str]:
    return [field.attname for field in model.history.model.tracked_fields]


@contextmanager
def changes_recorded(
    model: type[models.Model], *, pks: Iterable, actor: User | None, reason: str = ""
) -> Iterator[None]:
    """Record who changed which rows of ``model`` (among ``pks``) inside the block, with their new values.

    The rows' audited values are read before and after the block (the caller holds their locks or
    has just written them, so nobody else changes them in between); a row the block left as it was
    gets no history row.
    """
    pks = list(pks)
    columns = _audited_columns(model)
    before = {row[0]: row[1:] for row in model.objects.filter(pk__in=pks).values_list("pk", *columns)}
    yield
    changed = [
        row
        for row in model.objects.filter(pk__in=pks).order_by("pk")
        if tuple(getattr(row, column) for column in columns) != before.get(row.pk)
    ]
    if changed:
        with audit_actor(actor):
            model.history.bulk_history_create(changed, update=True, default_user=actor, default_change_reason=reason)


def creations_recorded(rows: list[models.Model], *, actor: User | None, reason: str = "") -> None:
    """Record the creation of ``rows``, just inserted with ``bulk_create`` (so their primary keys are set)."""
    if rows:
        with audit_actor(actor):
            type(rows[0]).history.bulk_history_create(rows, default_user=actor, default_change_reason=reason)


def history_previous(record):
    """The history row of the same object just before ``record`` (None for its first one)."""
    history = type(record)
    pk_name = record.instance_type._meta.pk.attname
    earlier = Q(history_date__lt=record.history_date) | Q(
        history_date=record.history_date, history_id__lt=record.history_id
    )
    same_object = history.objects.filter(**{pk_name: getattr(record, pk_name)})
    return same_object.filter(earlier).order_by("-history_date", "-history_id").first()


def history_changes(record) -> dict[str, tuple]:
    """``{field: (old, new)}`` between a history row and the one before it (every value, old None, for the first).

    Fields by name; a foreign key's values are ids.
    """
    previous = history_previous(record)
    if previous is None:
        return {field.name: (None, getattr(record, field.attname)) for field in record.tracked_fields}
    delta = record.diff_against(previous)
    return {change.field: (change.old, change.new) for change in delta.changes}
