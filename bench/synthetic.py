"""Seeded synthetic rating data shaped like MovieLens, cached as parquet.

Sizes (users and movies approximate MovieLens 1M, 10M and 25M; the rating count is
exact):

=====  =======  ======  ==========
name   users    movies  ratings
=====  =======  ======  ==========
1M       6,000   4,000   1,000,000
10M     70,000  10,000  10,000,000
25M    162,000  59,000  25,000,000
=====  =======  ======  ==========

Everything is drawn from one ``numpy.random.default_rng(seed)``, in this order:

* **User activity** (ratings per user) is log-normal with a floor of 20, as in
  MovieLens: ``n_u = 20 + e`` with ``e ~ LogNormal(mu, sigma=1.3)``, ``mu`` chosen so
  that the mean of ``e`` is ``n_ratings / n_users - 20``. The ``e`` are then scaled so
  that the ``n_u`` add up to exactly ``n_ratings`` (rounded by largest remainder), and
  capped at half the catalogue (``n_movies // 2``, the excess spread over the others).
* **Movie popularity** is Zipf-like: the movie of popularity rank ``r`` (1-based) has
  weight ``w_r = (r + b)^-a`` with ``a = 1.2`` and ``b = 0.02 * n_movies`` (the offset
  flattens the head so the top movie gets ~0.3-0.6% of the ratings, as in MovieLens),
  and movie ids are a random permutation of the ranks (an id says nothing about
  popularity).
* **Which movies a user rated**: ``n_u`` distinct movies drawn by successive weighted
  sampling without replacement with weights ``w`` (each next movie with probability
  proportional to its weight among those not yet drawn). Light users take the first
  ``n_u`` distinct movies of a stream of independent draws; heavy users (whose stream
  would be long) the ``n_u`` smallest Efraimidis-Spirakis keys ``Exp(1) / w``, which
  has the same distribution. No (user, movie) pair appears twice.
* **Ratings** come from a latent score ``0.6 q_i + b_u + t_u . t_i + noise``: movie
  quality ``q_i ~ N(0, 1)`` correlated 0.5 with log popularity, user bias
  ``b_u ~ N(0, 0.5^2)``, 4 taste factors ``t ~ N(0, 0.5^2)`` per user and per movie
  (so that rating vectors of similar movies correlate and similarities are not pure
  noise), ``noise ~ N(0, 0.8^2)``. The scores are cut at their quantiles into half
  stars 0.5 .. 5.0 with MovieLens 25M's shares (:data:`RATING_SHARES`, mode 4.0).

Content for the content neighbours (:func:`seeded_tags`, a stream of its own, so the
ratings above stay as they were): about 16% of the movies are tagged, each with
``1 + Geometric`` tags (mean 2.3), words drawn Zipf-like from a vocabulary of 1,500,
the shares of ml-latest-small (1,572 of 9,742 movies tagged, 3,683 tags, 1,589 distinct
words). Genres are drawn by ``bench/bench_increment.py`` (1 to 3 of MovieLens' 19).

Generation is vectorised numpy (loops only over chunks of users, and over rounds of
top-up draws), int32 / float32 per rating, and writes
``data/synthetic/ratings_<name>_seed<seed>_v<GENERATOR_VERSION>.parquet``
(``user_id``, ``movie_id``, ``rating``; sorted by user then movie) through DuckDB.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

#: Bump when the distributions or their parameters change, so old caches are not reused.
GENERATOR_VERSION = 1
MIN_RATINGS_PER_USER = 20
USER_SIGMA = 1.3
MAX_USER_SHARE = 0.5
ZIPF_EXPONENT = 1.2
ZIPF_OFFSET_SHARE = 0.02
N_TASTE_FACTORS = 4
#: Shares of the half stars 0.5, 1.0, ..., 5.0 (MovieLens 25M, rounded).
RATING_SHARES = (0.016, 0.031, 0.016, 0.066, 0.050, 0.196, 0.127, 0.266, 0.085, 0.147)
#: Draws per chunk of light users, and keys per chunk of heavy users: bounds the memory.
DRAWS_PER_CHUNK = 4_000_000
MAX_TOP_UP_ROUNDS = 100

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


#: Seeded tags (:func:`seeded_tags`): the share of movies tagged, the mean number of
#: tags of a tagged movie, the vocabulary and the Zipf exponent of its words.
TAGGED_SHARE = 0.16
TAGS_PER_TAGGED_MOVIE = 2.34
TAG_VOCABULARY = 1_500
TAG_ZIPF_EXPONENT = 1.0


@dataclass(frozen=True)
class Size:
    name: str
    n_users: int
    n_movies: int
    n_ratings: int


SIZES = {
    s.name: s
    for s in (
        Size("1M", 6_000, 4_000, 1_000_000),
        Size("10M", 70_000, 10_000, 10_000_000),
        Size("25M", 162_000, 59_000, 25_000_000),
    )
}


@dataclass(frozen=True)
class Ratings:
    """Ratings as parallel arrays, sorted by (user_id, movie_id)."""

    user_id: npt.NDArray[np.int32]
    movie_id: npt.NDArray[np.int32]
    rating: npt.NDArray[np.float32]


def cache_path(size: Size, seed: int, root: Path) -> Path:
    """Where the parquet file of ``size`` and ``seed`` is cached under ``root``."""
    return root / f"ratings_{size.name}_seed{seed}_v{GENERATOR_VERSION}.parquet"


def load_or_generate(size: Size, seed: int, root: Path) -> tuple[Ratings, Path, float | None]:
    """The cached ratings, generating and caching them first if needed.

    Returns the ratings, the parquet path and the generation seconds (None if cached).
    """
    import duckdb
    import pandas as pd

    path = cache_path(size, seed, root)
    seconds = None
    if not path.is_file():
        start = time.perf_counter()
        ratings = generate(size, seed)
        seconds = time.perf_counter() - start
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        frame = pd.DataFrame(
            {"user_id": ratings.user_id, "movie_id": ratings.movie_id, "rating": ratings.rating}
        )
        with duckdb.connect() as con:
            con.from_df(frame).write_parquet(str(partial))
        os.replace(partial, path)
    with duckdb.connect() as con:
        columns = con.read_parquet(str(path)).fetchnumpy()
    ratings = Ratings(
        user_id=np.asarray(columns["user_id"], dtype=np.int32),
        movie_id=np.asarray(columns["movie_id"], dtype=np.int32),
        rating=np.asarray(columns["rating"], dtype=np.float32),
    )
    return ratings, path, seconds


def generate(size: Size, seed: int) -> Ratings:
    """Draw the ratings of ``size`` with ``default_rng(seed)`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    counts = user_counts(rng, size.n_users, size.n_movies, size.n_ratings)
    rank_weight = zipf_weights(size.n_movies)
    rank_of_movie = rng.permutation(size.n_movies)  # movie index -> popularity rank
    weight = rank_weight[rank_of_movie]
    keys = sample_movies(rng, counts, weight)  # sorted user * n_movies + movie
    users = (keys // size.n_movies).astype(np.int32)
    movies = (keys % size.n_movies).astype(np.int32)
    del keys
    rating = draw_ratings(rng, size.n_users, users, movies, np.log(weight))
    return Ratings(user_id=users + 1, movie_id=movies + 1, rating=rating)


def user_counts(rng: np.random.Generator, n_users: int, n_movies: int, n_ratings: int) -> IntArray:
    """Ratings per user: 20 + log-normal, summing to ``n_ratings``, capped at half the movies."""
    floor = MIN_RATINGS_PER_USER
    cap = int(n_movies * MAX_USER_SHARE)
    extra_total = n_ratings - floor * n_users
    if extra_total < 0 or n_ratings > cap * n_users:
        raise ValueError(f"{n_ratings} ratings do not fit {n_users} users of {floor}..{cap}")
    mean_extra = extra_total / n_users
    mu = np.log(mean_extra) - USER_SIGMA**2 / 2
    extra = rng.lognormal(mu, USER_SIGMA, size=n_users)
    capped = np.zeros(n_users, dtype=bool)
    for _ in range(n_users):  # each pass caps at least one more user; a few passes suffice
        free_total = extra_total - (cap - floor) * capped.sum()
        extra = np.where(capped, cap - floor, extra * free_total / extra[~capped].sum())
        over = ~capped & (extra > cap - floor)
        if not over.any():
            break
        capped |= over
    counts = np.floor(extra).astype(np.int64)
    short = extra_total - int(counts.sum())
    if short:
        remainder = np.where(capped, -1.0, extra - counts)
        counts[np.argsort(-remainder, kind="stable")[:short]] += 1
    return counts + floor


def zipf_weights(n_movies: int) -> FloatArray:
    """Weights ``(r + b)^-a`` of popularity ranks ``r = 1..n_movies``, summing to 1."""
    ranks = np.arange(1, n_movies + 1, dtype=np.float64)
    weights = (ranks + ZIPF_OFFSET_SHARE * n_movies) ** -ZIPF_EXPONENT
    return weights / weights.sum()


def expected_draws(counts: IntArray, weight: FloatArray) -> FloatArray:
    """Independent draws needed for ``counts`` distinct movies on average.

    ``m`` draws with probabilities ``p`` give ``D(m) = sum_i 1 - (1 - p_i)^m`` distinct
    movies on average; ``D`` is evaluated on a grid and inverted by interpolation.
    """
    grid = np.geomspace(1, 1e9, 400)
    distinct = np.array([(-np.expm1(m * np.log1p(-weight))).sum() for m in grid])
    return np.interp(counts, distinct, grid, right=np.inf)


def sample_movies(rng: np.random.Generator, counts: IntArray, weight: FloatArray) -> IntArray:
    """Keys ``user * n_movies + movie`` of ``counts[u]`` distinct movies per user, sorted.

    Successive weighted sampling without replacement: users whose expected stream of
    independent draws is short take its first distinct movies; the others take the
    smallest keys ``Exp(1) / w`` over the whole catalogue.
    """
    n_movies = weight.size
    draws = np.ceil(expected_draws(counts, weight) * 1.1 + 8)
    heavy = draws > n_movies / 4
    chunks: list[IntArray] = []
    light = np.flatnonzero(~heavy)
    for part in _chunks(light, draws[light]):
        chunks.append(_sample_light(rng, part, counts[part], draws[part], weight))
    heavy_users = np.flatnonzero(heavy)
    for part in _chunks(heavy_users, np.full(heavy_users.size, float(n_movies))):
        chunks.append(_sample_heavy(rng, part, counts[part], weight))
    # Light and heavy users interleave: one sort puts every key in (user, movie) order.
    return np.sort(np.concatenate(chunks))


def _chunks(users: IntArray, cost: FloatArray) -> list[IntArray]:
    """Consecutive runs of ``users`` whose summed ``cost`` is about DRAWS_PER_CHUNK."""
    chunk_of = (np.cumsum(cost) - cost) // DRAWS_PER_CHUNK
    return [part for part in np.split(users, np.flatnonzero(np.diff(chunk_of)) + 1) if part.size]


def _sample_light(
    rng: np.random.Generator,
    users: IntArray,
    counts: IntArray,
    draws: FloatArray,
    weight: FloatArray,
) -> IntArray:
    """The first ``counts[u]`` distinct movies of a stream of draws from ``weight``."""
    n_movies = weight.size
    cdf = np.cumsum(weight)
    cdf[-1] = np.inf  # rounding must never draw past the last movie
    kept = np.empty(0, dtype=np.int64)  # accepted keys, in draw order within each user
    kept_local = np.empty(0, dtype=np.int64)
    want = draws.astype(np.int64)
    pending = np.arange(users.size)
    for _ in range(MAX_TOP_UP_ROUNDS):
        local = np.repeat(pending, want[pending])
        movies = np.searchsorted(cdf, rng.random(local.size, dtype=np.float64), side="right")
        keys = np.concatenate([kept, users[local] * n_movies + movies])
        owner = np.concatenate([kept_local, local])
        _, first = np.unique(keys, return_index=True)
        first.sort()  # draw order; old keys come before every new draw
        order = first[np.argsort(owner[first], kind="stable")]
        owner_sorted = owner[order]
        rank = np.arange(order.size) - np.searchsorted(owner_sorted, owner_sorted)
        keep = order[rank < counts[owner_sorted]]
        kept, kept_local = keys[keep], owner[keep]
        have = np.bincount(kept_local, minlength=users.size)
        pending = np.flatnonzero(have < counts)
        if pending.size == 0:
            return np.sort(kept)
        # Top up: about twice the draws the missing movies took so far, per user.
        missing = counts[pending] - have[pending]
        want[pending] = np.ceil(2 * missing * draws[pending] / np.maximum(have[pending], 1) + 8)
    raise RuntimeError(f"sampling did not converge in {MAX_TOP_UP_ROUNDS} rounds")


def _sample_heavy(
    rng: np.random.Generator, users: IntArray, counts: IntArray, weight: FloatArray
) -> IntArray:
    """The ``counts[u]`` smallest Efraimidis-Spirakis keys ``Exp(1) / w`` per user."""
    n_movies = weight.size
    keys = rng.standard_exponential((users.size, n_movies), dtype=np.float32) / weight.astype(
        np.float32
    )
    order = np.argsort(keys, axis=1)
    del keys
    picked = np.arange(n_movies) < counts[:, None]
    rows, ranks = np.nonzero(picked)
    return np.sort(users[rows] * n_movies + order[rows, ranks])


def draw_ratings(
    rng: np.random.Generator,
    n_users: int,
    users: npt.NDArray[np.int32],
    movies: npt.NDArray[np.int32],
    log_weight: FloatArray,
) -> npt.NDArray[np.float32]:
    """Half stars from the latent score of the module docstring, cut at its quantiles."""
    n_movies = log_weight.size
    popularity = (log_weight - log_weight.mean()) / log_weight.std()
    quality = 0.5 * popularity + np.sqrt(0.75) * rng.standard_normal(n_movies)
    bias = 0.5 * rng.standard_normal(n_users)
    movie_term = (0.6 * quality).astype(np.float32)
    score = movie_term[movies] + bias.astype(np.float32)[users]
    user_taste = (0.5 * rng.standard_normal((N_TASTE_FACTORS, n_users))).astype(np.float32)
    movie_taste = (0.5 * rng.standard_normal((N_TASTE_FACTORS, n_movies))).astype(np.float32)
    for f in range(N_TASTE_FACTORS):
        score += user_taste[f][users] * movie_taste[f][movies]
    score += rng.standard_normal(score.size, dtype=np.float32) * np.float32(0.8)
    cuts = np.quantile(score, np.cumsum(RATING_SHARES)[:-1])
    stars = np.searchsorted(cuts, score, side="right").astype(np.float32)
    return (stars + 1) * np.float32(0.5)


def seeded_tags(movie_ids: IntArray, seed: int) -> tuple[IntArray, npt.NDArray[np.str_]]:
    """Tags of the movies ``movie_ids`` (see the module docstring): one row per tag
    application, as parallel arrays (movie_id, tag), from ``default_rng([seed, 1])``."""
    rng = np.random.default_rng([seed, 1])
    tagged = movie_ids[rng.random(movie_ids.size) < TAGGED_SHARE]
    counts = rng.geometric(1 / TAGS_PER_TAGGED_MOVIE, size=tagged.size)
    movie_id = np.repeat(tagged, counts).astype(np.int64)
    weights = np.arange(1, TAG_VOCABULARY + 1, dtype=np.float64) ** -TAG_ZIPF_EXPONENT
    words = rng.choice(TAG_VOCABULARY, size=movie_id.size, p=weights / weights.sum())
    return movie_id, np.char.add("tag", words.astype(str))
