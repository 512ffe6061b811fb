"""Reference implementations of exact cosine top-k neighbours, and the check between them.

Every function takes ratings as parallel arrays (``user_id``, ``movie_id``, ``rating``)
and returns :class:`Neighbors`: for every row (a movie for ``task='item'``, a user for
``task='user'``) its ``k`` most similar other rows by cosine of the zero-filled rating
vectors, ``sim(i, j) = sum_u r_ui r_uj / (||r_i|| ||r_j||)``, ordered by
(row_id, -similarity, neighbor_id) and only those with similarity > 0, as in
``sql/40_neighbors``.

Heavy libraries are imported inside the functions, so a benchmark child process loads
only what its method needs (its memory is measured).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import scipy.sparse as sp

Task = Literal["item", "user"]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Upper bound, in bytes, of one block of rows of the similarity matrix (scipy method).
BLOCK_BYTES = 512 * 2**20


@dataclass(frozen=True)
class Neighbors:
    """Top-k neighbour lists as parallel arrays, ordered by (row_id, rank)."""

    row_id: IntArray
    neighbor_id: IntArray
    similarity: FloatArray

    @classmethod
    def concatenate(cls, parts: list[Neighbors]) -> Neighbors:
        return cls(
            row_id=np.concatenate([p.row_id for p in parts]),
            neighbor_id=np.concatenate([p.neighbor_id for p in parts]),
            similarity=np.concatenate([p.similarity for p in parts]),
        )


def top_k_neighbors(
    similarity: sp.csr_array, ids: IntArray, k: int, first_row: int = 0
) -> Neighbors:
    """The ``k`` most similar other rows of each row of a CSR similarity matrix.

    ``similarity`` holds rows ``first_row ..`` of the square matrix (all of it by
    default); row ``r`` is ``ids[first_row + r]`` and its own column is excluded.
    Ties are broken by the smaller id (``ids`` is sorted, so by the smaller index).
    Rows are visited once, only to find each row's k-th largest value with
    ``np.partition``; the survivors (the top k plus ties at the threshold) are then
    ordered by (row, -similarity, neighbour) in one ``np.lexsort`` and cut at rank k.
    """
    indptr, indices, data = similarity.indptr, similarity.indices, similarity.data
    picks: list[IntArray] = []
    for row in range(similarity.shape[0]):
        start, end = indptr[row], indptr[row + 1]
        positions = np.flatnonzero(indices[start:end] != row + first_row)
        if positions.size > k:
            values = data[start:end][positions]
            threshold = np.partition(values, values.size - k)[values.size - k]
            positions = positions[values >= threshold]
        picks.append(positions + start)
    candidates = np.concatenate(picks) if picks else np.empty(0, dtype=np.int64)
    rows = np.repeat(np.arange(similarity.shape[0]), [p.size for p in picks])
    order = np.lexsort((indices[candidates], -data[candidates], rows))
    candidates, rows = candidates[order], rows[order]
    rank = np.arange(rows.size) - np.searchsorted(rows, rows)
    kept = rank < k
    return Neighbors(
        row_id=ids[rows[kept] + first_row],
        neighbor_id=ids[indices[candidates[kept]]],
        similarity=data[candidates[kept]],
    )


def rating_matrix(
    user_id: npt.NDArray[np.integer], movie_id: npt.NDArray[np.integer], rating: npt.ArrayLike
) -> tuple[sp.csr_array, IntArray, IntArray]:
    """The sparse user x movie matrix X (float64, missing ratings are 0), user and movie ids."""
    import scipy.sparse as sp

    user_ids, user_index = np.unique(user_id, return_inverse=True)
    movie_ids, movie_index = np.unique(movie_id, return_inverse=True)
    x = sp.csr_array(
        (np.asarray(rating, dtype=np.float64), (user_index, movie_index)),
        shape=(user_ids.size, movie_ids.size),
    )
    return x, user_ids.astype(np.int64), movie_ids.astype(np.int64)


def scipy_top_k(
    user_id: npt.NDArray[np.integer],
    movie_id: npt.NDArray[np.integer],
    rating: npt.ArrayLike,
    task: Task,
    k: int,
) -> Neighbors:
    """Exact top-k with scipy.sparse, in blocks of rows so that memory stays bounded.

    A is X^T (task 'item') or X (task 'user') with rows scaled to unit L2 norm; the
    similarities of a block B of rows are the sparse product A_B A^T, at most
    ``BLOCK_BYTES`` (12 bytes per stored value), reduced to top-k by
    :func:`top_k_neighbors` before the next block.
    """
    import scipy.sparse as sp

    x, user_ids, movie_ids = rating_matrix(user_id, movie_id, rating)
    a, ids = (x.T.tocsr(), movie_ids) if task == "item" else (x, user_ids)
    norms = np.sqrt(a.multiply(a).sum(axis=1))
    a = sp.csr_array(sp.diags_array(1.0 / norms) @ a)
    a_t = a.T.tocsr()
    n = a.shape[0]
    block = max(1, BLOCK_BYTES // (12 * n))
    parts = [
        top_k_neighbors(sp.csr_array(a[start : start + block] @ a_t), ids, k, first_row=start)
        for start in range(0, n, block)
    ]
    return Neighbors.concatenate(parts)


def implicit_top_k(
    user_id: npt.NDArray[np.integer],
    movie_id: npt.NDArray[np.integer],
    rating: npt.ArrayLike,
    task: Task,
    k: int,
) -> Neighbors:
    """implicit's ``CosineRecommender(K=k + 1)``: its similarity matrix keeps the top K
    per row, the row itself included; the row itself is dropped and the rest sorted.

    It is fitted on the user x movie matrix for 'item' and on its transpose for 'user'
    (implicit's "items" are the columns). Threads: implicit's default (all cores).
    """
    import warnings

    from implicit.nearest_neighbours import CosineRecommender

    x, user_ids, movie_ids = rating_matrix(user_id, movie_id, rating)
    matrix, ids = (x, movie_ids) if task == "item" else (x.T.tocsr(), user_ids)
    model = CosineRecommender(K=k + 1)
    with warnings.catch_warnings():
        # implicit's own normalize() hands a COO matrix to its CSR-only kernel and warns
        warnings.simplefilter("ignore")
        model.fit(matrix, show_progress=False)
    similarity = model.similarity.tocoo()
    return sort_pairs(similarity.row, similarity.col, similarity.data, ids, k)


def dense_top_k(
    user_id: npt.NDArray[np.integer],
    movie_id: npt.NDArray[np.integer],
    rating: npt.ArrayLike,
    task: Task,
    k: int,
) -> Neighbors:
    """The tutorial approach: a dense pandas pivot (missing ratings are 0), scikit-learn's
    ``cosine_similarity`` of its columns ('item') or rows ('user'), a stable argsort of
    every row. Self-similarity and zero similarities are dropped.
    """
    import pandas as pd
    from sklearn.metrics.pairwise import cosine_similarity

    frame = pd.DataFrame({"user_id": user_id, "movie_id": movie_id, "rating": rating})
    matrix = frame.pivot_table(index="user_id", columns="movie_id", values="rating", fill_value=0)
    if task == "item":
        values, ids = matrix.to_numpy(dtype=np.float64).T, matrix.columns.to_numpy()
    else:
        values, ids = matrix.to_numpy(dtype=np.float64), matrix.index.to_numpy()
    del matrix
    similarity = cosine_similarity(values)
    del values
    np.fill_diagonal(similarity, 0.0)
    top = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
    values_top = np.take_along_axis(similarity, top, axis=1)
    rows = np.repeat(np.arange(top.shape[0]), top.shape[1])
    kept = values_top.ravel() > 0
    return Neighbors(
        row_id=ids.astype(np.int64)[rows[kept]],
        neighbor_id=ids.astype(np.int64)[top.ravel()[kept]],
        similarity=values_top.ravel()[kept],
    )


def content_top_k(
    movie_id: npt.NDArray[np.integer],
    feature: npt.ArrayLike,
    value: npt.ArrayLike,
    k: int,
    block_rows: int = 1000,
) -> Neighbors:
    """Content neighbours the dense numpy way, over the rows (movie_id, feature, value) of
    ``content_features``: X the dense movie x feature matrix with rows scaled to unit L2
    norm, the cosines of a block of rows ``X_B @ X.T``, capped at 1, the movie itself
    left out, and each row's top ``k`` by ``np.argpartition`` (unordered within the k,
    ties at the k-th place broken as argpartition breaks them, zero similarities kept).
    The reference of ``bench/bench_content.py`` and ``bench/bench_build.py``; the tests
    rank exactly (``tests/test_content.py``).
    """
    ids, rows = np.unique(np.asarray(movie_id), return_inverse=True)
    _, cols = np.unique(np.asarray(feature), return_inverse=True)
    x = np.zeros((ids.size, int(cols.max()) + 1 if cols.size else 0))
    x[rows, cols] = np.asarray(value, dtype=np.float64)
    x /= np.sqrt((x * x).sum(axis=1))[:, None]
    x_t = np.ascontiguousarray(x.T)
    n = ids.size
    kk = min(k, n - 1)
    parts: list[Neighbors] = []
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        similarity = x[start:stop] @ x_t
        np.minimum(similarity, 1.0, out=similarity)
        similarity[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        top = np.argpartition(similarity, -kk, axis=1)[:, -kk:]
        block = np.repeat(np.arange(start, stop), kk)
        parts.append(
            Neighbors(
                row_id=ids[block].astype(np.int64),
                neighbor_id=ids[top.ravel()].astype(np.int64),
                similarity=np.take_along_axis(similarity, top, axis=1).ravel(),
            )
        )
    return Neighbors.concatenate(parts)


def dense_bytes(n_users: int, n_movies: int, task: Task) -> int:
    """Memory the dense method needs: three copies of its largest dense matrix."""
    n_rows = n_movies if task == "item" else n_users
    return 3 * 8 * max(n_users * n_movies, n_rows * n_rows)


def sort_pairs(
    rows: IntArray, cols: IntArray, values: FloatArray, ids: IntArray, k: int
) -> Neighbors:
    """Pairs (row, col, similarity) to top-k lists: drop self and zero pairs, order by
    (row, -similarity, col), keep the first k of each row."""
    kept = (rows != cols) & (values > 0)
    rows, cols, values = rows[kept], cols[kept], values[kept]
    order = np.lexsort((cols, -values, rows))
    rows, cols, values = rows[order], cols[order], values[order]
    rank = np.arange(rows.size) - np.searchsorted(rows, rows)
    top = rank < k
    return Neighbors(
        row_id=ids[rows[top]], neighbor_id=ids[cols[top]], similarity=values[top].astype(np.float64)
    )


@dataclass(frozen=True)
class Check:
    """How a method's top-k lists compare with the reference's.

    ``max_abs_difference`` is the largest difference of the similarity at each
    (row, rank); ``tie_swaps`` counts neighbours held by only one of the two lists,
    all of them tied (within ``tie_tolerance``) with the reference's k-th similarity.
    """

    ok: bool
    rows: int
    pairs: int
    max_abs_difference: float | None
    tie_swaps: int
    problem: str | None

    def verdict(self) -> str:
        if not self.ok:
            return f"MISMATCH: {self.problem}"
        plural = "s" if self.tie_swaps > 1 else ""
        swaps = f", {self.tie_swaps} tie swap{plural} at the k-th place" if self.tie_swaps else ""
        return f"ok (max diff {self.max_abs_difference:.1e}{swaps})"


def compare(
    reference: Neighbors,
    candidate: Neighbors,
    k: int,
    tolerance: float = 1e-9,
    tie_tolerance: float = 1e-12,
) -> Check:
    """Check ``candidate`` against ``reference`` (both ordered by (row_id, rank)).

    They agree when they hold the same rows with the same number of neighbours each,
    the similarity at every (row, rank) differs by at most ``tolerance``, and every
    neighbour held by only one of them has a similarity within ``tie_tolerance`` of the
    reference's k-th similarity of that row (a tie at the cut, which only a row with k
    neighbours can have).
    """
    ref_rows, ref_counts = np.unique(reference.row_id, return_counts=True)
    cand_rows, cand_counts = np.unique(candidate.row_id, return_counts=True)

    def failed(problem: str, difference: float | None = None) -> Check:
        return Check(False, ref_rows.size, reference.row_id.size, difference, 0, problem)

    if not np.array_equal(ref_rows, cand_rows):
        only = np.setxor1d(ref_rows, cand_rows)
        return failed(f"{only.size} rows in only one of the two (e.g. id {only[0]})")
    if not np.array_equal(ref_counts, cand_counts):
        at = int(np.flatnonzero(ref_counts != cand_counts)[0])
        return failed(
            f"id {ref_rows[at]} has {cand_counts[at]} neighbours, reference {ref_counts[at]}"
        )
    difference = np.abs(reference.similarity - candidate.similarity)
    max_difference = float(difference.max()) if difference.size else 0.0
    if max_difference > tolerance:
        at = int(difference.argmax())
        return failed(
            f"id {reference.row_id[at]}: similarity {float(candidate.similarity[at])!r} where the "
            f"reference has {float(reference.similarity[at])!r} at the same rank",
            max_difference,
        )
    full = ref_counts == k
    last = np.cumsum(ref_counts) - 1
    kth = np.repeat(np.where(full, reference.similarity[last], np.nan), ref_counts)
    ref_keys = reference.row_id << 32 | reference.neighbor_id
    cand_keys = candidate.row_id << 32 | candidate.neighbor_id
    only_ref = ~np.isin(ref_keys, cand_keys)
    only_cand = ~np.isin(cand_keys, ref_keys)
    # both lists are ordered by row with equal counts, so kth lines up with either
    bad = (only_ref & ~(np.abs(reference.similarity - kth) <= tie_tolerance)) | (
        only_cand & ~(np.abs(candidate.similarity - kth) <= tie_tolerance)
    )
    if bad.any():
        at = int(np.flatnonzero(bad)[0])
        return failed(
            f"id {reference.row_id[at]}: neighbour sets differ beyond ties at the k-th place "
            f"(reference {reference.neighbor_id[at]}, candidate {candidate.neighbor_id[at]})",
            max_difference,
        )
    return Check(
        True,
        ref_rows.size,
        reference.row_id.size,
        max_difference,
        int(only_ref.sum()),
        None,
    )


# -- ranking models (item_weights): the same weights with scipy.sparse and numpy ----------

#: Targets per block of item_ridge's batched solve (block x neighbours^2 doubles).
RIDGE_BLOCK = 512


def ranking_weights(x: sp.csr_array, movie_ids: IntArray, settings: dict[str, object]) -> Neighbors:
    """The rows of ``item_weights`` of one ``ranking_models`` row, computed on the sparse
    user x movie rating matrix ``x`` (movies in id order) by the formulas in the headers
    of ``sql/40_neighbors/item_weights.<algorithm>.sql``: ``row_id`` is the movie i whose
    rating scores, ``neighbor_id`` the movie j scored, ``similarity`` the weight w(i, j).
    The reference that ``bench/bench_build.py`` times the build's ranking weights
    against: sparse products for the pair sums, each row's top k as
    :func:`top_k_neighbors` picks it (exact values, ties by the smaller id; the SQL
    ranks values rounded to 12 places), and item_ridge's systems solved by the same
    conjugate-gradient steps, batched over targets in numpy.
    """
    algorithm = str(settings["algorithm"])
    if algorithm == "item_knn":
        return _item_knn(x, movie_ids, settings)
    if algorithm == "rp3beta":
        return _rp3beta(x, movie_ids, settings)
    if algorithm == "item_ridge":
        return _item_ridge(x, movie_ids, settings)
    raise ValueError(f"no reference for the ranking algorithm {algorithm!r}")


def _binary(x: sp.csr_array) -> sp.csr_array:
    import scipy.sparse as sp

    b = sp.csr_array(x, dtype=np.float64, copy=True)
    b.data[:] = 1.0
    return b


def _row_index(m: sp.csr_array) -> IntArray:
    return np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))


def _normalized(neighbors: Neighbors) -> Neighbors:
    """Each row's weights divided by the row's sum."""
    _, start = np.unique(neighbors.row_id, return_index=True)
    sums = np.add.reduceat(neighbors.similarity, start) if start.size else start
    counts = np.diff(np.append(start, neighbors.row_id.size))
    return Neighbors(
        neighbors.row_id, neighbors.neighbor_id, neighbors.similarity / np.repeat(sums, counts)
    )


def _item_knn(x: sp.csr_array, movie_ids: IntArray, s: dict[str, object]) -> Neighbors:
    """sim(i, j) = x_i . x_j / (|x_i| |x_j| + shrinkage), top k, rows normalised."""
    import scipy.sparse as sp

    m = sp.csc_array(x if s["rating_values"] else _binary(x))
    g = sp.csr_array(m.T @ m)
    norms = np.sqrt(g.diagonal())
    g.data = g.data / (norms[_row_index(g)] * norms[g.indices] + float(str(s["shrinkage"])))
    top = top_k_neighbors(g, movie_ids, int(str(s["neighbors"])))
    return _normalized(top) if s["normalize"] else top


def _rp3beta(x: sp.csr_array, movie_ids: IntArray, s: dict[str, object]) -> Neighbors:
    """W(i, j) = n_i^-alpha n_j^-beta sum_{u rated i and j} n_u^-alpha, top k."""
    import scipy.sparse as sp

    alpha, beta = float(str(s["alpha"])), float(str(s["beta"]))
    b = _binary(x)
    n_user = np.asarray(b.sum(axis=1)).ravel()
    n_movie = np.asarray(b.sum(axis=0)).ravel()
    to_user = sp.csr_array(sp.diags_array(n_movie**-alpha) @ b.T)
    to_movie = sp.csr_array(sp.diags_array(n_user**-alpha) @ b @ sp.diags_array(n_movie**-beta))
    walk = sp.csr_array(to_user @ to_movie)
    top = top_k_neighbors(walk, movie_ids, int(str(s["neighbors"])))
    return _normalized(top) if s["normalize"] else top


def _item_ridge(x: sp.csr_array, movie_ids: IntArray, s: dict[str, object]) -> Neighbors:
    """Movie j regressed on its k nearest movies N(j) by 0/1 cosine:
    (G_NN + l2 I) w = G_Nj with G = B'B, by ``steps`` conjugate-gradient steps from 0."""
    import scipy.sparse as sp

    k, l2, steps = int(str(s["neighbors"])), float(str(s["l2"])), int(str(s["steps"]))
    b = sp.csc_array(_binary(x))
    g = sp.csr_array(b.T @ b)
    degree = g.diagonal()
    cosine = g.copy()
    cosine.data = cosine.data / np.sqrt(degree[_row_index(cosine)] * degree[cosine.indices])
    n = g.shape[0]
    near = top_k_neighbors(cosine, np.arange(n, dtype=np.int64), k)
    del cosine
    # Counts are exact in float32; the dense Gram is read block by block.
    dense = g.astype(np.float32).toarray()
    targets, start = np.unique(near.row_id, return_index=True)
    counts = np.diff(np.append(start, near.row_id.size))
    width = int(counts.max()) if counts.size else 0
    slot = np.arange(near.row_id.size) - np.repeat(start, counts)
    index = np.zeros((targets.size, width), dtype=np.int64)
    valid = np.zeros((targets.size, width), dtype=bool)
    row = np.repeat(np.arange(targets.size), counts)
    index[row, slot] = near.neighbor_id
    valid[row, slot] = True
    weights = np.zeros((targets.size, width))
    for lo in range(0, targets.size, RIDGE_BLOCK):
        hi = min(lo + RIDGE_BLOCK, targets.size)
        idx, ok = index[lo:hi], valid[lo:hi]
        both = ok[:, :, None] & ok[:, None, :]
        a = np.where(both, dense[idx[:, :, None], idx[:, None, :]], 0.0).astype(np.float64)
        diagonal = np.where(ok, degree[idx] + l2, 1.0)
        a[:, np.arange(width), np.arange(width)] = diagonal
        rhs = np.where(ok, dense[idx, targets[lo:hi, None]], 0.0).astype(np.float64)
        weights[lo:hi] = _conjugate_gradients(a, rhs, steps)
    return Neighbors(
        row_id=movie_ids[index[valid]],
        neighbor_id=movie_ids[np.repeat(targets, counts)],
        similarity=weights[valid],
    )


def _conjugate_gradients(a: FloatArray, rhs: FloatArray, steps: int) -> FloatArray:
    """``steps`` conjugate-gradient steps from 0 on each system a[t] w = rhs[t]."""
    w = np.zeros_like(rhs)
    residual = rhs.copy()
    direction = rhs.copy()
    square = np.einsum("ti,ti->t", residual, residual)
    for _ in range(steps):
        product = np.einsum("tij,tj->ti", a, direction)
        curvature = np.einsum("ti,ti->t", direction, product)
        size = np.divide(square, curvature, out=np.zeros_like(square), where=curvature != 0)
        w += size[:, None] * direction
        residual -= size[:, None] * product
        new_square = np.einsum("ti,ti->t", residual, residual)
        turn = np.divide(new_square, square, out=np.zeros_like(square), where=square != 0)
        direction = residual + turn[:, None] * direction
        square = new_square
    return w
