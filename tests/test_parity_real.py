"""Parity of the SQL results with independent computations on the real ml-latest-small.

Every expected value here is computed from the CSV files with pandas, numpy,
scipy.sparse and scikit-learn, never with the project's SQL, and compared to what the
views, tables and macros of the ``small`` database (default ``BuildParams``) return,
to 1e-9 where numbers are compared. No dense user x movie or movie x movie matrix is
formed: rating similarities are sparse products, content similarities are computed a
block of rows at a time.

Ties: values equal in exact arithmetic differ in the last bits between two correct
computations, so the SQL ranks by round(similarity, 12) and round(score, 10) before the
id tie-break. The reference applies the same ranking to its own values and the result
must match exactly, except where a reference value that decides a cut-off or an order
lies within a few ulps of a rounding boundary (about 1 case in 100): there the two
computations may legitimately disagree, and the comparison is "up to ties" instead
(values within ``SIM_TIE`` = 1e-12 or ``SCORE_TIE`` = 1e-9 are interchangeable; for a
neighbourhood used by a recommendation, the stored choice among the tied neighbours is
checked to be a valid one and then used, with the reference similarities).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import mean_absolute_error, mean_squared_error
from sklearn.preprocessing import normalize

from recsys_duck import Recommender
from recsys_duck.evaluation import DEFAULT_MODELS, FOUNDATION_METHODS
from tests.reference import RatingMatrix, co_counts, cosine_of_columns, rating_matrix

pytestmark = pytest.mark.slow

TOL = 1e-9  # numbers compared between the SQL and the reference
SIM_TIE = 1e-12  # similarities closer than this are ties
SCORE_TIE = 1e-9  # recommendation scores closer than this are ties
# The SQL ranks by round(similarity, 12) and round(score, 10) before the id tie-break.
SIM_PLACES, SCORE_PLACES = 12, 10
# A reference value closer than this to a rounding boundary may round differently from
# the SQL's value (they differ by up to ~2e-15 for similarities, ~6e-14 for scores).
SIM_MARGIN, SCORE_MARGIN = 1e-14, 5e-13
K = 50  # neighbours stored per item, user and movie (BuildParams.k)
N_SIMILAR_USERS = 5
N_ITEM_NEIGHBORS = 10
N_RECOMMENDATIONS = 20
GENRE_WEIGHT, TAG_WEIGHT = 0.6, 0.4
TAG_MAX_FEATURES = 50
SEED = 20240917


# -- the CSV files, read independently -------------------------------------------------


@pytest.fixture(scope="module")
def ratings(ml_small_dir: Path) -> pd.DataFrame:
    return pd.read_csv(ml_small_dir / "ratings.csv")


@pytest.fixture(scope="module")
def movies(ml_small_dir: Path) -> pd.DataFrame:
    frame = pd.read_csv(ml_small_dir / "movies.csv", dtype={"title": str, "genres": str})
    return frame.sort_values("movieId", ignore_index=True)


@pytest.fixture(scope="module")
def tags(ml_small_dir: Path) -> pd.DataFrame:
    return pd.read_csv(ml_small_dir / "tags.csv", dtype={"tag": str}, keep_default_na=False)


@pytest.fixture(scope="module")
def matrix(ratings: pd.DataFrame) -> RatingMatrix:
    return rating_matrix(ratings)


@pytest.fixture(scope="module")
def item_sim(matrix: RatingMatrix) -> sparse.csr_matrix:
    return cosine_of_columns(matrix.x)


@pytest.fixture(scope="module")
def user_sim(matrix: RatingMatrix) -> sparse.csr_matrix:
    return cosine_of_columns(matrix.x.T)


# -- reference rankings ----------------------------------------------------------------


@dataclass
class Ranked:
    """One row's neighbours ordered by similarity desc, id asc; only the top ``k`` and
    whatever lies within 2 * SIM_TIE of the k-th are kept."""

    ids: np.ndarray
    sims: np.ndarray
    n_total: int  # neighbours with non-zero similarity


def top_with_ties(ids: np.ndarray, sims: np.ndarray, k: int) -> Ranked:
    order = np.lexsort((ids, -sims))
    ids, sims = ids[order], sims[order]
    n_total = len(ids)
    if n_total > k:
        keep = max(k + 1, int(np.searchsorted(-sims, -(sims[k - 1] - 2 * SIM_TIE), side="right")))
        ids, sims = ids[:keep], sims[:keep]
    return Ranked(ids, sims, n_total)


def ranked_rows(s: sparse.csr_matrix, ids: np.ndarray, k: int) -> dict[int, Ranked]:
    """The reference top-k (with ties) of every row of a sparse similarity matrix."""
    out: dict[int, Ranked] = {}
    for row in range(s.shape[0]):
        start, end = s.indptr[row], s.indptr[row + 1]
        out[int(ids[row])] = top_with_ties(ids[s.indices[start:end]], s.data[start:end], k)
    return out


@pytest.fixture(scope="module")
def item_top(item_sim: sparse.csr_matrix, matrix: RatingMatrix) -> dict[int, Ranked]:
    return ranked_rows(item_sim, matrix.movie_ids, K)


@pytest.fixture(scope="module")
def user_top(user_sim: sparse.csr_matrix, matrix: RatingMatrix) -> dict[int, Ranked]:
    return ranked_rows(user_sim, matrix.user_ids, K)


# -- content vectors (scikit-learn) ----------------------------------------------------


@dataclass
class Content:
    movie_ids: np.ndarray
    genre_vectorizer: TfidfVectorizer
    genres: sparse.csr_matrix  # movie x genre term
    tag_vectorizer: TfidfVectorizer
    tags: sparse.csr_matrix  # movie x tag term
    unit: np.ndarray  # L2-normalised stacked vectors, movie x feature (71 columns, dense)


def tag_documents(movies: pd.DataFrame, tags: pd.DataFrame) -> list[str]:
    ordered = tags.sort_values(["timestamp", "userId", "tag"], kind="stable")
    joined = ordered.groupby("movieId", sort=False)["tag"].agg(" ".join)
    return [str(joined.get(movie_id, "")) for movie_id in movies["movieId"]]


@pytest.fixture(scope="module")
def content(movies: pd.DataFrame, tags: pd.DataFrame) -> Content:
    genre_vectorizer = TfidfVectorizer(stop_words="english")
    # A movie marked (no genres listed) has no genre features.
    documents = movies["genres"].str.replace("|", " ", regex=False)
    documents[movies["genres"] == "(no genres listed)"] = ""
    genres = sparse.csr_matrix(genre_vectorizer.fit_transform(documents))
    tag_vectorizer = TfidfVectorizer(stop_words="english", max_features=TAG_MAX_FEATURES)
    tag_matrix = sparse.csr_matrix(tag_vectorizer.fit_transform(tag_documents(movies, tags)))
    stacked = sparse.hstack([GENRE_WEIGHT * genres, TAG_WEIGHT * tag_matrix], format="csr")
    unit = normalize(stacked, norm="l2", axis=1).toarray()  # 9742 x 71: features, not pairs
    return Content(
        movies["movieId"].to_numpy(),
        genre_vectorizer,
        genres,
        tag_vectorizer,
        tag_matrix,
        unit,
    )


def content_top(content: Content, movie_ids: np.ndarray, k: int) -> dict[int, Ranked]:
    """Reference content neighbours of ``movie_ids``, 500 rows of similarities at a time."""
    out: dict[int, Ranked] = {}
    rows = np.searchsorted(content.movie_ids, movie_ids)
    for start in range(0, len(rows), 500):
        block_rows = rows[start : start + 500]
        block = content.unit[block_rows] @ content.unit.T
        block[np.arange(len(block_rows)), block_rows] = 0.0  # a movie is not its own neighbour
        for i, row in enumerate(block_rows):
            (cols,) = np.nonzero(block[i])
            out[int(content.movie_ids[row])] = top_with_ties(
                content.movie_ids[cols], block[i, cols], k
            )
    return out


# -- comparison helpers ----------------------------------------------------------------


def duck_round(values: np.ndarray, places: int) -> np.ndarray:
    """DuckDB's round(x, places) on doubles: scale, round half away from zero, unscale."""
    scale = 10.0**places
    scaled = np.asarray(values, dtype=np.float64) * scale
    return np.trunc(scaled + np.copysign(0.5, scaled)) / scale


