"""Typo correction for short words, on PostgreSQL only.

Trigram word similarity misses a one-letter typo in a short word ("jaket" vs "jacket" is 0.44,
under pg_trgm's 0.6), and lowering the threshold globally made broad queries 15x wider and 2x
slower. pg_trgm's own recipe instead: keep a lexicon of the words in product names and brands, and
correct each query word that is not in it to the lexicon words within one edit (``%`` finds the
candidates through the trigram index, ``levenshtein`` keeps those one edit away).

Statement-level triggers with transition tables keep the lexicon: one INSERT per statement, so a
100k-row bulk insert adds its words once. Words are inserted in order so concurrent writers never
deadlock on the unique index. Words are never removed: a stale word only corrects to nothing.
"""

from django.db import migrations

FORWARD = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;
CREATE TABLE IF NOT EXISTS catalog_search_word (word text PRIMARY KEY);
CREATE INDEX IF NOT EXISTS catalog_search_word_trgm ON catalog_search_word USING gin (word gin_trgm_ops);
CREATE OR REPLACE FUNCTION catalog_product_search_words() RETURNS trigger AS $$
BEGIN
  INSERT INTO catalog_search_word (word)
  SELECT DISTINCT w
  FROM new_rows, regexp_split_to_table(lower(new_rows.name || ' ' || new_rows.brand), '[^[:alnum:]]+') AS w
  WHERE length(w) >= 3
  ORDER BY w
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS catalog_product_words_ins ON catalog_product;
CREATE TRIGGER catalog_product_words_ins AFTER INSERT ON catalog_product
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog_product_search_words();
DROP TRIGGER IF EXISTS catalog_product_words_upd ON catalog_product;
CREATE TRIGGER catalog_product_words_upd AFTER UPDATE ON catalog_product
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog_product_search_words();
INSERT INTO catalog_search_word (word)
  SELECT DISTINCT w
  FROM catalog_product, regexp_split_to_table(lower(name || ' ' || brand), '[^[:alnum:]]+') AS w
  WHERE length(w) >= 3
  ON CONFLICT DO NOTHING;
"""

BACKWARD = """
DROP TRIGGER IF EXISTS catalog_product_words_upd ON catalog_product;
DROP TRIGGER IF EXISTS catalog_product_words_ins ON catalog_product;
DROP FUNCTION IF EXISTS catalog_product_search_words();
DROP TABLE IF EXISTS catalog_search_word;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_search_on_postgresql")]
    operations = [migrations.RunPython(forward, backward)]
