"""Carts in the admin console: read-only, every line and total read live from the catalog and stock."""

from decimal import Decimal

import pytest

from carts.models import Cart, CartItem, CartStatus
from carts.services.checkout import cart_checkout
from catalog.services.products import product_archive
from catalog.services.variants import variant_update
from tests.admin_helpers import listed, messages_of
from tests.carts.helpers import cart_state, stock_books

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/carts/cart/"


def change_page(cart) -> str:
    return f"{CHANGELIST}{cart.pk}/change/"


@pytest.fixture
def cart(cart_factory, customer, widget, gadget):
    """Widget A 2 x 150.00 + Gadget B 3 x 9.99 = 329.97."""
    return cart_factory(owner=customer, items=[(widget, 2), (gadget, 3)])


def test_cart_changelist_shows_each_cart_s_total_now(staff_browser, cart, cart_factory, user_factory, widget):
    empty = cart_factory(owner=user_factory())
    books = stock_books()

    before = staff_browser.get(CHANGELIST)
    variant_update(variant_id=widget.pk, changes={"price": Decimal("120.00")}, actor=None)
    after = staff_browser.get(CHANGELIST)

    assert before.status_code == after.status_code == 200
    assert {c.pk for c in listed(before)} == {cart.pk, empty.pk}
    assert "329.97 USD" in before.content.decode()
    assert "269.97 USD" in after.content.decode()  # 2 x 120.00 + 3 x 9.99: the price of now, not of the adding
    model_admin = after.context["cl"].model_admin
    assert {c.pk: (model_admin.line_count(c), model_admin.total(c)) for c in listed(after)} == {
        cart.pk: (2, "269.97 USD"),
        empty.pk: (0, "0.00 USD"),
    }
    assert stock_books() == books  # looking at carts reserves nothing


def test_cart_changelist_filters_by_status_and_searches(
    staff_browser, cart, cart_factory, customer, user_factory, widget
):
    other_owner = user_factory(email="buyer@example.com")
    checked_out = cart_factory(owner=other_owner, items=[(widget, 1)])
    order = cart_checkout(cart_id=checked_out.pk, owner=other_owner).order

    open_carts = staff_browser.get(CHANGELIST, {"status__exact": CartStatus.OPEN})
    done = staff_browser.get(CHANGELIST, {"status__exact": CartStatus.CHECKED_OUT})
    by_email = staff_browser.get(CHANGELIST, {"q": "buyer@example.com"})
    by_id = staff_browser.get(CHANGELIST, {"q": str(cart.pk)})
    by_order = staff_browser.get(CHANGELIST, {"q": str(order.pk)})
    nothing = staff_browser.get(CHANGELIST, {"q": "not-a-uuid"})

    assert [c.pk for c in listed(open_carts)] == [cart.pk]
    assert [c.pk for c in listed(done)] == [checked_out.pk]
    assert [c.pk for c in listed(by_email)] == [checked_out.pk]
    assert [c.pk for c in listed(by_id)] == [cart.pk]
    assert [c.pk for c in listed(by_order)] == [checked_out.pk]
    assert (nothing.status_code, listed(nothing)) == (200, [])


def test_cart_change_page_shows_lines_live_and_leaves_unsellable_ones_out_of_the_total(
    staff_browser, cart, widget, gadget, customer
):
    product_archive(product_id=gadget.product_id)

    response = staff_browser.get(change_page(cart))

    assert response.status_code == 200
    content = response.content.decode()
    assert customer.email in content
    assert "150.00 USD" not in content
    assert "300.00 USD" in content  # the widget only: the archived gadget is left out
    for cells in (
        ["WIDGET-A", "Widget A", "", "2", "150.00", "300.00", "500", "yes"],
        ["GADGET-B", "Gadget B", "", "3", "9.99", "29.97", "10", "no (left out of the total)"],
    ):
        assert "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>" in content
    assert 'name="_save"' not in content  # a view-only page: no form to save


def test_carts_cannot_be_added_changed_or_deleted_in_the_admin(staff_browser, cart, other_customer_cart):
    state = cart_state(cart)
    lines = CartItem.objects.count()

    add = staff_browser.get(f"{CHANGELIST}add/")
    change = staff_browser.post(change_page(cart), {"status": CartStatus.CHECKED_OUT})
    delete = staff_browser.get(f"{CHANGELIST}{cart.pk}/delete/")
    bulk = staff_browser.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [str(cart.pk), str(other_customer_cart.pk)]}
    )
    changelist = staff_browser.get(CHANGELIST)

    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    assert (bulk.status_code, messages_of(bulk)) == (200, [])  # the changelist has no actions to run
    assert (bulk.context["action_form"], changelist.context["action_form"]) == (None, None)
    assert cart_state(cart) == state
    assert (Cart.objects.count(), CartItem.objects.count()) == (2, lines)


@pytest.fixture
def other_customer_cart(cart_factory, user_factory, gadget):
    return cart_factory(owner=user_factory(), items=[(gadget, 1)])


@pytest.mark.parametrize("path", [CHANGELIST, CHANGELIST + "{id}/change/"])
@pytest.mark.parametrize("logged_in", [True, False])
def test_customers_and_visitors_cannot_enter_the_carts_admin(client, customer, cart, path, logged_in):
    if logged_in:
        client.force_login(customer)

    response = client.get(path.format(id=cart.pk))

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.fixture
def page_queries(staff_browser, django_assert_max_num_queries):
    """``page_queries(url)``: the queries one view of an admin page takes (at most 30), counted on a second
    view so that the process's caches (content types) are warm whatever ran before."""

    def count(url: str) -> int:
        assert staff_browser.get(url).status_code == 200
        with django_assert_max_num_queries(30) as captured:
            assert staff_browser.get(url).status_code == 200
        return len(captured)

    return count


def test_cart_changelist_and_change_page_queries_do_not_grow_with_carts_or_lines(
    page_queries, cart_factory, user_factory, product_factory, widget
):
    variants = [p.variants.get() for p in product_factory.create_batch(4)]
    small = cart_factory(owner=user_factory(), items=[(widget, 1)])
    one_cart, one_line = page_queries(CHANGELIST), page_queries(change_page(small))
    large = [cart_factory(owner=user_factory(), items=[(v, 2) for v in (widget, *variants)]) for _ in range(5)]

    assert page_queries(CHANGELIST) == one_cart
    assert page_queries(change_page(large[0])) == one_line
