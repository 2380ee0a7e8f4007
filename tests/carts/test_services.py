"""Cart services directly: events after commit, the lock timeout, the customer rule, quantity checks."""

import pytest
from django.core.exceptions import ValidationError
from structlog.testing import capture_logs

from carts.exceptions import CartNotFound, CustomerRequired, EmptyCart
from carts.models import Cart, CartItem, CartStatus
from carts.services.carts import cart_clear, cart_create, cart_item_add, cart_item_remove, cart_item_update
from carts.services.checkout import cart_checkout
from config.db import DatabaseBusy
from inventory.exceptions import InsufficientStock
from orders.models import Order
from tests.carts.helpers import cart_state, stock_books
from tests.locking import held_in_another_transaction

pytestmark = pytest.mark.django_db(transaction=True)


def test_cart_checkout_logs_its_event_after_commit_only(customer, cart_factory, widget, gadget):
    cart = cart_factory(owner=customer, items=[(widget, 2)])
    short = cart_factory(owner=customer, items=[(gadget, 11)])

    with capture_logs() as logs:
        checkout = cart_checkout(cart_id=cart.pk, owner=customer)
        with pytest.raises(InsufficientStock):
            cart_checkout(cart_id=short.pk, owner=customer)

    events = [line for line in logs if line["event"] == "cart_checked_out"]
    assert events == [
        {
            "event": "cart_checked_out",
            "cart_id": str(cart.pk),
            "customer_id": customer.pk,
            "status": CartStatus.CHECKED_OUT,
            "order_id": str(checkout.order.pk),
            "log_level": "info",
        }
    ]
    assert [line["order_id"] for line in logs if line["event"] == "order_placed"] == [str(checkout.order.pk)]
    assert (checkout.replayed, Cart.objects.get(pk=short.pk).status) == (False, CartStatus.OPEN)


def test_cart_checkout_of_an_empty_cart_logs_nothing(customer, cart_factory):
    cart = cart_factory(owner=customer)

    with capture_logs() as logs, pytest.raises(EmptyCart):
        cart_checkout(cart_id=cart.pk, owner=customer)

    assert [line for line in logs if line["event"] in ("cart_checked_out", "order_placed")] == []


@pytest.mark.parametrize(
    "service",
    [
        lambda cart, owner, variant: cart_item_add(cart_id=cart.pk, owner=owner, variant_id=variant.pk, quantity=1),
        lambda cart, owner, variant: cart_item_update(cart_id=cart.pk, owner=owner, variant_id=variant.pk, quantity=5),
        lambda cart, owner, variant: cart_item_remove(cart_id=cart.pk, owner=owner, variant_id=variant.pk),
        lambda cart, owner, variant: cart_clear(cart_id=cart.pk, owner=owner),
        lambda cart, owner, variant: cart_checkout(cart_id=cart.pk, owner=owner),
    ],
    ids=["add", "update", "remove", "clear", "checkout"],
)
def test_a_held_cart_answers_database_busy_instead_of_hanging(customer, cart_factory, widget, settings, service):
    settings.STOCK_LOCK_TIMEOUT_MS = 200
    cart = cart_factory(owner=customer, items=[(widget, 2)])
    before, books = cart_state(cart), stock_books()

    with (
        held_in_another_transaction(lambda: Cart.objects.select_for_update().get(pk=cart.pk)),
        pytest.raises(DatabaseBusy) as excinfo,
    ):
        service(cart, customer, widget)

    assert (excinfo.value.status, excinfo.value.details) == (503, {"reason": "lock_timeout"})
    assert (cart_state(cart), stock_books()) == (before, books)
    assert not Order.objects.exists()


def test_cart_services_refuse_staff_owners(admin_user, customer, cart_factory, widget):
    cart = cart_factory(owner=customer, items=[(widget, 1)])

    with pytest.raises(CustomerRequired):
        cart_create(owner=admin_user)
    with pytest.raises(CustomerRequired):
        cart_item_add(cart_id=cart.pk, owner=admin_user, variant_id=widget.pk, quantity=1)
    with pytest.raises(CustomerRequired):
        cart_checkout(cart_id=cart.pk, owner=admin_user)

    assert Cart.objects.count() == 1
    assert list(CartItem.objects.values_list("quantity", flat=True)) == [1]


def test_cart_services_find_only_the_owners_carts(customer, user_factory, cart_factory, widget):
    cart = cart_factory(owner=customer, items=[(widget, 1)])
    stranger = user_factory()

    with pytest.raises(CartNotFound):
        cart_clear(cart_id=cart.pk, owner=stranger)
    with pytest.raises(CartNotFound):
        cart_checkout(cart_id=cart.pk, owner=stranger)

    assert list(CartItem.objects.values_list("quantity", flat=True)) == [1]


@pytest.mark.parametrize("quantity", [0, -3, 10_001, 2.0, "2", True])
def test_cart_item_services_refuse_quantities_outside_one_to_ten_thousand(customer, cart_factory, widget, quantity):
    cart = cart_factory(owner=customer, items=[(widget, 1)])

    with pytest.raises(ValidationError) as add:
        cart_item_add(cart_id=cart.pk, owner=customer, variant_id=widget.pk, quantity=quantity)
    with pytest.raises(ValidationError):
        cart_item_update(cart_id=cart.pk, owner=customer, variant_id=widget.pk, quantity=quantity)

    assert list(add.value.message_dict) == ["quantity"]
    assert list(CartItem.objects.values_list("quantity", flat=True)) == [1]
