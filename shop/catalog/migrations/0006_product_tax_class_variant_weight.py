"""Products get a tax class (pricing taxes them by it) and variants a shipping weight (weight-banded
shipping adds it up). Existing products are ``standard`` and existing variants unweighed (0 g).

On SQLite, adding a NOT NULL column makes Django rebuild ``catalog_product``, which drops the search
triggers of migration 0005; they are re-created here (the FTS tables and their rows survive the rebuild:
the rebuilt table keeps every id).
"""

from django.db import migrations, models

SQLITE_TRIGGERS = [
    """CREATE TRIGGER IF NOT EXISTS catalog_product_search_ai AFTER INSERT ON catalog_product BEGIN
        INSERT INTO catalog_product_fts (rowid, name, brand, description)
            VALUES (new.id, new.name, new.brand, new.description);
        INSERT INTO catalog_product_words (rowid, name, brand) VALUES (new.id, new.name, new.brand);
    END""",
    """CREATE TRIGGER IF NOT EXISTS catalog_product_search_ad AFTER DELETE ON catalog_product BEGIN
        INSERT INTO catalog_product_fts (catalog_product_fts, rowid, name, brand, description)
            VALUES ('delete', old.id, old.name, old.brand, old.description);
        INSERT INTO catalog_product_words (catalog_product_words, rowid, name, brand)
            VALUES ('delete', old.id, old.name, old.brand);
    END""",
    """CREATE TRIGGER IF NOT EXISTS catalog_product_search_au
    AFTER UPDATE OF name, brand, description ON catalog_product BEGIN
        INSERT INTO catalog_product_fts (catalog_product_fts, rowid, name, brand, description)
            VALUES ('delete', old.id, old.name, old.brand, old.description);
        INSERT INTO catalog_product_words (catalog_product_words, rowid, name, brand)
            VALUES ('delete', old.id, old.name, old.brand);
        INSERT INTO catalog_product_fts (rowid, name, brand, description)
            VALUES (new.id, new.name, new.brand, new.description);
        INSERT INTO catalog_product_words (rowid, name, brand) VALUES (new.id, new.name, new.brand);
    END""",
]


def recreate_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_TRIGGERS:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_search_on_sqlite")]

    operations = [
        migrations.AddField(
            model_name="product",
            name="tax_class",
            field=models.CharField(
                choices=[
                    ("standard", "standard"),
                    ("reduced", "reduced"),
                    ("super_reduced", "super_reduced"),
                    ("zero", "zero"),
                    ("exempt", "exempt"),
                ],
                default="standard",
                db_default="standard",
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="variant",
            name="weight_grams",
            field=models.PositiveIntegerField(
                default=0, db_default=0, help_text="Shipping weight of one unit (0: not weighed)."
            ),
        ),
        migrations.AddConstraint(
            model_name="product",
            constraint=models.CheckConstraint(
                condition=models.Q(("tax_class__in", ("standard", "reduced", "super_reduced", "zero", "exempt"))),
                name="product_tax_class_known",
            ),
        ),
        # The rebuilds above (and AddConstraint's, on SQLite) dropped the triggers: put them back last.
        migrations.RunPython(recreate_sqlite_triggers, migrations.RunPython.noop),
    ]
