"""Product search on SQLite (the embedded default), with the intent of PostgreSQL's (``search``).

* **Words, stemmed**: an FTS5 index over name, brand and description with the ``porter`` stemmer
  (migration 0005), queried in the syntax PostgreSQL's ``websearch_to_tsquery`` reads: words are
  AND-ed, ``"a phrase"``, ``or`` between two words, ``-word`` excludes the products having it
  (whichever arm found them); English stop words are ignored, as PostgreSQL's ``english`` does.
* **A typo**: a query word of three letters or more that is not in the lexicon (the words of names
  and brands, migration 0005's ``catalog_search_word``) also matches the lexicon words one edit
  away (``jaket`` → ``jaket OR jacket``), as PostgreSQL's lexicon arm does; a known word stays itself.
* **A substring** of the name (``LIKE``: ``%`` and ``_`` taken literally).

Ranking, as on PostgreSQL: the exact name first, then a score — per query word, 1.0 when it is in
the name, 0.4 in the brand, 0.2 in the description (``ts_rank``'s A, B, C weights), plus 1 when the
name contains the whole query (PostgreSQL adds trigram word similarity). Each "word in field" is an
uncorrelated ``IN`` subquery, which SQLite evaluates once per statement; ``bm25()`` per row would
re-read the index for every row (1.9 s for a word in 8.5k of 100k products; this: 50 ms).

What SQLite lacks is trigram similarity, which on PostgreSQL also forgives several typos in one long
word. The lexicon costs one statement more than PostgreSQL (two when a word is unknown).
"""

from __future__ import annotations

import operator
import re
import unicodedata
from dataclasses import dataclass, field
from functools import reduce

from django.db import connections
from django.db.models import Case, DecimalField, FloatField, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import Combinable, RawSQL
from django.db.models.functions import Cast, Round

from shop.catalog.models import Product

FTS_TABLE = "catalog_product_fts"
LEXICON_TABLE = "catalog_search_word"
COLUMN_WEIGHTS = (("name", 1.0), ("brand", 0.4), ("description", 0.2))
MAX_RANKED_CLAUSES = 8  # the score's subqueries are bounded; the match itself uses every word
MAX_CORRECTED_WORDS = 8
# PostgreSQL's english.stop (Snowball), which its `english` configuration drops from queries.
_ENGLISH_STOP = """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers
    herself it its itself they them their theirs themselves what which who whom this that these those am is
    are was were be been being have has had having do does did doing a an the and but if or because as until
    while of at by for with about against between into through during before after above below to from up down
    in out on off over under again further then once here there when where why how all any both each few more
    most other some such no nor not only own same so than too very s t can will just don should now
"""
STOP_WORDS = frozenset(_ENGLISH_STOP.split())
_TOKEN = re.compile(r'(-?)(?:"([^"]*)"?|(\S+))')  # maybe negated: a quoted phrase, or a bare token
_WORD = re.compile(r"[^\W_]+")


@dataclass
class SearchQuery:
    """A query as FTS5 reads it: products match every clause (one of its alternatives, each a tuple
    of adjacent words) and none of the negated phrases."""

    clauses: list[list[tuple[str, ...]]] = field(default_factory=list)
    negated: list[tuple[str, ...]] = field(default_factory=list)
    quoted: bool = False

    def correctable(self) -> set[str]:
        """Single words of three letters or more, unless the query quotes (as on PostgreSQL)."""
        if self.quoted:
            return set()
        words = {alt[0] for clause in self.clauses for alt in clause if len(alt) == 1 and len(alt[0]) >= 3}
        return set(sorted(words)[:MAX_CORRECTED_WORDS])

    def correct(self, corrections: dict[str, list[str]]) -> None:
        """Widen each mistyped word to the lexicon words one edit away."""
        for clause in self.clauses:
            for alt in list(clause):
                if len(alt) == 1:
                    clause.extend((word,) for word in corrections.get(alt[0], ()) if (word,) not in clause)