def rank_like_sql(
    ids: np.ndarray,
    values: np.ndarray,
    n: int,
    places: int,
    margin: float,
    *,
    in_order: bool = False,
) -> np.ndarray | None:
    """The ids of the top n by (round(value, places) desc, id asc), the SQL's ranking,
    computed from the reference values.

    None when a reference value that decides the result lies within ``margin`` of a
    rounding boundary: the SQL's value, a few ulps away, may round the other way and
    legitimately change it. Without ``in_order`` only the set of the top n is meant,
    decided by the values near the n-th; with it, every value of the top n counts.
    """
    order = np.lexsort((ids, -duck_round(values, places)))
    if len(ids) <= n and not in_order:
        return ids[order]
    cut = values[order[min(n, len(ids)) - 1]]
    cell = 10.0**-places
    window = values >= cut - 2 * cell if in_order else np.abs(values - cut) <= 2 * cell
    near = values[window]
    if (duck_round(near - margin, places) != duck_round(near + margin, places)).any():
        return None
    return ids[order[:n]]


def index_of(ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Positions of ``values`` in the sorted ``ids``; fails on an unknown id."""
    assert values.min() >= 0 and values.max() <= ids.max(), "an id is out of range"
    lookup = np.full(int(ids.max()) + 1, -1, dtype=np.int64)
    lookup[ids] = np.arange(len(ids))
    positions = lookup[values]
    assert (positions >= 0).all(), "an id is unknown"
    return positions


def check_neighbors(
    stored: pd.DataFrame,
    what: str,
    reference: dict[int, Ranked],
    k: int,
    lookup: sparse.csr_matrix,
    ids: np.ndarray,
) -> dict[str, float]:
    """Compare stored top-k neighbour lists (columns id, neighbor_id, similarity, rank,
    sorted by id and rank) with the reference; ``what`` names the ids in messages.

    ``lookup`` (rows and columns indexed by ``ids``) gives the reference similarity of
    any pair. Where the k-th and (k+1)-th reference similarities tie (within SIM_TIE),
    the stored set must be the SQL's tie-break (round(similarity, 12) desc, smaller
    neighbor_id) applied to the reference similarities, unless a tied value sits on a
    rounding boundary; then any choice among the tied neighbours is accepted. Returns
    figures for the report: max abs difference, tied and ambiguous cut-offs.
    """
    keys = stored["id"].to_numpy()
    nbrs = stored["neighbor_id"].to_numpy()
    sims = stored["similarity"].to_numpy()
    ranks = stored["rank"].to_numpy()
    bounds = np.flatnonzero(np.diff(keys)) + 1
    starts = np.r_[0, bounds]
    ends = np.r_[bounds, len(keys)]
    expected_keys = {key_id for key_id, ranked in reference.items() if ranked.n_total > 0}
    assert set(keys[starts].tolist()) == expected_keys, f"{what}s with stored neighbours differ"

    # The similarity stored for a pair is the reference similarity of that pair.
    rows, cols = index_of(ids, keys), index_of(ids, nbrs)
    pair_diff = np.abs(np.asarray(lookup[rows, cols]).ravel() - sims)
    assert pair_diff.max() < TOL, f"stored similarity of a pair off by {pair_diff.max():.3g}"

    max_diff, n_tied_cuts, n_ambiguous = 0.0, 0, 0
    for start, end in zip(starts, ends, strict=True):
        key_id = int(keys[start])
        ref = reference[key_id]
        got_ids, got_sims = nbrs[start:end], sims[start:end]
        n = min(k, ref.n_total)
        assert end - start == n, f"{what} {key_id}: {end - start} neighbours stored, expected {n}"
        assert (ranks[start:end] == np.arange(1, n + 1)).all(), f"{what} {key_id}: ranks not 1..{n}"
        assert len(set(got_ids.tolist())) == n, f"{what} {key_id}: a neighbour is stored twice"
        max_diff = max(max_diff, float(np.abs(got_sims - ref.sims[:n]).max()))
        # rank order: round(similarity, 12) non-increasing, then smaller neighbor_id first
        steps = np.diff(duck_round(got_sims, SIM_PLACES))
        assert (steps <= 0).all(), f"{what} {key_id}: similarity increases with rank"
        tied = steps == 0
        assert (np.diff(got_ids)[tied] > 0).all(), f"{what} {key_id}: ties not by neighbor_id"
        if ref.n_total <= k or ref.sims[k - 1] - ref.sims[k] > SIM_TIE:
            assert set(got_ids.tolist()) == set(ref.ids[:n].tolist()), (
                f"{what} {key_id}: set differs"
            )
        else:  # the k-th and (k+1)-th tie: the smaller ids among the tied ones must stay
            n_tied_cuts += 1
            expected = rank_like_sql(ref.ids, ref.sims, k, SIM_PLACES, SIM_MARGIN)
            got = set(got_ids.tolist())
            if expected is not None:
                assert got == set(expected.tolist()), f"{what} {key_id}: ties not by neighbor_id"
                continue
            n_ambiguous += 1  # rounding noise may decide: any of the tied ones may stay
            surely_in = ref.ids[ref.sims > ref.sims[k] + SIM_TIE]
            may_be_in = ref.ids[ref.sims >= ref.sims[k - 1] - SIM_TIE]
            assert set(surely_in.tolist()) <= got <= set(may_be_in.tolist()), (
                f"{what} {key_id}: neighbours differ beyond ties"
            )
    assert max_diff < TOL, f"stored top-{k} similarities off by {max_diff:.3g}"
    return {
        "max_abs_diff": max(max_diff, float(pair_diff.max())),
        "tied_cuts": n_tied_cuts,
        "ambiguous_cuts": n_ambiguous,
    }


def check_ranked_list(
    got_ids: np.ndarray, got_scores: np.ndarray, ref: pd.Series, n: int, what: str
) -> tuple[float, bool]:
    """Compare a top-n list (ids, scores) with the reference scores of every candidate.

    ``ref`` is indexed by movie_id. The list must be the SQL's ranking, round(score, 10)
    desc then the smaller movie_id, applied to the reference scores. Where a reference
    score that decides the list sits on a rounding boundary, scores within SCORE_TIE are
    interchangeable instead: each position holds a movie whose reference score ties the
    reference score of that position, and untied positions match exactly. Returns the
    max abs score difference and whether the list was compared exactly.
    """
    order = np.lexsort((ref.index.to_numpy(), -ref.to_numpy()))
    ref_ids, ref_scores = ref.index.to_numpy()[order], ref.to_numpy()[order]
    m = min(n, len(ref))
    assert len(got_ids) == m, f"{what}: {len(got_ids)} rows, expected {m}"
    if m == 0:
        return 0.0, True
    assert len(set(got_ids.tolist())) == m, f"{what}: a movie is listed twice"
    # the list's own order: round(score, 10) desc, then movie_id asc
    steps = np.diff(duck_round(got_scores, SCORE_PLACES))
    assert (steps <= 0).all(), f"{what}: scores not in descending order"
    assert (np.diff(got_ids)[steps == 0] > 0).all(), f"{what}: equal scores not by movie_id"
    assert set(got_ids.tolist()) <= set(ref_ids.tolist()), f"{what}: a movie is not a candidate"
    own = np.abs(got_scores - ref.loc[got_ids].to_numpy())
    assert own.max() < TOL, f"{what}: a movie's score is off by {own.max():.3g}"
    diff = np.abs(got_scores - ref_scores[:m])
    assert diff.max() < TOL, f"{what}: scores off by {diff.max():.3g}"
    expected = rank_like_sql(ref_ids, ref_scores, m, SCORE_PLACES, SCORE_MARGIN, in_order=True)
    if expected is not None:
        assert got_ids.tolist() == expected.tolist(), f"{what}: {got_ids} != {expected}"
        return float(max(diff.max(), own.max())), True
    for p in range(m):
        tied = np.abs(ref_scores - ref_scores[p]) <= SCORE_TIE
        if tied.sum() == 1:
            assert got_ids[p] == ref_ids[p], (
                f"{what}: rank {p + 1} is {got_ids[p]}, expected {ref_ids[p]}"
            )
        else:
            assert got_ids[p] in set(ref_ids[tied].tolist()), f"{what}: rank {p + 1} not among ties"
    return float(max(diff.max(), own.max())), False


# -- 1. rating_matrix_stats ------------------------------------------------------------


def test_rating_matrix_stats(small: Recommender, ratings: pd.DataFrame) -> None:
    stats = small.sql("select * from rating_matrix_stats")
    assert len(stats) == 1
    row = stats.iloc[0]
    n_users = ratings["userId"].nunique()
    n_movies = ratings["movieId"].nunique()
    assert (n_users, n_movies, len(ratings)) == (610, 9724, 100836)
    assert (row["n_users"], row["n_movies"], row["n_ratings"]) == (n_users, n_movies, len(ratings))
    density = len(ratings) / (n_users * n_movies)
    assert abs(row["density"] - density) < 1e-15
    assert abs(row["sparsity"] - (1 - density)) < 1e-15
    assert round(row["sparsity"], 5) == 0.98300


# -- 2. movie_stats and user_stats -----------------------------------------------------


STATS_SQL = {
    "movie_stats": "select movie_id as id, * from movie_stats order by movie_id",
    "user_stats": "select user_id as id, * from user_stats order by user_id",
}


@pytest.mark.parametrize(("view", "column"), [("movie_stats", "movieId"), ("user_stats", "userId")])
def test_stats_views(small: Recommender, ratings: pd.DataFrame, view: str, column: str) -> None:
    got = small.sql(STATS_SQL[view])
    grouped = ratings.assign(square=ratings["rating"] ** 2).groupby(column)
    expected = pd.DataFrame(
        {
            "n_ratings": grouped["rating"].count(),
            "mean_rating": grouped["rating"].mean(),
            "stddev_rating": grouped["rating"].std(ddof=1),
            "rating_norm": np.sqrt(grouped["square"].sum()),
        }
    ).sort_index()
    assert got["id"].tolist() == expected.index.tolist(), f"{view}: ids differ"
    assert (got["n_ratings"].to_numpy() == expected["n_ratings"].to_numpy()).all()
    for name in ("mean_rating", "stddev_rating", "rating_norm"):
        a = got[name].to_numpy(dtype="float64")
        b = expected[name].to_numpy(dtype="float64")
        assert (np.isnan(a) == np.isnan(b)).all(), f"{view}.{name}: NULLs differ"
        assert np.nanmax(np.abs(a - b)) < TOL, f"{view}.{name} off by {np.nanmax(np.abs(a - b))}"
    if view == "user_stats":
        seconds = grouped["timestamp"]
        first = pd.to_datetime(got["first_rated_at"]).astype("datetime64[s]").astype("int64")
        last = pd.to_datetime(got["last_rated_at"]).astype("datetime64[s]").astype("int64")
        assert (first.to_numpy() == seconds.min().to_numpy()).all(), "first_rated_at is not UTC"
        assert (last.to_numpy() == seconds.max().to_numpy()).all(), "last_rated_at is not UTC"


# -- 3. item_similarity and user_similarity --------------------------------------------


SIMILARITY_SQL = {
    "item_similarity": "select movie_id as id, neighbor_id, n_common, similarity "
    "from item_similarity",
    "user_similarity": "select user_id as id, neighbor_id, n_common, similarity "
    "from user_similarity",
}


@pytest.mark.parametrize("view", ["item_similarity", "user_similarity"])
def test_similarity_parity(
    small: Recommender, matrix: RatingMatrix, request: pytest.FixtureRequest, view: str
) -> None:
    if view == "item_similarity":
        ids, x, reference = matrix.movie_ids, matrix.x, request.getfixturevalue("item_sim")
    else:
        ids, x, reference = matrix.user_ids, matrix.x.T, request.getfixturevalue("user_sim")
    cols = small.con.sql(SIMILARITY_SQL[view]).fetchnumpy()
    rows, nbrs = index_of(ids, cols["id"]), index_of(ids, cols["neighbor_id"])
    n_rows = len(rows)
    assert not (rows == nbrs).any(), f"{view}: a row pairs an id with itself"
    # One sparse matrix whose cells hold 1 + the row's position: its (row, column) order
    # lays the view's rows out like the reference; a duplicated pair would merge cells.
    where = sparse.csr_matrix((np.arange(1, n_rows + 1), (rows, nbrs)), shape=(len(ids), len(ids)))
    where.sort_indices()
    assert where.nnz == n_rows, f"{view}: {n_rows - where.nnz} duplicated pairs"
    # the same pairs as the non-zero off-diagonal entries of the sparse product
    assert where.nnz == reference.nnz, f"{view}: {where.nnz} pairs, reference {reference.nnz}"
    assert (where.indptr == reference.indptr).all(), f"{view}: pairs differ"
    assert (where.indices == reference.indices).all(), f"{view}: pairs differ"
    order = where.data - 1
    del where, rows, nbrs
    max_diff = float(np.abs(cols["similarity"][order] - reference.data).max())
    assert max_diff < TOL, f"{view}: similarity off by {max_diff:.3g}"
    counts = co_counts(x)
    assert (counts.indptr == reference.indptr).all() and (counts.indices == reference.indices).all()
    assert (cols["n_common"][order] == counts.data).all(), f"{view}: n_common differs"
    print(f"{view}: {n_rows} rows, max abs diff {max_diff:.3g}")


# -- 4. item_neighbors and user_neighbors ----------------------------------------------


NEIGHBORS_SQL = {
    "item_neighbors": "select movie_id as id, neighbor_id, similarity, rank from item_neighbors "
    "order by movie_id, rank",
    "user_neighbors": "select user_id as id, neighbor_id, similarity, rank from user_neighbors "
    "order by user_id, rank",
}


@pytest.mark.parametrize("table", ["item_neighbors", "user_neighbors"])
def test_neighbors_parity(
    small: Recommender, matrix: RatingMatrix, request: pytest.FixtureRequest, table: str
) -> None:
    if table == "item_neighbors":
        what, ids = "movie", matrix.movie_ids
        reference, lookup = request.getfixturevalue("item_top"), request.getfixturevalue("item_sim")
    else:
        what, ids = "user", matrix.user_ids
        reference, lookup = request.getfixturevalue("user_top"), request.getfixturevalue("user_sim")
    stored = small.sql(NEIGHBORS_SQL[table])
    figures = check_neighbors(stored, what, reference, K, lookup, ids)
    print(f"{table}: {figures}")


def test_stored_neighbors_are_the_similarity_views_rows(small: Recommender) -> None:
    # the neighbour tables recompute their winners' similarity after ranking: it must
    # be the views' value to the bit, for the 515,233 stored pairs of ml-latest-small
    found = small.audit()["neighbors_differ_from_similarity"]
    assert found.empty, f"{len(found)} stored neighbours differ from the views:\n{found.head()}"
    (n_stored,) = small.con.sql(
        "select (select count(*) from item_neighbors) + (select count(*) from user_neighbors)"
    ).fetchone() or (0,)
    assert n_stored > 500_000


# -- 5. TF-IDF of genres and tags ------------------------------------------------------


TERMS_SQL = {
    "movie_terms": "select movie_id, term, weight from movie_terms",
    "movie_tag_terms": "select movie_id, term, weight from movie_tag_terms",
}


@pytest.mark.parametrize(
    ("table", "vectorizer", "weights"),
    [("movie_terms", "genre_vectorizer", "genres"), ("movie_tag_terms", "tag_vectorizer", "tags")],
)
def test_tfidf_parity(
    small: Recommender, content: Content, table: str, vectorizer: str, weights: str
) -> None:
    terms = getattr(content, vectorizer).get_feature_names_out()
    expected = getattr(content, weights)
    got = small.sql(TERMS_SQL[table])
    sql_terms = sorted(set(got["term"].tolist()))
    assert len(sql_terms) == len(terms) and sql_terms == sorted(terms.tolist()), (
        f"{table} vocabulary ({len(sql_terms)} terms) {sql_terms} "
        f"differs from scikit-learn's ({len(terms)} terms) {terms.tolist()}"
    )
    rows = index_of(content.movie_ids, got["movie_id"].to_numpy())
    cols = np.searchsorted(terms, got["term"].to_numpy(dtype=object))
    matrix = sparse.csr_matrix((got["weight"].to_numpy(), (rows, cols)), shape=expected.shape)
    matrix.sort_indices()
    expected = expected.copy()
    expected.sort_indices()
    assert matrix.nnz == len(got) == expected.nnz, (
        f"{table}: {len(got)} weights, sklearn {expected.nnz}"
    )
    assert (matrix.indptr == expected.indptr).all() and (matrix.indices == expected.indices).all()
    max_diff = float(np.abs(matrix.data - expected.data).max())
    assert max_diff < 1e-12, f"{table}: weights off by {max_diff:.3g}"
    print(f"{table}: {len(terms)} terms {terms.tolist()}, {len(got)} weights")
    print(f"{table}: max abs diff {max_diff:.3g}")


# -- 6. content_neighbors --------------------------------------------------------------


def test_content_neighbors_parity(small: Recommender, content: Content) -> None:
    rng = np.random.default_rng(SEED)
    chosen = np.sort(rng.choice(content.movie_ids, size=300, replace=False))
    reference = content_top(content, chosen, K)
    stored = small.sql(
        "select movie_id as id, neighbor_id, similarity, rank from content_neighbors "
        "where list_contains(?, movie_id) order by movie_id, rank",
        [chosen.tolist()],
    )
    rows = index_of(content.movie_ids, stored["id"].to_numpy())
    cols = index_of(content.movie_ids, stored["neighbor_id"].to_numpy())
    pair_sims = np.einsum("ij,ij->i", content.unit[rows], content.unit[cols])
    lookup = sparse.csr_matrix((pair_sims, (rows, cols)), shape=(len(content.movie_ids),) * 2)
    figures = check_neighbors(stored, "movie", reference, K, lookup, content.movie_ids)
    print(f"content_neighbors (300 movies): {figures}")


# -- 7. recommendations ----------------------------------------------------------------


@pytest.fixture(scope="module")
def chosen_users(matrix: RatingMatrix) -> list[int]:
    rng = np.random.default_rng(SEED)
    drawn = rng.choice(matrix.user_ids[matrix.user_ids != 1], size=19, replace=False)
    return [1, *sorted(int(u) for u in drawn)]


def neighbourhood(
    ranked: Ranked | None, n: int, stored: np.ndarray, what: str, ambiguous: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """The reference n nearest neighbours (ids, reference similarities), ranked like the
    SQL: round(similarity, 12) desc, then the smaller id; the stored ones must be the same.

    Only where a tied similarity at the n-th place sits on a rounding boundary (so the
    SQL's last bits may legitimately decide) is the stored choice among the tied
    neighbours accepted after checking that it is one, and used with the reference
    similarities.
    """
    if ranked is None or ranked.n_total == 0:
        assert len(stored) == 0, f"{what}: neighbours stored, the reference has none"
        return np.array([], dtype=np.int64), np.array([], dtype=np.float64)
    expected = rank_like_sql(ranked.ids, ranked.sims, n, SIM_PLACES, SIM_MARGIN)
    if expected is not None:
        assert set(stored.tolist()) == set(expected.tolist()), f"{what}: top-{n} neighbours differ"
        keep = np.isin(ranked.ids, expected)
        return ranked.ids[keep], ranked.sims[keep]
    ambiguous.append(what)
    surely = ranked.sims > ranked.sims[n] + SIM_TIE
    maybe = ranked.sims >= ranked.sims[n - 1] - SIM_TIE
    got = set(stored.tolist())
    assert len(got) == len(stored) == n, f"{what}: {len(stored)} neighbours, expected {n}"
    assert set(ranked.ids[surely].tolist()) <= got <= set(ranked.ids[maybe].tolist()), (
        f"{what}: top-{n} neighbours differ beyond ties"
    )
    keep = maybe & np.isin(ranked.ids, stored)
    return ranked.ids[keep], ranked.sims[keep]


def reference_user_based(
    ratings: pd.DataFrame, ids: np.ndarray, sims: np.ndarray, user_id: int
) -> pd.Series:
    """score(u, i) = sum(sim * r) over the positive neighbours who rated i."""
    nbrs = pd.Series(sims, index=ids)
    nbrs = nbrs[nbrs > 0]
    seen = set(ratings.loc[ratings["userId"] == user_id, "movieId"])
    rows = ratings[ratings["userId"].isin(nbrs.index) & ~ratings["movieId"].isin(seen)]
    sim = rows["userId"].map(nbrs)
    parts = pd.DataFrame({"movie_id": rows["movieId"], "num": sim * rows["rating"]})
    return parts.groupby("movie_id")["num"].sum()


def reference_item_based(
    ratings: pd.DataFrame, neighbours: dict[int, tuple[np.ndarray, np.ndarray]], user_id: int
) -> pd.Series:
    """score(u, j) = sum over rated i having j among its neighbours of r_ui * sim(i, j)."""
    own = ratings[ratings["userId"] == user_id]
    seen = set(own["movieId"])
    movie_ids, scores = [], []
    for movie_id, rating in zip(own["movieId"], own["rating"], strict=True):
        ids, sims = neighbours[int(movie_id)]
        movie_ids.append(ids)
        scores.append(rating * sims)
    parts = pd.Series(np.concatenate(scores), index=np.concatenate(movie_ids))
    parts = parts[~parts.index.isin(seen)]
    return parts.groupby(level=0).sum()


STORED_SQL = {
    "user_neighbors": "select user_id as id, neighbor_id from user_neighbors "
    "where rank <= ? and list_contains(?, user_id) order by user_id, rank",
    "item_neighbors": "select movie_id as id, neighbor_id from item_neighbors "
    "where rank <= ? and list_contains(?, movie_id) order by movie_id, rank",
    "content_neighbors": "select movie_id as id, neighbor_id from content_neighbors "
    "where rank <= ? and list_contains(?, movie_id) order by movie_id, rank",
}


def stored_lists(small: Recommender, table: str, ids: list[int], n: int) -> dict[int, np.ndarray]:
    """The first n stored neighbour ids of each of ``ids`` (only to resolve tied cut-offs)."""
    frame = small.sql(STORED_SQL[table], [n, ids])
    lists = frame.groupby("id")["neighbor_id"].agg(lambda s: s.to_numpy())
    return {key_id: lists.get(key_id, np.array([], dtype=np.int64)) for key_id in ids}


@pytest.fixture(scope="module")
def reference_recommendations(
    small: Recommender,
    ratings: pd.DataFrame,
    chosen_users: list[int],
    user_top: dict[int, Ranked],
    item_top: dict[int, Ranked],
    content: Content,
) -> dict[tuple[str, int], pd.Series]:
    rated = sorted(
        int(m) for m in ratings.loc[ratings["userId"].isin(chosen_users), "movieId"].unique()
    )
    tops = {"item": item_top, "content": content_top(content, np.array(rated), N_ITEM_NEIGHBORS)}
    ambiguous: dict[str, list[str]] = {"user": [], "item": [], "content": []}
    stored_users = stored_lists(small, "user_neighbors", chosen_users, N_SIMILAR_USERS)
    neighbours = {
        method: {
            movie_id: neighbourhood(
                tops[method].get(movie_id),
                N_ITEM_NEIGHBORS,
                stored[movie_id],
                f"{method} neighbours of movie {movie_id}",
                ambiguous[method],
            )
            for movie_id in rated
        }
        for method, stored in (
            ("item", stored_lists(small, "item_neighbors", rated, N_ITEM_NEIGHBORS)),
            (
                "content",
                stored_lists(small, "content_neighbors", rated, N_ITEM_NEIGHBORS),
            ),
        )
    }
    out: dict[tuple[str, int], pd.Series] = {}
    for user_id in chosen_users:
        ids, sims = neighbourhood(
            user_top[user_id],
            N_SIMILAR_USERS,
            stored_users[user_id],
            f"user {user_id}",
            ambiguous["user"],
        )
        out["user", user_id] = reference_user_based(ratings, ids, sims, user_id)
        out["item", user_id] = reference_item_based(ratings, neighbours["item"], user_id)
        out["content", user_id] = reference_item_based(ratings, neighbours["content"], user_id)
    print(
        "neighbour cut-offs on a rounding boundary (stored choice accepted): "
        + ", ".join(f"{method} {len(cuts)}" for method, cuts in ambiguous.items())
    )
    return out


METHOD_NAMES = {"user": "user_based", "item": "item_based", "content": "content_based"}
SCORE_COLUMNS = {"user": "score", "item": "score", "content": "score"}


@pytest.mark.parametrize("method", ["user", "item", "content"])
def test_recommendations_parity(
    small: Recommender,
    chosen_users: list[int],
    reference_recommendations: dict[tuple[str, int], pd.Series],
    method: str,
) -> None:
    """The macro's top 10 and the recommendations table's top 20 (N_RECOMMENDATIONS)
    equal the reference, for each chosen user."""
    table = small.sql(
        "select user_id, rank, movie_id, score from recommendations "
        "where method = ? and list_contains(?, user_id) order by user_id, rank",
        [METHOD_NAMES[method], chosen_users],
    )
    k = N_SIMILAR_USERS if method == "user" else N_ITEM_NEIGHBORS
    max_diff, n_lists, n_exact = 0.0, 0, 0
    for user_id in chosen_users:
        ref = reference_recommendations[method, user_id]
        assert len(ref) >= 10, f"user {user_id} has fewer than 10 {method}-based candidates"
        got = small.recommend(user_id, n=10, method=method, k=k)  # type: ignore[arg-type]
        mart = table[table["user_id"] == user_id]
        n_mart = min(N_RECOMMENDATIONS, len(ref))
        assert mart["rank"].tolist() == list(range(1, n_mart + 1)), (
            f"recommendations table, {method}, user {user_id}: ranks {mart['rank'].tolist()}"
        )
        exact_lists = []
        for got_ids, got_scores, n, label in (
            (
                got["movie_id"].to_numpy(),
                got[SCORE_COLUMNS[method]].to_numpy(dtype="float64"),
                10,
                f"recommend_{METHOD_NAMES[method]}({user_id})",
            ),
            (
                mart["movie_id"].to_numpy(),
                mart["score"].to_numpy(dtype="float64"),
                N_RECOMMENDATIONS,
                f"recommendations table, {METHOD_NAMES[method]}, user {user_id}",
            ),
        ):
            diff, exact = check_ranked_list(got_ids, got_scores, ref, n, label)
            max_diff, n_lists, n_exact = max(max_diff, diff), n_lists + 1, n_exact + exact
            exact_lists.append(exact)
        # the table's ranks 1..10 are the macro's list (up to ties, as checked above)
        gap = np.abs(
            mart["score"].to_numpy(dtype="float64")[:10]
            - got[SCORE_COLUMNS[method]].to_numpy(dtype="float64")
        )
        assert gap.max() < TOL, f"{method}, user {user_id}: table and macro scores differ"
        if all(exact_lists):
            assert mart["movie_id"].tolist()[:10] == got["movie_id"].tolist(), (
                f"{method}, user {user_id}: recommendations table and macro disagree"
            )
    print(
        f"{method}-based, {len(chosen_users)} users: max abs score diff {max_diff:.3g}, "
        f"{n_exact} of {n_lists} lists compared exactly (others up to ties)"
    )


def test_popularity_recommendations_parity(
    small: Recommender, ratings: pd.DataFrame, chosen_users: list[int]
) -> None:
    """recommend_popular (which reads the materialised popular_movies) and the
    recommendations table's popularity lists equal pandas: the most rated movies the
    user has not rated, equal counts by the smaller movie_id."""
    counts = ratings.groupby("movieId").size()
    order = sorted(counts.index, key=lambda movie: (-counts[movie], movie))
    table = small.sql(
        "select user_id, movie_id, score from recommendations "
        "where method = 'popularity' and list_contains(?, user_id) order by user_id, rank",
        [chosen_users],
    )
    for user_id in chosen_users:
        rated = set(ratings.loc[ratings["userId"] == user_id, "movieId"])
        expected = [movie for movie in order if movie not in rated][:N_RECOMMENDATIONS]
        got = small.recommend(user_id, n=N_RECOMMENDATIONS, method="popularity")
        assert got["movie_id"].tolist() == expected, f"recommend_popular({user_id})"
        assert got["score"].tolist() == [float(counts[movie]) for movie in expected]
        mart = table[table["user_id"] == user_id]
        assert mart["movie_id"].tolist() == expected, f"recommendations table, user {user_id}"


# -- 8. evaluation ---------------------------------------------------------------------


@dataclass
class Evaluation:
    predictions: pd.DataFrame
    recommendations: pd.DataFrame
    test: pd.DataFrame
    rating_metrics: pd.DataFrame
    ranking_metrics: pd.DataFrame


@pytest.fixture(scope="module")
def holdout(small: Recommender) -> Iterator[Evaluation]:
    small.evaluate("holdout")
    yield Evaluation(
        small.sql("select * from eval_predictions where split = 'holdout'"),
        small.sql("select * from eval_recommendations where split = 'holdout'"),
        small.sql("select * from eval_test_ratings where split = 'holdout'"),
        small.sql("select * from eval_rating_metrics where split = 'holdout'").set_index("method"),
        small.sql(
            "select * from eval_ranking_metrics where split = 'holdout' and k = 10"
        ).set_index("method"),
    )


def test_holdout_split(holdout: Evaluation, ratings: pd.DataFrame) -> None:
    test = holdout.test
    merged = test.merge(
        ratings, left_on=["user_id", "movie_id"], right_on=["userId", "movieId"], how="left"
    )
    assert merged["userId"].notna().all(), "a test row is not a rating"
    assert (merged["rating_x"] == merged["rating_y"]).all(), (
        "a test rating differs from ratings.csv"
    )
    assert not test.duplicated(["user_id", "movie_id"]).any()
    assert (test["is_relevant"] == (test["rating"] >= 4.0)).all()
    n_user = ratings.groupby("userId").size()
    n_test = test.groupby("user_id").size().reindex(n_user.index, fill_value=0)
    assert (n_test == n_user // 5).all(), "a user's test size is not floor(0.2 * n_ratings)"
    # The documented order: md5('42:user:movie') then movie_id; the first floor(0.2 n) are test.
    keys = [
        hashlib.md5(f"42:{u}:{m}".encode()).hexdigest()  # noqa: S324 (not security)
        for u, m in zip(ratings["userId"], ratings["movieId"], strict=True)
    ]
    ordered = ratings.assign(key=keys).sort_values(["userId", "key", "movieId"])
    position = ordered.groupby("userId").cumcount()
    expected = ordered[position < ordered["userId"].map(n_user // 5)]
    assert set(zip(expected["userId"], expected["movieId"], strict=True)) == set(
        zip(test["user_id"], test["movie_id"], strict=True)
    ), "the held-out set is not the documented md5 order"
    # No recommendation was rated by the user in train (train = ratings - test).
    train = ratings[
        ~pd.MultiIndex.from_frame(ratings[["userId", "movieId"]]).isin(
            pd.MultiIndex.from_frame(test[["user_id", "movie_id"]])
        )
    ]
    assert len(train) + len(test) == len(ratings)
    leaks = holdout.recommendations.merge(
        train, left_on=["user_id", "movie_id"], right_on=["userId", "movieId"]
    )
    assert leaks.empty, f"{len(leaks)} recommended movies were rated in train"
    assert len(holdout.recommendations) > 0


def test_rating_metrics(holdout: Evaluation) -> None:
    predictions = holdout.predictions
    n_test = len(holdout.test)
    # every default model but popularity (it only ranks) predicts ratings
    assert set(predictions["method"]) == set(DEFAULT_MODELS) - {"popularity"}
    for method, rows in predictions.groupby("method"):
        assert len(rows) == n_test, f"{method}: {len(rows)} prediction rows for {n_test} test pairs"
        known = rows[rows["predicted_rating"].notna()]
        assert len(known) > 0
        rmse = float(np.sqrt(mean_squared_error(known["rating"], known["predicted_rating"])))
        mae = float(mean_absolute_error(known["rating"], known["predicted_rating"]))
        got = holdout.rating_metrics.loc[method]
        assert got["n_predicted"] == len(known)
        assert abs(got["rmse"] - rmse) < TOL, f"{method}: rmse {got['rmse']} vs sklearn {rmse}"
        assert abs(got["mae"] - mae) < TOL, f"{method}: mae {got['mae']} vs sklearn {mae}"
        print(f"{method}: rmse {rmse:.6f} mae {mae:.6f} coverage {len(known) / n_test:.4f}")


def test_ranking_metrics(holdout: Evaluation) -> None:
    test = holdout.test
    relevant = test[test["rating"] >= 4.0].groupby("user_id")["movie_id"].agg(set)
    n_cut = 10
    discounts = 1.0 / np.log2(np.arange(2, n_cut + 2))
    methods = sorted(set(holdout.recommendations["method"]))
    # The foundation methods and the ranking methods of ranking_models' defaults.
    assert methods == sorted([*FOUNDATION_METHODS, "item_knn", "item_ridge", "rp3beta"])
    for method in methods:
        recs = holdout.recommendations[holdout.recommendations["method"] == method]
        ranks = recs.groupby("user_id")["rank"].agg(
            lambda r: sorted(r) == list(range(1, len(r) + 1))
        )
        assert ranks.all(), f"{method}: a user's ranks are not 1..n"
        lists = recs.sort_values(["user_id", "rank"]).groupby("user_id")["movie_id"].agg(list)
        precision, recall, ndcg, ap, hit, rr = [], [], [], [], [], []
        for user_id, truth in relevant.items():
            top = lists.get(user_id, [])[:n_cut]
            hits = np.array([movie_id in truth for movie_id in top], dtype=bool)
            precision.append(hits.sum() / n_cut)
            recall.append(hits.sum() / len(truth))
            ideal = discounts[: min(len(truth), n_cut)].sum()
            ndcg.append(discounts[: len(hits)][hits].sum() / ideal)
            precision_at_hits = np.cumsum(hits)[hits] / (np.flatnonzero(hits) + 1)
            ap.append(precision_at_hits.sum() / min(len(truth), n_cut))
            hit.append(float(hits.any()))
            rr.append(1 / (np.argmax(hits) + 1) if hits.any() else 0.0)
        got = holdout.ranking_metrics.loc[method]
        assert got["n_users"] == len(relevant)
        for name, values in (
            ("precision_at_k", precision),
            ("recall_at_k", recall),
            ("ndcg_at_k", ndcg),
            ("map_at_k", ap),
            ("hit_rate_at_k", hit),
            ("mrr_at_k", rr),
        ):
            expected = float(np.mean(values))
            assert abs(got[name] - expected) < TOL, f"{method} {name}: {got[name]} vs {expected}"
        print(
            f"{method}@10: precision {np.mean(precision):.6f} recall {np.mean(recall):.6f} "
            f"ndcg {np.mean(ndcg):.6f} over {len(relevant)} users"
        )
