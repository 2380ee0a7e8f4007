import pytest

from accounts.models import Role, User

pytestmark = pytest.mark.django_db


def test_admin_lists_and_edits_users(client, admin_user, customer):
    client.force_login(admin_user)

    listing = client.get("/admin/accounts/user/", {"q": customer.email})
    change = client.post(
        f"/admin/accounts/user/{customer.pk}/change/", {"role": Role.INVENTORY_MANAGER, "is_active": "on"}
    )

    assert listing.status_code == 200
    assert customer.email.encode() in listing.content
    assert change.status_code == 302
    assert User.objects.get(pk=customer.pk).role == Role.INVENTORY_MANAGER


def test_users_are_not_added_in_the_admin(client, admin_user):
    client.force_login(admin_user)

    assert client.get("/admin/accounts/user/add/").status_code == 403


def test_inventory_managers_do_not_manage_accounts(client, inventory_manager):
    client.force_login(inventory_manager)

    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/accounts/user/").status_code == 403
