"""Independent computations the tests compare the SQL with: the sparse
rating matrix and cosine similarities with scipy, never through the project's SQL."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.preprocessing import normalize


@dataclass
class RatingMatrix:
    """The sparse user x movie rating matrix; rows and columns in ascending id order."""

    x: sparse.csr_matrix
    user_ids: np.ndarray
    movie_ids: np.ndarray


def rating_matrix(ratings: pd.DataFrame) -> RatingMatrix:
    """The sparse user x movie matrix of a ratings.csv frame (missing ratings are 0)."""
    user_ids = np.sort(ratings["userId"].unique())
    movie_ids = np.sort(ratings["movieId"].unique())
    rows = np.searchsorted(user_ids, ratings["userId"].to_numpy())
    cols = np.searchsorted(movie_ids, ratings["movieId"].to_numpy())
    x = sparse.csr_matrix(
        (ratings["rating"].to_numpy(dtype="float64"), (rows, cols)),
        shape=(len(user_ids), len(movie_ids)),
    )
    assert x.nnz == len(ratings), "a (user, movie) pair is rated twice in ratings.csv"
    return RatingMatrix(x, user_ids, movie_ids)


def cosine_of_columns(x: sparse.spmatrix) -> sparse.csr_matrix:
    """Sparse cosine similarity of the columns of ``x``, diagonal removed."""
    xn = normalize(sparse.csc_matrix(x), norm="l2", axis=0)
    s = sparse.csr_matrix(xn.T @ xn)
    s.setdiag(0)
    s.eliminate_zeros()
    s.sort_indices()
    return s


def co_counts(x: sparse.spmatrix) -> sparse.csr_matrix:
    """Number of rows where both columns are non-zero, diagonal removed."""
    b = sparse.csc_matrix(x).astype(bool).astype(np.int64)
    c = sparse.csr_matrix(b.T @ b)
    c.setdiag(0)
    c.eliminate_zeros()
    c.sort_indices()
    return c
