"""The category tree."""

from django.db import connection, transaction

from accounts.models import User, audit_actor
from catalog.exceptions import CategoryCycle, CategoryNotFound, UnknownReference
from catalog.models import Category
from catalog.selectors import category_descendant_ids
from catalog.services.audit import changes_recorded
from catalog.services.slugs import create_with_slug
from config.db import lock_timeout_set

EDITABLE_FIELDS = frozenset({"name", "parent_id", "description", "sort_order", "is_active"})


def _parent_check(parent_id: int | None) -> None:
    if parent_id is not None and not Category.objects.filter(pk=parent_id).exists():
        raise UnknownReference("The parent category does not exist.", field="parent_id", id=parent_id)


@transaction.atomic
def category_create(
    *,
    name: str,
    slug: str | None = None,
    parent_id: int | None = None,
    description: str = "",
    sort_order: int = 0,
    is_active: bool = True,
    actor: User | None = None,
) -> Category:
    name = name.strip()
    _parent_check(parent_id)
    with audit_actor(actor):
        return create_with_slug(
            Category,
            name=name,
            slug=slug,
            create=lambda s: Category.objects.create(
                name=name,
                slug=s,
                parent_id=parent_id,
                description=description,
                sort_order=sort_order,
                is_active=is_active,
            ),
        )


@transaction.atomic
def category_update(*, category_id: int, changes: dict, actor: User | None) -> Category:
    """Rename, move in the tree, reorder or (de)activate a category.

    Every update locks the table before the category's row, so edits queue in one order and
    cannot deadlock: a move in SHARE ROW EXCLUSIVE mode (held until commit, one move at a time:
    two moves that are each fine alone could otherwise close a cycle together), any other edit
    in ROW EXCLUSIVE mode (the mode its UPDATE takes anyway; it only waits for moves).
    """
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    lock_timeout_set()
    mode = "SHARE ROW EXCLUSIVE" if "parent_id" in changes else "ROW EXCLUSIVE"
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {Category._meta.db_table} IN {mode} MODE")
    if Category.objects.select_for_update().filter(pk=category_id).first() is None:
        raise CategoryNotFound("Category not found.", category_id=category_id)
    if "parent_id" in changes:
        _move_check(category_id=category_id, parent_id=changes["parent_id"])
    if "name" in changes:
        changes = {**changes, "name": changes["name"].strip()}
    if changes:
        with changes_recorded(Category, pks=[category_id], actor=actor):
            Category.objects.filter(pk=category_id).update(**changes)
    return Category.objects.get(pk=category_id)


def _move_check(*, category_id: int, parent_id: int | None) -> None:
    _parent_check(parent_id)
    if parent_id is not None and parent_id in {category_id, *category_descendant_ids(category_id=category_id)}:
        raise CategoryCycle(
            "A category cannot be moved under itself or one of its descendants.",
            category_id=category_id,
            parent_id=parent_id,
        )
