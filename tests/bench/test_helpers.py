"""The pure helpers of ``make fuzz`` and ``make stress`` (no server, no database)."""

import base64
import tomllib

import pytest

from bench.fuzz import operation_of, operation_patterns, reach, statuses_by_operation, toml_document, totp
from bench.fuzz_hooks import placeable
from bench.stress import Answer, tally

OPERATIONS = [
    ("GET", "/stock/{sku}/"),
    ("GET", "/stock/movements/"),
    ("POST", "/stock/reservations/allocate/"),
    ("POST", "/stock/reservations/{id}/commit/"),
    ("GET", "/orders/{id}/"),
    ("POST", "/orders/{id}/pay/"),
    ("DELETE", "/products/{product_id}/images/{id}/"),
]


def har_of(*requests: tuple[str, str, int]) -> dict:
    entries = [
        {"request": {"method": method, "url": f"http://127.0.0.1:8000{path}"}, "response": {"status": status}}
        for method, path, status in requests
    ]
    return {"log": {"entries": entries}}


def test_totp_matches_the_rfc_6238_test_vectors():
    secret = base64.b32encode(b"12345678901234567890").decode().rstrip("=")

    assert totp(secret, at=59, digits=8) == "94287082"
    assert totp(secret, at=1111111109, digits=8) == "07081804"
    assert totp(secret, at=1234567890) == "005924"  # the last 6 digits of 89005924


def test_toml_document_reads_back_as_written():
    document = toml_document(
        headers={"Authorization": 'Bearer a"b'},
        examples=7,
        dictionaries={"orders": ["6f1c9a4e-0000-4000-8000-000000000001"], "units": [1, 2]},
        operations=[
            {
                "include-operation-id": "orders_pay_create",
                "parameters": {"path.id": {"dictionary": "orders", "probability": 0.9}},
                "generation": {"max-examples": 21},
            }
        ],
    )

    assert tomllib.loads(document) == {
        "hooks": "bench.fuzz_hooks",
        "headers": {"Authorization": 'Bearer a"b'},
        "generation": {"max-examples": 7},
        "dictionaries": {
            "orders": {"values": ["6f1c9a4e-0000-4000-8000-000000000001"]},
            "units": {"values": [1, 2]},
        },
        "operations": [
            {
                "include-operation-id": "orders_pay_create",
                "parameters": {"path.id": {"dictionary": "orders", "probability": 0.9}},
                "generation": {"max-examples": 21},
            }
        ],
    }


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [
        ("GET", "/stock/movements/", "GET /stock/movements/"),
        ("GET", "/stock/movements", "GET /stock/movements/"),
        ("GET", "/stock/ABC-1/", "GET /stock/{sku}/"),
        ("POST", "/stock/reservations/allocate/", "POST /stock/reservations/allocate/"),
        ("POST", "/stock/reservations/12/commit/", "POST /stock/reservations/{id}/commit/"),
        ("DELETE", "/products/3/images/9/", "DELETE /products/{product_id}/images/{id}/"),
        ("POST", "/orders/abc/", None),  # no POST on an order
        ("GET", "/orders/abc/pay/", None),
        ("GET", "/orders/a/b/", None),
    ],
)
def test_operation_of_prefers_literal_paths_to_templates(method, path, operation):
    assert operation_of(method, path, operation_patterns(OPERATIONS)) == operation


def test_reach_sorts_operations_by_what_they_answered():
    names = [f"{method} {path}" for method, path in OPERATIONS]
    har = har_of(
        ("GET", "/orders/x/", 404),
        ("GET", "/orders/y/", 200),
        ("POST", "/orders/x/pay/", 409),
        ("POST", "/orders/x/pay/", 404),
        ("GET", "/stock/movements/", 403),
        ("GET", "/stock/ABC/", 403),
        ("GET", "/stock/(/", 404),
        ("POST", "/stock/reservations/allocate/", 400),
        ("POST", "/stock/reservations/allocate/", 403),
    )

    found = reach(names, statuses_by_operation(har, operation_patterns(OPERATIONS)))

    assert found.succeeded == ["GET /orders/{id}/"]
    assert found.refused == ["GET /stock/{sku}/", "GET /stock/movements/"]
    assert found.unreached == {
        "POST /stock/reservations/allocate/": [400, 403],
        "POST /stock/reservations/{id}/commit/": [],
        "POST /orders/{id}/pay/": [404, 409],
        "DELETE /products/{product_id}/images/{id}/": [],
    }


def test_placeable_names_one_real_variant_per_line_with_a_small_quantity():
    body = {
        "items": [
            {"variant_id": 3, "product_id": 9, "sku": "X", "quantity": 2},
            {"product_id": 9, "quantity": 10_000},
            "not a line",
            {"quantity": True},
        ],
        "extra": True,
    }

    assert placeable(body, [7, 8]) == {
        "items": [
            {"variant_id": 7, "quantity": 2},
            {"variant_id": 8, "quantity": 1},
            {"variant_id": 7, "quantity": 1},
            {"variant_id": 8, "quantity": 1},
        ],
        "extra": True,
    }
    assert placeable({"items": []}, [7]) == {"items": [{"variant_id": 7, "quantity": 1}]}
    assert placeable({"other": 1}, [7]) == {"other": 1, "items": [{"variant_id": 7, "quantity": 1}]}
    assert placeable([1, 2], [7]) == [1, 2]
    assert placeable({"items": []}, []) == {"items": []}


def test_tally_counts_answers_by_status_and_error_code():
    answers = [
        Answer(200, {"id": 1}, 1.0),
        Answer(409, {"error": {"code": "invalid_transition"}}, 1.0),
        Answer(409, {"error": {"code": "invalid_transition"}}, 1.0),
        Answer(500, {"unparsed": "<html>"}, 1.0),
    ]

    assert tally(answers) == "200 x1, 409 invalid_transition x2, 500 x1"
    assert [a.code for a in answers] == [None, "invalid_transition", "invalid_transition", None]
