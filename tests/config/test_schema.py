import re

import pytest

pytestmark = pytest.mark.django_db


def test_schema_is_public_openapi_3_with_bearer_auth(api_client):
    response = api_client.get("/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    schemes = schema["components"]["securitySchemes"]
    assert any(s["type"] == "http" and s["scheme"] == "bearer" for s in schemes.values())
    assert {"/auth/register", "/auth/login", "/auth/refresh", "/auth/logout", "/auth/me", "/health"} <= {
        p.rstrip("/") for p in schema["paths"]
    }


def test_docs_serve_swagger_ui(api_client):
    response = api_client.get("/docs")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
    assert b"cdn.jsdelivr.net" not in response.content  # assets come from this server (sidecar)
    bundle = re.search(rb'src="([^"]*swagger-ui-bundle\.js)"', response.content).group(1).decode()
    assert api_client.get(bundle).status_code == 200
