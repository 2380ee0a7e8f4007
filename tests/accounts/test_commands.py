import pytest
from django.core.management import call_command

from accounts.models import Role, User


@pytest.mark.django_db
def test_createsuperuser_noinput_makes_an_admin(monkeypatch, api_client):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Root@Example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Admin-Passphrase-77")

    call_command("createsuperuser", "--noinput")

    user = User.objects.get(email="root@example.com")
    assert user.role == Role.ADMIN
    assert user.is_staff
    assert user.is_superuser
    login = api_client.post("/auth/login", {"email": "root@example.com", "password": "Admin-Passphrase-77"})
    assert login.status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['access_token']}")
    assert api_client.get("/auth/me").json()["role"] == "admin"
