"""Full-text search and the typo lexicon on SQLite (the embedded default), with FTS5.

* ``catalog_product_fts``: name, brand and description, stemmed (``porter``, as PostgreSQL's
  ``english`` configuration stems), an external-content index over ``catalog_product``.
* ``catalog_product_words`` + ``catalog_search_word``: the words of names and brands, unstemmed
  (``unicode61`` only), and the ``fts5vocab`` table listing them: the lexicon typos are corrected
  against, as ``catalog_search_word`` is on PostgreSQL (migration 0003).

Triggers keep both indexes in step with every insert, update and delete (bulk inserts and raw SQL
included), as PostgreSQL's triggers do; existing rows are indexed by a ``rebuild``. Diacritics are
kept (``remove_diacritics 0``), like PostgreSQL's ``english`` configuration.
"""

from django.db import migrations

FORWARD = [
    """CREATE VIRTUAL TABLE IF NOT EXISTS catalog_product_fts USING fts5(
        name, brand, description, content='catalog_product', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 0')""",
    """CREATE VIRTUAL TABLE IF NOT EXISTS catalog_product_words USING fts5(
        name, brand, content='catalog_product', content_rowid='id', detail='none',
        tokenize='unicode61 remove_diacritics 0')""",
    "CREATE VIRTUAL TABLE IF NOT EXISTS catalog_search_word USING fts5vocab(catalog_product_words, 'row')",
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
    "INSERT INTO catalog_product_fts (catalog_product_fts) VALUES ('rebuild')",
    "INSERT INTO catalog_product_words (catalog_product_words) VALUES ('rebuild')",
]

BACKWARD = [
    "DROP TRIGGER IF EXISTS catalog_product_search_au",
    "DROP TRIGGER IF EXISTS catalog_product_search_ad",
    "DROP TRIGGER IF EXISTS catalog_product_search_ai",
    "DROP TABLE IF EXISTS catalog_search_word",
    "DROP TABLE IF EXISTS catalog_product_words",
    "DROP TABLE IF EXISTS catalog_product_fts",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0004_search_functions_search_path")]
    operations = [migrations.RunPython(forward, backward)]