def parse(q: str) -> SearchQuery:
    """websearch syntax: ``merino "crew neck" -wool``, ``boots or sneakers``."""
    query = SearchQuery(quoted='"' in q)
    joins_previous = False
    for minus, phrase, bare in _TOKEN.findall(unicodedata.normalize("NFC", q).lower()):
        if bare == "or":
            joins_previous = bool(query.clauses)
            continue
        words = tuple(_WORD.findall(phrase or bare))
        if bare and len(words) == 1 and words[0] in STOP_WORDS:
            words = ()
        if words and minus:
            query.negated.append(words)
        elif words and joins_previous:
            query.clauses[-1].append(words)
        elif words:
            query.clauses.append([words])
        joins_previous = False
    return query


def _phrase(words: tuple[str, ...]) -> str:
    return '"' + " ".join(words) + '"'  # words are letters and digits only: nothing to escape


def _any_of(alternatives: list[tuple[str, ...]]) -> str:
    return "(" + " OR ".join(_phrase(words) for words in alternatives) + ")"


def _matching(expression: str) -> RawSQL:
    """The ids of the products whose index matches ``expression`` (FTS5 query syntax)."""
    return RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", (expression,))


def one_edit_patterns(word: str) -> list[str]:
    """GLOB patterns of every word one edit away from ``word`` (``?``: any one character)."""
    wrong = [word[:i] + "?" + word[i + 1 :] for i in range(len(word))]
    missing = [word[:i] + "?" + word[i:] for i in range(len(word) + 1)]
    extra = [word[:i] + word[i + 1 :] for i in range(len(word))]
    return wrong + missing + extra


def corrections(words: set[str]) -> dict[str, list[str]]:
    """For each of ``words`` not in the lexicon, the lexicon words (3+ letters) one edit away."""
    if not words:
        return {}
    ordered = sorted(words)
    with connections[Product.objects.db].cursor() as cursor:
        cursor.execute(f"SELECT term FROM {LEXICON_TABLE} WHERE term IN ({', '.join(['%s'] * len(ordered))})", ordered)
        known = {row[0] for row in cursor.fetchall()}
        unknown = [word for word in ordered if word not in known]
        if not unknown:
            return {}
        selects: list[str] = []
        params: list[str] = []
        for word in unknown:
            patterns = one_edit_patterns(word)
            glob = " OR ".join(["term GLOB %s"] * len(patterns))
            selects.append(f"SELECT %s, term FROM {LEXICON_TABLE} WHERE length(term) >= 3 AND ({glob})")
            params += [word, *patterns]
        cursor.execute(" UNION ALL ".join(selects), params)
        found: dict[str, list[str]] = {}
        for word, term in cursor.fetchall():
            found.setdefault(word, []).append(term)
    return {word: sorted(terms) for word, terms in found.items()}


def _score(query: SearchQuery, q: str) -> Combinable:
    def weight(condition: Q, value: float) -> Case:
        return Case(When(condition, then=Value(value)), default=Value(0.0), output_field=FloatField())

    parts = [
        weight(Q(pk__in=_matching(f"{{{column}}} : {_any_of(clause)}")), value)
        for clause in query.clauses[:MAX_RANKED_CLAUSES]
        for column, value in COLUMN_WEIGHTS
    ]
    parts.append(weight(Q(name__icontains=q), 1.0))
    return reduce(operator.add, parts)


def searched(qs: QuerySet[Product], q: str, *, rank: bool) -> QuerySet[Product]:
    """``qs`` narrowed to the products ``q`` finds (annotated for the relevance order when ``rank``)."""
    query = parse(q)
    query.correct(corrections(query.correctable()))
    arms = Q(name__icontains=q)  # a substring of the name
    if query.clauses:
        arms |= Q(pk__in=_matching(" AND ".join(_any_of(clause) for clause in query.clauses)))
    elif query.negated:
        arms |= Q(pk__isnull=False)  # only exclusions: everything else, as websearch's "-wool" matches
    qs = qs.filter(arms)
    if query.negated:  # whatever arm found the product
        qs = qs.exclude(pk__in=_matching(_any_of(query.negated)))
    if rank:
        qs = qs.annotate(
            sort_exact=Case(When(name__iexact=q, then=Value(1)), default=Value(0), output_field=IntegerField()),
            # Rounded in SQL: the cursor compares it for equality, so it must round-trip exactly.
            sort_relevance=Cast(Round(_score(query, q), 6), DecimalField(max_digits=12, decimal_places=6)),
        )
    return qs
