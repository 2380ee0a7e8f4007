"""Resource limits, answered in the error shape: request bodies (config/limits.py) and page sizes."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User
from catalog.models import ProductImage
from orders.models import Order
from tests.assertions import error_of
from tests.stock import stock_of

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024
IMAGE_MAX = 5 * MIB
UPLOAD_MAX = IMAGE_MAX + MIB


def json_body(size: int, **fields) -> str:
    """A JSON object with ``fields`` padded with an ignored field to exactly ``size`` bytes."""
    empty = json.dumps({**fields, "pad": ""})
    return json.dumps({**fields, "pad": "x" * (size - len(empty))})


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(root) -> list:
    return sorted(path for path in root.rglob("*") if path.is_file())


def post_image(client, product_id: int, content: bytes, **fields):
    upload = SimpleUploadedFile("picture.png", content, content_type="image/png")
    return client.post(f"/products/{product_id}/images", {"file": upload, **fields}, format="multipart")


# --- JSON bodies: 1 MiB


def test_order_body_of_16_mib_is_413_and_places_nothing(customer_client, product):
    body = json_body(16 * MIB, items=[{"product_id": product.pk, "quantity": 1}])
    before = stock_of(product)

    response = customer_client.post("/orders", data=body, content_type="application/json")

    assert response.status_code == 413
    assert error_of(response) | {"request_id": None} == {
        "code": "payload_too_large",
        "message": f"The request body may be at most {MIB} bytes.",
        "details": {"max_bytes": MIB},
        "request_id": None,
    }
    assert not Order.objects.exists()
    assert stock_of(product) == before


def test_anonymous_body_over_1_mib_is_413_before_authentication(api_client):
    users = User.objects.count()

    response = api_client.post("/auth/register", data=json_body(MIB + 1), content_type="application/json")

    assert response.status_code == 413
    assert error_of(response)["details"] == {"max_bytes": MIB}
    assert User.objects.count() == users


def test_login_body_of_exactly_1_mib_is_read(api_client, customer, password):
    at_limit = json_body(MIB, email=customer.email, password=password)
    over = json_body(MIB + 1, email=customer.email, password=password)

    assert api_client.post("/auth/login", data=at_limit, content_type="application/json").status_code == 200
    assert api_client.post("/auth/login", data=over, content_type="application/json").status_code == 413


def test_body_without_a_length_is_411(customer_client):
    response = customer_client.post(
        "/orders",
        data=json_body(2 * MIB),
        content_type="application/json",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
    )

    assert response.status_code == 411
    assert error_of(response)["code"] == "length_required"
    assert not Order.objects.exists()


@pytest.mark.parametrize("declared", ["abc", "-1", "1e6", "١٢"])
def test_malformed_content_length_is_400(customer_client, declared):
    response = customer_client.post("/orders", data="{}", content_type="application/json", CONTENT_LENGTH=declared)

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_content_length"


def test_understated_content_length_reads_only_what_it_declares(customer_client, product):
    body = json_body(16 * MIB, items=[{"product_id": product.pk, "quantity": 1}])

    response = customer_client.post("/orders", data=body, content_type="application/json", CONTENT_LENGTH="40")

    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"  # the first 40 bytes are not a whole JSON document
    assert not Order.objects.exists()


# --- multipart bodies: product images up to PRODUCT_IMAGE_MAX_BYTES, the whole body up to UPLOAD_BODY_MAX_BYTES


def test_image_upload_of_16_mib_is_413_payload_too_large(admin_client, product, media_root):
    response = post_image(admin_client, product.pk, b"\0" * (16 * MIB))

    assert response.status_code == 413
    error = error_of(response)
    assert (error["code"], error["details"]) == ("payload_too_large", {"max_bytes": UPLOAD_MAX})
    assert not ProductImage.objects.exists()
    assert stored_files(media_root) == []


def test_image_just_over_5_mb_reaches_the_catalog_check(admin_client, product, media_root):
    response = post_image(admin_client, product.pk, b"\0" * (IMAGE_MAX + 1))

    assert response.status_code == 413
    error = error_of(response)
    assert (error["code"], error["details"]) == ("image_too_large", {"max_bytes": IMAGE_MAX})
    assert stored_files(media_root) == []


def test_multipart_form_fields_over_1_mib_are_413(admin_client, product, media_root):
    response = post_image(admin_client, product.pk, b"\0" * 100, alt="a" * (MIB + 1))

    assert response.status_code == 413
    error = error_of(response)
    assert (error["code"], error["details"]) == ("payload_too_large", {"max_bytes": MIB})
    assert not ProductImage.objects.exists()


def test_multipart_with_too_many_fields_is_400(admin_client, product, media_root, settings):
    fields = {f"field{n}": "x" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}

    response = post_image(admin_client, product.pk, b"\0" * 100, **fields)

    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["details"]) == ("too_many_fields", {"max_fields": 1000})
    assert not ProductImage.objects.exists()


# --- outside DRF: the admin's forms


def test_admin_form_over_1_mib_is_413():
    body = f"username=a&note={'x' * MIB}"

    response = Client().post("/admin/login/", data=body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 413
    error = error_of(response)
    assert (error["code"], error["details"]) == ("payload_too_large", {"max_bytes": MIB})


def test_admin_multipart_fields_over_1_mib_are_413_from_djangos_own_guard():
    response = Client().post("/admin/login/", {"username": "a", "note": "x" * (MIB + 1)})  # multipart

    assert response.status_code == 413
    error = error_of(response)
    assert (error["code"], error["message"], error["details"]) == (
        "payload_too_large",
        f"The request data may be at most {MIB} bytes.",
        {"max_bytes": MIB},
    )


# --- page sizes


@pytest.mark.parametrize("page_size", ["100", "101", "1000"])
def test_product_list_page_size_is_clamped_to_100(customer_client, product_factory, page_size):
    product_factory.create_batch(101)

    body = customer_client.get("/products", {"page_size": page_size}).json()

    assert (body["count"], len(body["results"])) == (101, 100)
    assert "page=2" in body["next"]


@pytest.mark.parametrize("page_size", ["101", "1000"])
def test_order_list_page_size_is_clamped_to_100(customer, client_for, place_order, product_factory, page_size):
    product = product_factory(stock_quantity=101)
    for _ in range(101):
        place_order(customer, [(product, 1)])

    body = client_for(customer).get("/orders", {"page_size": page_size}).json()

    assert (body["count"], len(body["results"])) == (101, 100)
    assert "page=2" in body["next"]
