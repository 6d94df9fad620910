"""factory_boy factories for the domain; build realistic rows with the fewest words."""

from decimal import Decimal

import factory

from inventory.models import Channel, InventoryVariant, Product, ProductVariant
from orders.models import Order, OrderLine
from sources.models import Connection, Integration, Source


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    name = factory.Sequence(lambda n: f"Source {n}")
    sku_prefix = factory.Sequence(lambda n: f"S{n}-")


class ConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Connection

    source = factory.SubFactory(SourceFactory)
    kind = Connection.Kind.UPLOAD


class IntegrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Integration

    source = factory.SubFactory(SourceFactory)
    connection = factory.SubFactory(ConnectionFactory, source=factory.SelfAttribute("..source"))
    operation = Integration.Operation.GET_INVENTORY_PRIMARY


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    name = factory.Sequence(lambda n: f"Channel {n}")


class ProductVariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductVariant

    product = factory.LazyFunction(lambda: Product.objects.create(title="Product"))
    master_sku = factory.Sequence(lambda n: f"M-{n:05d}")


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InventoryVariant

    source = factory.SubFactory(SourceFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    master_sku = factory.LazyAttribute(lambda o: f"{o.source.sku_prefix}{o.sku}")
    cost = Decimal("10.00")
    quantity = 10


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    channel = factory.SubFactory(ChannelFactory)
    channel_order_number = factory.Sequence(lambda n: f"{54000 + n}")
    ship_name = "Ada Lovelace"
    ship_address1 = "12 Analytical St"
    ship_city = "Springfield"
    ship_state = "IL"
    ship_postal_code = "62701"
    ship_country = "US"
    requested_shipping_method = "ground"


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    master_sku = factory.Sequence(lambda n: f"M-{n:05d}")
    quantity = 1
    price = Decimal("25.00")
