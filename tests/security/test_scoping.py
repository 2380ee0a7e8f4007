"""Lists are scoped like objects: another customer's orders, payments, shipments and carts are not listed."""

import pytest

pytestmark = pytest.mark.django_db


def _listed(world, role: str, path: str) -> list:
    response = world.session(role).client.get(path)
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.parametrize(
    ("path", "owned", "staff_see_it"),
    [
        ("/orders", lambda w: str(w.order.pk), True),
        ("/payments", lambda w: w.payment.pk, True),
        ("/shipments", lambda w: w.shipment.pk, True),
        ("/carts", lambda w: str(w.cart.pk), False),
    ],
)
def test_list_shows_the_owner_their_objects_and_another_customer_none(world, path, owned, staff_see_it):
    object_id = owned(world)

    assert _listed(world, "customer", path) == [object_id]
    assert _listed(world, "other", path) == []
    if staff_see_it:
        assert object_id in _listed(world, "admin", path)
        assert object_id in _listed(world, "manager", path)
