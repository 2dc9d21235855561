"""Full-text and trigram search, on PostgreSQL only (SQLite keeps a plain fallback).

A trigger keeps ``search_vector`` current on every insert and update (bulk inserts included), so
no query ever computes a tsvector per row; GIN indexes serve full-text and substring/typo search.
"""

from django.db import migrations

FORWARD = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE OR REPLACE FUNCTION catalog_product_search_vector() RETURNS trigger AS $$
BEGIN
  NEW.search_vector :=
    setweight(to_tsvector('english', coalesce(NEW.name, '')), 'A') ||
    setweight(to_tsvector('english', coalesce(NEW.brand, '')), 'B') ||
    setweight(to_tsvector('english', coalesce(NEW.description, '')), 'C');
  RETURN NEW;
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS catalog_product_search_vector_trg ON catalog_product;
CREATE TRIGGER catalog_product_search_vector_trg
  BEFORE INSERT OR UPDATE OF name, brand, description ON catalog_product
  FOR EACH ROW EXECUTE FUNCTION catalog_product_search_vector();
CREATE INDEX IF NOT EXISTS catalog_product_search_gin ON catalog_product USING gin (search_vector);
CREATE INDEX IF NOT EXISTS catalog_product_name_trgm ON catalog_product USING gin (name gin_trgm_ops);
UPDATE catalog_product SET name = name;
"""

BACKWARD = """
DROP INDEX IF EXISTS catalog_product_name_trgm;
DROP INDEX IF EXISTS catalog_product_search_gin;
DROP TRIGGER IF EXISTS catalog_product_search_vector_trg ON catalog_product;
DROP FUNCTION IF EXISTS catalog_product_search_vector();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
