"""Pin the search triggers' ``search_path`` (PostgreSQL only).

``pg_dump``/``pg_restore`` (moving catalog to its own database, docs/splitting.md) run with an
empty ``search_path``; a trigger naming ``catalog_search_word`` unqualified then fails and takes the
whole COPY with it. Functions that carry their own ``search_path`` work in any session.
"""

from django.db import migrations

FORWARD = """
ALTER FUNCTION catalog_product_search_vector() SET search_path FROM CURRENT;
ALTER FUNCTION catalog_product_search_words() SET search_path FROM CURRENT;
"""
BACKWARD = """
ALTER FUNCTION catalog_product_search_vector() RESET search_path;
ALTER FUNCTION catalog_product_search_words() RESET search_path;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_typo_lexicon")]
    operations = [migrations.RunPython(forward, backward)]
