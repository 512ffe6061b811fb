"""The TF-IDF step of content similarity, done by scikit-learn and stored sparse in SQL.

Two vectorisers run over every movie of ``movies``, one document per movie:

* genres: ``TfidfVectorizer(stop_words='english')`` over the genres with ``|``
  replaced by spaces, written to ``movie_terms(movie_id, term, weight)``; a movie marked
  ``(no genres listed)`` has an empty document, so no genre terms (not the words
  "genres" and "listed", which made all such movies identical);
* tags: all of a movie's tags from ``tags`` joined by spaces (empty for untagged
  movies), ``TfidfVectorizer(stop_words='english', max_features=tag_max_features)``,
  written to ``movie_tag_terms``.

scikit-learn's defaults apply: ``weight = tf * idf`` with
``idf = ln((1 + n_docs) / (1 + df)) + 1`` and each movie's vector L2-normalised. Only
non-zero weights are stored. Everything downstream of the weights (the stacked
0.6 / 0.4 vector, cosine similarity, neighbours) is SQL: see
``sql/10_staging/content_features.sql``, ``sql/30_similarity/content_similarity.sql`` and
``sql/40_neighbors/content_neighbors.sql``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd
from scipy import sparse

from recsys_duck.params import read_params
from recsys_duck.sql import execute

if TYPE_CHECKING:  # pragma: no cover
    from sklearn.feature_extraction.text import TfidfVectorizer

logger = logging.getLogger(__name__)


def genre_documents(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per movie: ``movie_id`` and its genres as a space-separated document
    (empty for ``(no genres listed)``)."""
    return execute(
        con,
        "select movie_id, if(genres = '(no genres listed)', '', replace(genres, '|', ' ')) "
        "as document from movies order by movie_id",
    ).df()


def tag_documents(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per movie: ``movie_id`` and all its tags joined by spaces ('' if none)."""
    return execute(
        con,
        """
        select
            m.movie_id,
            coalesce(string_agg(t.tag, ' ' order by t.tagged_at, t.user_id, t.tag), '') as document
        from movies as m
        left join tags as t on t.movie_id = m.movie_id
        group by m.movie_id
        order by m.movie_id
        """,
    ).df()


def fit_tfidf(
    documents: pd.DataFrame, *, max_features: int | None = None
) -> tuple[TfidfVectorizer, sparse.csr_matrix]:
    """Fit the vectoriser on ``documents.document``; return it and the movie x term matrix.

    A corpus with no word in its vocabulary (no tags at all) gives an empty matrix.
    """
    # Imported here: scikit-learn takes 0.7 s to import, which every other command
    # (add-ratings, recommend, ...) would pay for nothing.
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(stop_words="english", max_features=max_features)
    try:
        matrix = vectorizer.fit_transform(documents["document"].tolist())
    except ValueError:  # "empty vocabulary": every document is empty or stop words only
        vectorizer = TfidfVectorizer(stop_words="english", max_features=max_features)
        vectorizer.vocabulary_ = {}
        return vectorizer, sparse.csr_matrix((len(documents), 0))
    return vectorizer, sparse.csr_matrix(matrix)


def to_long(movie_ids: np.ndarray, terms: np.ndarray, matrix: sparse.csr_matrix) -> pd.DataFrame:
    """The non-zero cells of a movie x term matrix as rows (movie_id, term, weight)."""
    coo = matrix.tocoo()
    return pd.DataFrame(
        {
            "movie_id": movie_ids[coo.row].astype("int32"),
            "term": terms[coo.col] if len(terms) else np.array([], dtype=object),
            "weight": coo.data.astype("float64"),
        }
    )


_WRITES = {
    "movie_terms": (
        "delete from movie_terms",
        "insert into movie_terms select movie_id, term, weight from tfidf_rows",
    ),
    "movie_tag_terms": (
        "delete from movie_tag_terms",
        "insert into movie_tag_terms select movie_id, term, weight from tfidf_rows",
    ),
}


def build_movie_terms(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Recompute ``movie_terms`` and ``movie_tag_terms`` from ``movies`` and ``tags``.

    Returns the vocabulary sizes, ``{'genre_terms': ..., 'tag_terms': ...}``.
    """
    tag_max_features = read_params(con).tag_max_features
    counts: dict[str, int] = {}
    for table, documents, max_features, key in (
        ("movie_terms", genre_documents(con), None, "genre_terms"),
        ("movie_tag_terms", tag_documents(con), tag_max_features, "tag_terms"),
    ):
        delete, insert = _WRITES[table]
        vectorizer, matrix = fit_tfidf(documents, max_features=max_features)
        terms = (
            np.asarray(vectorizer.get_feature_names_out(), dtype=object)
            if matrix.shape[1]
            else np.array([], dtype=object)
        )
        long = to_long(documents["movie_id"].to_numpy(), terms, matrix)
        execute(con, delete)
        con.register("tfidf_rows", long)
        try:
            execute(con, insert)
        finally:
            con.unregister("tfidf_rows")
        counts[key] = len(terms)
        logger.info("%s: %d terms, %d non-zero weights", table, len(terms), len(long))
    return counts
