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


# -- ranking models (ranking_models, item_weights): dense numpy, movies in id order ------


def _ranked(values: np.ndarray, k: int) -> list[int]:
    """The k largest positive entries of a row (rounded to 12 places, then the smaller
    index, as the SQL orders them), as indices."""
    order = np.lexsort((np.arange(len(values)), -np.round(values, 12)))
    return [int(j) for j in order[:k] if values[j] > 0]


def _top_rows(w: np.ndarray, k: int, normalize_rows: bool) -> np.ndarray:
    """Each row's top k (diagonal excluded), optionally scaled to sum 1."""
    w = w.copy()
    np.fill_diagonal(w, 0)
    out = np.zeros_like(w)
    for i in range(len(w)):
        keep = _ranked(w[i], k)
        out[i, keep] = w[i, keep]
        if normalize_rows and keep:
            out[i, keep] /= out[i, keep].sum()
    return out


def item_knn_weights(
    x: sparse.spmatrix, k: int, shrinkage: float, normalize_rows: bool
) -> np.ndarray:
    """w(i, j) of item_knn on the user x movie matrix ``x`` (0/1 or ratings): the
    shrunk cosine x_i.x_j / (|x_i| |x_j| + shrinkage), each row's top k."""
    dense = sparse.csc_matrix(x).toarray()
    norms = np.sqrt((dense**2).sum(axis=0))
    sim = (dense.T @ dense) / (np.outer(norms, norms) + shrinkage)
    return _top_rows(sim, k, normalize_rows)


def rp3beta_weights(
    b: sparse.spmatrix, k: int, alpha: float, beta: float, normalize_rows: bool
) -> np.ndarray:
    """w(i, j) of rp3beta on the 0/1 matrix ``b``: (P_iu P_uj) with each transition
    probability raised to alpha, divided by n_j^beta, each row's top k."""
    b = sparse.csr_matrix(b, dtype=float)
    user_degree = np.asarray(b.sum(axis=1)).ravel()
    movie_degree = np.asarray(b.sum(axis=0)).ravel()
    to_movie = (sparse.diags(1 / user_degree) @ b).power(alpha)
    to_user = (sparse.diags(1 / movie_degree) @ b.T).power(alpha)
    walk = (to_user @ to_movie).toarray() / movie_degree[None, :] ** beta
    return _top_rows(walk, k, normalize_rows)


def ridge_weights(
    b: sparse.spmatrix, k: int, l2: float, steps: int | None, targets: np.ndarray | None = None
) -> np.ndarray:
    """w(., j) of item_ridge on the 0/1 matrix ``b``: movie j regressed on its k nearest
    movies N(j) by 0/1 cosine, (G_NN + l2 I) w = G_Nj with G = B'B, solved exactly
    (``steps`` None, numpy's solver) or by that many conjugate-gradient steps; for the
    columns ``targets`` (every column by default), the others left 0."""
    g = (sparse.csr_matrix(b, dtype=float).T @ sparse.csr_matrix(b, dtype=float)).toarray()
    degree = np.diag(g).copy()
    cosine = g / np.sqrt(np.outer(degree, degree))
    np.fill_diagonal(cosine, 0)
    w = np.zeros_like(g)
    for j in range(len(g)) if targets is None else targets:
        near = _ranked(cosine[:, j], k)
        a = g[np.ix_(near, near)] + l2 * np.eye(len(near))
        rhs = g[near, j]
        if steps is None:
            w[near, j] = np.linalg.solve(a, rhs)
            continue
        solution, residual = np.zeros(len(near)), rhs.copy()
        direction, square = residual.copy(), residual @ residual
        for _ in range(steps):
            product = a @ direction
            curvature = direction @ product
            size = square / curvature if curvature else 0.0
            solution += size * direction
            residual -= size * product
            new_square = residual @ residual
            direction = residual + (new_square / square if square else 0.0) * direction
            square = new_square
        w[near, j] = solution
    return w
