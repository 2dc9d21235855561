"""Tax as checkout charged it before pricing existed: one standard rate on goods and shipping for every
destination without rates of its own (the "elsewhere" row, blank country), taken from the retired
``SHOP_TAX_RATE`` (a fraction; default 0.20, so 20 %) when the environment still sets it. EU countries
keep their seeded VAT rates; staff change or delete the row in the admin (no row: no tax elsewhere).
"""

import os
from decimal import Decimal

from django.db import migrations

NOTE = "Rest of the world: the former SHOP_TAX_RATE (checkout's single tax rate before pricing)"


def create(apps, schema_editor):
    db = schema_editor.connection.alias
    TaxClass = apps.get_model("pricing", "TaxClass")
    TaxRate = apps.get_model("pricing", "TaxRate")
    rate = (Decimal(os.environ.get("SHOP_TAX_RATE", "0.20")) * 100).quantize(Decimal("0.0001"))
    standard = TaxClass.objects.using(db).get(code="standard")
    TaxRate.objects.using(db).get_or_create(country="", tax_class=standard, defaults={"rate": rate, "note": NOTE})


def remove(apps, schema_editor):
    db = schema_editor.connection.alias
    apps.get_model("pricing", "TaxRate").objects.using(db).filter(country="", note=NOTE).delete()


class Migration(migrations.Migration):
    dependencies = [("pricing", "0003_worldwide_shipping_method")]
    operations = [migrations.RunPython(create, remove)]
