import pytest
from django.core.exceptions import ValidationError

from accounts.exceptions import EmailAlreadyRegistered, RoleNotAllowed, TokenRefused
from accounts.models import Role, User
from accounts.services.registration import user_register
from accounts.services.tokens import auth_logout, auth_tokens_issue, auth_tokens_refresh

STRONG = "Str0ng-Passphrase-42"


@pytest.mark.django_db
def test_user_register_stores_email_lower_case_and_hashes_password():
    user = user_register(email="  Mixed.Case@Example.COM ", password=STRONG)

    assert user.email == "mixed.case@example.com"
    assert user.role == Role.CUSTOMER
    assert user.password != STRONG
    assert user.check_password(STRONG)


@pytest.mark.django_db
def test_user_register_refuses_staff_role_without_admin_actor(customer):
    for actor in (None, customer):
        with pytest.raises(RoleNotAllowed) as excinfo:
            user_register(email="boss@example.com", password=STRONG, role=Role.ADMIN, actor=actor)
        assert excinfo.value.details == {"role": "admin"}
    assert not User.objects.filter(email="boss@example.com").exists()


@pytest.mark.django_db
def test_user_register_lets_admin_choose_the_role(admin_user):
    user = user_register(email="im@example.com", password=STRONG, role=Role.INVENTORY_MANAGER, actor=admin_user)

    assert user.role == Role.INVENTORY_MANAGER
    assert user.is_staff
    assert not user.is_superuser


@pytest.mark.django_db
def test_user_register_rejects_weak_password_under_the_password_field():
    with pytest.raises(ValidationError) as excinfo:
        user_register(email="weak@example.com", password="weak@example.com")

    assert "password" in excinfo.value.message_dict
    assert not User.objects.exists()


@pytest.mark.django_db
def test_user_register_rejects_duplicate_email_ignoring_case(customer):
    with pytest.raises(EmailAlreadyRegistered):
        user_register(email=customer.email.upper(), password=STRONG)


@pytest.mark.django_db(transaction=True)
def test_user_register_concurrent_duplicates_create_one_account(in_threads):
    calls = [{"email": "Race@Example.com" if i % 2 else "race@EXAMPLE.com", "password": STRONG} for i in range(6)]

    outcomes = in_threads(user_register, calls)

    assert sum(isinstance(o, User) for o in outcomes) == 1
    assert sum(isinstance(o, EmailAlreadyRegistered) for o in outcomes) == 5
    assert User.objects.filter(email="race@example.com").count() == 1


@pytest.mark.django_db(transaction=True)
def test_auth_tokens_refresh_concurrent_reuse_rotates_once(user_factory, in_threads):
    user = user_factory()
    refresh = auth_tokens_issue(user=user).refresh_token

    outcomes = in_threads(auth_tokens_refresh, [{"refresh_token": refresh} for _ in range(5)])

    assert sum(not isinstance(o, Exception) for o in outcomes) == 1
    assert sum(isinstance(o, TokenRefused) for o in outcomes) == 4


@pytest.mark.django_db
def test_auth_tokens_refresh_refuses_deactivated_accounts(customer):
    refresh = auth_tokens_issue(user=customer).refresh_token
    User.objects.filter(pk=customer.pk).update(is_active=False)

    with pytest.raises(TokenRefused):
        auth_tokens_refresh(refresh_token=refresh)


@pytest.mark.django_db
def test_auth_logout_twice_is_refused(customer):
    refresh = auth_tokens_issue(user=customer).refresh_token
    auth_logout(user=customer, refresh_token=refresh)

    with pytest.raises(TokenRefused):
        auth_logout(user=customer, refresh_token=refresh)


@pytest.mark.django_db
def test_staff_flags_follow_the_role(user_factory):
    admin, manager, buyer = (user_factory(role=r) for r in (Role.ADMIN, Role.INVENTORY_MANAGER, Role.CUSTOMER))

    assert (admin.is_staff, admin.is_superuser) == (True, True)
    assert (manager.is_staff, manager.is_superuser) == (True, False)
    assert (buyer.is_staff, buyer.is_superuser) == (False, False)
    assert manager.has_perm("catalog.change_product")
    assert not manager.has_perm("accounts.change_user")
    assert not buyer.has_module_perms("inventory")
