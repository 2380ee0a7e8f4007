import factory

from carts.models import Cart
from carts.services.carts import cart_create, cart_item_add
from tests.accounts.factories import UserFactory


class CartFactory(factory.django.DjangoModelFactory):
    """An OPEN cart of ``owner`` (a new customer unless given), filled through the services with
    ``items=[(variant, quantity), ...]``."""

    class Meta:
        model = Cart

    owner = factory.SubFactory(UserFactory)

    @classmethod
    def _create(cls, model_class, *args, owner, items=(), **kwargs):
        cart = cart_create(owner=owner)
        for variant, quantity in items:
            cart_item_add(cart_id=cart.pk, owner=owner, variant_id=variant.pk, quantity=quantity)
        return Cart.objects.get(pk=cart.pk)
