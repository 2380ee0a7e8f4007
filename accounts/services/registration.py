"""Creating accounts."""

import psycopg
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.exceptions import (
    EmailAlreadyRegistered,
    RoleNotAllowed,
)
from accounts.models import Role, User


def user_register(*, email: str, password: str, role: str = Role.CUSTOMER, actor: User | None = None) -> User:
    """Create an account. Anyone may create a customer; only an admin may create other roles."""
    if role != Role.CUSTOMER and not (actor is not None and actor.is_authenticated and actor.role == Role.ADMIN):
        raise RoleNotAllowed("Only an admin may create accounts with this role.", role=role.lower())
    email = User.objects.normalize_email(email).strip().lower()
    try:
        validate_password(password, user=User(email=email, role=role))
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    try:
        with transaction.atomic(durable=True):
            return User.objects.create_user(email, password, role=role)
    except IntegrityError as exc:
        if isinstance(exc.__cause__, psycopg.errors.UniqueViolation):
            raise EmailAlreadyRegistered("An account with this email already exists.", email=email) from exc
        raise


# --- Refresh tokens: one family per login, rotated on every use, revoked whole on reuse ---------------
