"""One shipping method everywhere, priced as checkout priced shipping before pricing existed: a flat
4.90, free when the goods cost 50.00 or more (the defaults of SHOP_SHIPPING_FLAT and
SHOP_FREE_SHIPPING_OVER), in the shop's currency. Staff change it, or add zones and methods, in the admin.
"""

from decimal import Decimal

from django.db import migrations


def create(apps, schema_editor):
    db = schema_editor.connection.alias
    ShippingZone = apps.get_model("pricing", "ShippingZone")
    ShippingMethod = apps.get_model("pricing", "ShippingMethod")
    if ShippingMethod.objects.using(db).filter(code="standard").exists():
        return
    zone = ShippingZone.objects.using(db).create(name="Worldwide", countries=[], postal_code_prefixes="")
    ShippingMethod.objects.using(db).create(
        zone=zone,
        code="standard",
        name="Standard shipping",
        delivery_estimate="3-5 working days",
        pricing="flat",
        flat_price=Decimal("4.90"),
        free_over=Decimal("50.00"),
        is_active=True,
        position=0,
    )


def remove(apps, schema_editor):
    db = schema_editor.connection.alias
    apps.get_model("pricing", "ShippingMethod").objects.using(db).filter(code="standard").delete()
    apps.get_model("pricing", "ShippingZone").objects.using(db).filter(name="Worldwide", methods=None).delete()


class Migration(migrations.Migration):
    dependencies = [("pricing", "0002_tax_classes_and_eu_vat_rates")]
    operations = [migrations.RunPython(create, remove)]
