import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from simple_history.models import HistoricalRecords

# --- The audit trail (django-simple-history): who changed what, when -------------------------------

_audit_actor: ContextVar = ContextVar("audit_actor", default=None)


@contextmanager
def audit_actor(actor: "User | None") -> Iterator[None]:
    """History rows written inside the block (by model signals too: cascaded deletes) name ``actor``.

    With ``actor`` None the block changes nothing: the rows name whoever the surrounding block or
    the request (``HistoryRequestMiddleware``) says, or nobody (a migration, a command).
    """
    if actor is None:
        yield
        return
    token = _audit_actor.set(actor)
    try:
        yield
    finally:
        _audit_actor.reset(token)


class AuditTrail(HistoricalRecords):
    """``HistoricalRecords`` as the audit trail uses it: one append-only history table per audited model.

    Who: the instance's ``_history_user`` (the admin's save), else the actor of the service in
    progress (``audit_actor``), else the authenticated user of the request. DRF sets that user on
    the underlying request once it authenticates the JWT, so it is the API's caller too; the
    services still pass their ``actor`` explicitly. A save that writes only untracked columns
    (``update_fields=["last_login"]``, a password change) is not a change of the trail's values
    and adds no row. PostgreSQL refuses UPDATE and DELETE of history rows (each app's migration
    ``..._history``).
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("history_id_field", models.BigAutoField(primary_key=True))
        super().__init__(**kwargs)

    def get_history_user(self, instance):
        if hasattr(instance, "_history_user"):
            return instance._history_user
        return _audit_actor.get() or super().get_history_user(instance)

    def post_save(self, instance, created, using=None, update_fields=None, **kwargs):
        if not created and update_fields is not None:
            tracked = {name for field in self.fields_included(instance) for name in (field.name, field.attname)}
            if tracked.isdisjoint(update_fields):
                return
        super().post_save(instance, created, using=using, update_fields=update_fields, **kwargs)


class Role(models.TextChoices):
    ADMIN = "ADMIN", "Admin"
    INVENTORY_MANAGER = "INVENTORY_MANAGER", "Inventory manager"
    CUSTOMER = "CUSTOMER", "Customer"


STAFF_ROLES = frozenset({Role.ADMIN, Role.INVENTORY_MANAGER})


class UserManager(BaseUserManager):
    """Used by ``createsuperuser`` and the ``accounts.services`` functions."""

    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        user = self.model(email=self.normalize_email(email).strip().lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields["role"] = Role.ADMIN
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username: str) -> "User":
        return self.get(email=username.strip().lower())


class User(AbstractBaseUser):
    """An account: the email is the login, the role decides what it may do.

    Emails are stored lower-case (a CHECK constraint holds it), so the unique index on ``email``
    makes them unique case-insensitively.

    There is no ``is_staff``/``is_superuser`` column: both follow from ``role``, so they can never
    disagree with it. Admins hold every permission; inventory managers manage inventory and orders.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True)
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.CUSTOMER)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()
    # Role and activity changes (the admin's user form, ``user_register``); never the password hash.
    history = AuditTrail(excluded_fields=["password", "last_login"])

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(condition=models.Q(email=Lower("email")), name="user_email_lowercase"),
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="user_role_valid"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_staff(self) -> bool:
        return self.is_active and self.role in STAFF_ROLES

    @property
    def is_superuser(self) -> bool:
        return self.is_active and self.role == Role.ADMIN

    def has_perm(self, perm: str, obj=None) -> bool:
        if self.is_superuser:
            return True
        return self.is_staff and perm.split(".", 1)[0] in {"catalog", "inventory", "orders", "carts"}

    def has_perms(self, perm_list, obj=None) -> bool:
        return all(self.has_perm(perm, obj) for perm in perm_list)

    def has_module_perms(self, app_label: str) -> bool:
        if self.is_superuser:
            return True
        return self.is_staff and app_label in {"catalog", "inventory", "orders", "carts"}


class TokenRevocation(models.TextChoices):
    LOGOUT = "LOGOUT", "Logged out"
    REUSED = "REUSED", "A rotated refresh token was presented again"
    PASSWORD_CHANGED = "PASSWORD_CHANGED", "Password changed"
    PASSWORD_RESET = "PASSWORD_RESET", "Password reset"


class TokenFamily(models.Model):
    """Every refresh token rotated from one login: they live and die together.

    Only ``current_jti`` (the newest token) may be exchanged. Presenting an older member of the
    family means it was stolen or replayed (OAuth 2.0 Security BCP, refresh token reuse detection),
    so the whole family is revoked, the thief's descendants with it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="token_families")
    current_jti = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    rotated_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(help_text="When the current refresh token expires.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, choices=TokenRevocation.choices, blank=True)

    class Meta:
        verbose_name_plural = "token families"
        indexes = [models.Index(fields=["user", "revoked_at"], name="tokenfamily_user_revoked")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(revoked_at__isnull=True, revoked_reason="")
                | models.Q(revoked_at__isnull=False) & ~models.Q(revoked_reason=""),
                name="tokenfamily_revocation_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"token family {self.pk}"
