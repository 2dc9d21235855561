"""The five tax classes products are labelled with, and the EU member states' VAT rates.

Source: European Commission, DG TAXUD, "VAT rates applied in the Member States of the European Union"
(situation at 1 January 2025), with the changes in force by 1 August 2025: Estonia's standard rate 24 %
(from 1 July 2025), Romania's standard rate 21 % and single reduced rate 11 % (from 1 August 2025).
Rates change: staff keep them current in the admin (Pricing > Tax rates); the Taxes in Europe Database
(TEDB) has each state's own figures.

How the classes map onto a state's rates:
* ``standard``: the standard rate.
* ``reduced``: the state's lowest reduced rate of at least 5 % (Art. 98(1) of the VAT Directive), the
  one books and most food get; a state with two reduced rates (AT 10/13, FR 5.5/10, IT 5/10 …) keeps
  the other for staff to use through a class of their own choosing if they need it.
* ``super_reduced``: the rate below 5 % where a state has one (ES, FR, IE, IT, LU); elsewhere the
  class falls back to ``reduced`` (pricing's rule), so no row is needed.
* ``zero`` and ``exempt`` are 0 % by rule and have no rows.

No row for a country outside the EU: such a destination pays no tax (a blank-country row would set a
rate for "every country without rates of its own").
"""

from decimal import Decimal

from django.db import migrations

CLASSES = [
    ("standard", "Standard rate", "Most goods and services.", 0),
    ("reduced", "Reduced rate", "The country's lowest reduced rate of 5 % or more: books, most food, medicines.", 1),
    ("super_reduced", "Super-reduced rate", "Below 5 %, where a country has one; else its reduced rate.", 2),
    ("zero", "Zero rate", "Taxable at 0 %.", 3),
    ("exempt", "Exempt", "Outside VAT.", 4),
]

# country: (standard, reduced, super-reduced or None), percentages
EU_VAT_2025 = {
    "AT": ("20", "10", None),
    "BE": ("21", "6", None),
    "BG": ("20", "9", None),
    "CY": ("19", "5", None),
    "CZ": ("21", "12", None),
    "DE": ("19", "7", None),
    "DK": ("25", None, None),
    "EE": ("24", "9", None),
    "ES": ("21", "10", "4"),
    "FI": ("25.5", "10", None),
    "FR": ("20", "5.5", "2.1"),
    "GR": ("24", "6", None),
    "HR": ("25", "5", None),
    "HU": ("27", "5", None),
    "IE": ("23", "9", "4.8"),
    "IT": ("22", "5", "4"),
    "LT": ("21", "5", None),
    "LU": ("17", "8", "3"),
    "LV": ("21", "5", None),
    "MT": ("18", "5", None),
    "NL": ("21", "9", None),
    "PL": ("23", "5", None),
    "PT": ("23", "6", None),
    "RO": ("21", "11", None),
    "SE": ("25", "6", None),
    "SI": ("22", "5", None),
    "SK": ("23", "5", None),
}
NOTE = "EU VAT rates, European Commission (1 January 2025; EE and RO as of 1 August 2025)"


def seed(apps, schema_editor):
    db = schema_editor.connection.alias
    TaxClass = apps.get_model("pricing", "TaxClass")
    TaxRate = apps.get_model("pricing", "TaxRate")
    classes = {}
    for code, name, description, position in CLASSES:
        classes[code], _ = TaxClass.objects.using(db).get_or_create(
            code=code, defaults={"name": name, "description": description, "position": position}
        )
    rows = []
    for country, rates in EU_VAT_2025.items():
        for code, rate in zip(("standard", "reduced", "super_reduced"), rates, strict=True):
            if rate is not None:
                rows.append(TaxRate(country=country, tax_class=classes[code], rate=Decimal(rate), note=NOTE))
    TaxRate.objects.using(db).bulk_create(rows, ignore_conflicts=True)


def unseed(apps, schema_editor):
    db = schema_editor.connection.alias
    apps.get_model("pricing", "TaxRate").objects.using(db).filter(note=NOTE).delete()


class Migration(migrations.Migration):
    dependencies = [("pricing", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
