"""Product search. PostgreSQL matches the stored, GIN-indexed ``search_vector`` (kept by a trigger: never a
per-row ``SearchVector``), the trigram index on ``name`` for typos (``%>``: word similarity of the
query to the best-matching part of the name, pg_trgm's default threshold 0.6) and for substrings
(``ILIKE``, which the trigram index serves; Django's ``icontains`` would emit ``UPPER(name) LIKE …``,
which no index on ``name`` can serve). Whole-name similarity (``%``, ``trigram_similar``) is left
out: word similarity is never lower, and at 100k products the ``%`` arm's low threshold made broad
queries 2-5x slower (measured "fjallmark" 330 ms vs 60 ms; "merino sweater" 72 vs 23 ms).
Ranking: exact name first, then ``ts_rank`` (name A, brand B, description C) plus word similarity.
A typo in a short word ("jaket": word similarity 0.44) falls below that threshold, so a fourth arm
corrects unknown query words against a lexicon of name and brand words (edit distance 1) and
matches the corrected words through the same full-text index. SQLite has the same arms but for
trigrams, on FTS5, with the same intent of ranking (``sqlite_search``).
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.db import connections
from django.db.models import BooleanField, Case, DecimalField, F, IntegerField, Lookup, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from shop.catalog.models import Product
from shop.catalog.selectors import sqlite_search

_WORD = re.compile(r"[^\W_]+")


class _ILike(Lookup[str]):
    """``lhs ILIKE rhs``: served by the trigram GIN index on the bare column (never registered)."""

    lookup_name = "ilike"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} ILIKE {rhs}", [*lhs_params, *rhs_params]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _vendor() -> str:
    return str(connections[Product.objects.db].vendor)


# Each query word not in the lexicon (migration 0003) is widened to the lexicon words one edit away;
# the words are AND-ed and negated words (``-wool``) kept negated, as websearch does. NULL (matches
# nothing) unless some word was corrected, so this arm never widens a query whose words are all
# known. One uncorrelated subquery: PostgreSQL runs it once (an InitPlan), then probes the same GIN
# index on ``search_vector``.
_CORRECTED_TSQUERY = """search_vector @@ (
  SELECT CASE WHEN bool_or(x.fixed) THEN to_tsquery('english',
    string_agg(x.alts, ' & ') || (SELECT coalesce(string_agg(' & !' || n, ''), '') FROM unnest(%s::text[]) AS n)
  ) END
  FROM (
    SELECT '(' || string_agg(c.word, ' | ') || ')' AS alts, bool_or(c.fixed) AS fixed
    FROM unnest(%s::text[]) WITH ORDINALITY AS t(term, n)
    CROSS JOIN LATERAL (
      SELECT t.term AS word, false AS fixed
      UNION ALL
      SELECT s.word, true FROM catalog_search_word s
      WHERE s.word %% t.term AND levenshtein(s.word, t.term) <= 1
        AND NOT EXISTS (SELECT 1 FROM catalog_search_word k WHERE k.word = t.term)
    ) AS c
    GROUP BY t.n
  ) AS x
)"""
_MAX_QUERY_WORDS = 8


def _query_words(q: str) -> tuple[list[str], list[str]]:
    """(wanted, negated) plain words of the query, lower-cased as the lexicon holds them; none when
    the query quotes a phrase (websearch's phrase semantics are not rebuilt here)."""
    if '"' in q:
        return [], []
    wanted: list[str] = []
    negated: list[str] = []
    for token in q.lower().split():
        words = [w for w in _WORD.findall(token) if len(w) >= 3 or token.startswith("-")]
        (negated if token.startswith("-") else wanted).extend(words)
    return wanted[:_MAX_QUERY_WORDS], negated[:_MAX_QUERY_WORDS]


def _corrected_words_match(q: str) -> Q:
    wanted, negated = _query_words(q)
    if not wanted:
        return Q()  # an empty Q drops out of the OR
    return Q(RawSQL(_CORRECTED_TSQUERY, (negated, wanted), output_field=BooleanField()))


def searched(qs: QuerySet[Product], q: str, *, rank: bool) -> QuerySet[Product]:
    if _vendor() == "postgresql":
        query = SearchQuery(q, config="english", search_type="websearch")
        qs = qs.filter(
            Q(search_vector=query)  # words, stemmed: GIN on the stored tsvector
            | Q(name__trigram_word_similar=q)  # (part of) the name, mistyped: word similarity >= 0.6
            | Q(_ILike(F("name"), f"%{_like_escape(q)}%"))  # a substring; the trigram GIN serves ILIKE
            | _corrected_words_match(q)  # a short word one edit off a known word ("jaket")
        )
        _, negated = _query_words(q)
        if negated:  # "-wool" excludes whatever arm found the product (trigrams know no negation)
            qs = qs.exclude(search_vector=SearchQuery(" or ".join(negated), config="english", search_type="websearch"))
        if rank:
            qs = qs.annotate(
                sort_exact=Case(When(name__iexact=q, then=Value(1)), default=Value(0), output_field=IntegerField()),
                # numeric, not real: the cursor compares it for equality, so it must round-trip exactly.
                sort_relevance=Cast(
                    SearchRank(F("search_vector"), query) + TrigramWordSimilarity(q, "name"),
                    DecimalField(max_digits=12, decimal_places=6),
                ),
            )
        return qs
    return sqlite_search.searched(qs, q, rank=rank)
