"""Hand-worked answers on tests/data/tiny (3 users, 5 movies, 7 ratings).

    user 1: movie 1 = 5.0, movie 2 = 3.0
    user 2: movie 1 = 4.0, movie 3 = 2.0
    user 3: movie 2 = 1.0, movie 3 = 5.0, movie 4 = 4.0
    movie 5 has no rating and '(no genres listed)'.

Rating-vector norms: movies sqrt(41), sqrt(10), sqrt(29), 4; users sqrt(34), sqrt(20),
sqrt(42). Every expected value below is worked out from these by hand.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
import pytest
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from recsys_duck import NotFoundError, Recommender, RecsysError
from recsys_duck.params import FOUNDATION_METHODS
from recsys_duck.sql import apply_layers

# The ranking methods of the default ranking_models rows.
RANKING = ("item_knn", "item_ridge", "rp3beta")


@contextmanager
def _built_from(*inserts: str) -> Iterator[Recommender]:
    """An in-memory recommender built on rows inserted by the given statements."""
    with Recommender() as rec:
        apply_layers(rec.con, ["00_tables"])
        for statement in inserts:
            rec.sql(statement)
        rec.build()
        yield rec


SIM_12 = 15 / math.sqrt(41 * 10)  # movie 1 x movie 2: user 1 rated both, 5 * 3
SIM_13 = 8 / math.sqrt(41 * 29)  # user 2: 4 * 2
SIM_23 = 5 / math.sqrt(10 * 29)  # user 3: 1 * 5
SIM_24 = 4 / (math.sqrt(10) * 4)  # user 3: 1 * 4
SIM_34 = 20 / (math.sqrt(29) * 4)  # user 3: 5 * 4
USIM_12 = 20 / math.sqrt(34 * 20)  # users 1 x 2: movie 1, 5 * 4
USIM_13 = 3 / math.sqrt(34 * 42)  # movie 2, 3 * 1
USIM_23 = 10 / math.sqrt(20 * 42)  # movie 3, 2 * 5


def test_tables_load_the_tiny_files(tiny: Recommender) -> None:
    movies = tiny.sql("select movie_id, title, genres, year from movies order by movie_id")
    assert movies["title"].tolist()[1] == "Beta, The (2001)"  # a quoted title with a comma
    assert movies["year"].tolist()[:2] == [1999, 2001]
    assert pd.isna(movies["year"][2])  # 'Gamma' has no year
    links = tiny.sql("select imdb_id, tmdb_id from links where movie_id = 2")
    assert links["imdb_id"][0] == "0000002"
    assert links["tmdb_id"].isna()[0]


def test_movie_genres_unnests_and_drops_no_genres(tiny: Recommender) -> None:
    rows = tiny.sql("select movie_id, genre from movie_genres order by movie_id, genre")
    assert list(rows.itertuples(index=False, name=None)) == [
        (1, "Comedy"),
        (1, "Drama"),
        (2, "Comedy"),
        (3, "Drama"),
        (3, "Sci-Fi"),
        (4, "Sci-Fi"),
    ]


def test_rating_matrix_stats(tiny: Recommender) -> None:
    stats = tiny.stats().iloc[0]
    assert (stats["n_users"], stats["n_movies"], stats["n_ratings"]) == (3, 4, 7)
    assert stats["density"] == pytest.approx(7 / 12, abs=1e-15)
    assert stats["sparsity"] == pytest.approx(5 / 12, abs=1e-15)


def test_movie_and_user_stats(tiny: Recommender) -> None:
    movies = tiny.movie_stats().set_index("movie_id")
    assert movies.loc[1, "n_ratings"] == 2
    assert movies.loc[1, "mean_rating"] == pytest.approx(4.5)
    assert movies.loc[3, "rating_norm"] == pytest.approx(math.sqrt(29), abs=1e-12)
    users = tiny.user_stats().set_index("user_id")
    assert users.loc[3, "rating_norm"] == pytest.approx(math.sqrt(42), abs=1e-12)
    assert users.loc[3, "mean_rating"] == pytest.approx(10 / 3)


def test_item_co_ratings_and_similarity(tiny: Recommender) -> None:
    co = tiny.sql("select * from item_co_ratings order by movie_id, neighbor_id")
    assert len(co) == 10  # five co-rated pairs, both directions; 1 and 4 share no user
    pair = co[(co.movie_id == 3) & (co.neighbor_id == 4)].iloc[0]
    assert (pair["n_common"], pair["dot_product"]) == (1, 20.0)
    sim = tiny.sql("select movie_id, neighbor_id, similarity from item_similarity")
    got = {(r.movie_id, r.neighbor_id): r.similarity for r in sim.itertuples()}
    expected = {(1, 2): SIM_12, (1, 3): SIM_13, (2, 3): SIM_23, (2, 4): SIM_24, (3, 4): SIM_34}
    expected |= {(j, i): s for (i, j), s in expected.items()}
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key
    # item_pair_similarity is the first-id-smaller half, with the same bits
    half = tiny.sql("select movie_id, neighbor_id, n_common, similarity from item_pair_similarity")
    assert {(r.movie_id, r.neighbor_id): r.similarity for r in half.itertuples()} == {
        key: got[key] for key in got if key[0] < key[1]
    }


def test_user_pair_similarity_is_the_smaller_id_half(tiny: Recommender) -> None:
    both = tiny.sql("select * exclude (rank_key) from user_similarity where user_id < neighbor_id")
    half = tiny.sql("select * from user_pair_similarity")
    key = ["user_id", "neighbor_id"]
    pd.testing.assert_frame_equal(
        half.sort_values(key).reset_index(drop=True), both.sort_values(key).reset_index(drop=True)
    )


def test_user_similarity(tiny: Recommender) -> None:
    sim = tiny.sql("select user_id, neighbor_id, n_common, similarity from user_similarity")
    got = {(r.user_id, r.neighbor_id): (r.n_common, r.similarity) for r in sim.itertuples()}
    expected = {(1, 2): USIM_12, (1, 3): USIM_13, (2, 3): USIM_23}
    expected |= {(j, i): s for (i, j), s in expected.items()}
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key][0] == 1
        assert got[key][1] == pytest.approx(value, abs=1e-12), key


def test_item_neighbors_are_ranked_top_k(tiny: Recommender) -> None:
    rows = tiny.sql("select neighbor_id, rank from item_neighbors where movie_id = 2 order by rank")
    # movie 2: movie 1 (0.741), movie 4 (0.316), movie 3 (0.294); k = 3 stored
    assert rows["neighbor_id"].tolist() == [1, 4, 3]
    assert rows["rank"].tolist() == [1, 2, 3]


def test_neighbor_ties_break_by_smaller_id() -> None:
    # users 1 and 2 rate movies 10, 11 and 12 identically: movies 11 and 12 tie as
    # neighbours of movie 10 (similarity 1.0), so 11 must rank first.
    with _built_from(
        "insert into movies values (10, 'A', 'Drama', null), (11, 'B', 'Drama', null), "
        "(12, 'C', 'Drama', null)",
        "insert into ratings select u, m, 4.0, timestamp '2020-01-01' "
        "from (values (1), (2)) as a(u) cross join (values (12), (11), (10)) as b(m)",
    ) as rec:
        rows = rec.sql(
            "select neighbor_id, similarity, rank from item_neighbors where movie_id = 10"
        )
        assert rows["neighbor_id"].tolist() == [11, 12]
        assert rows["similarity"].tolist() == pytest.approx([1.0, 1.0])


def test_user_based_recommendations(tiny: Recommender) -> None:
    recs = tiny.recommend(1, n=10, method="user", k=2)
    # neighbours of user 1: user 2 (USIM_12), user 3 (USIM_13); unrated: movies 3 and 4.
    # m3 is rated by both (2 and 5), m4 by user 3 alone (4): ranked by the sums, m3 first
    # (the weighted mean would put m4, one 4-star rating, first).
    m3 = USIM_12 * 2 + USIM_13 * 5
    m4 = USIM_13 * 4
    assert m3 > m4
    assert recs["movie_id"].tolist() == [3, 4]
    assert recs["score"].tolist() == pytest.approx([m3, m4], abs=1e-12)
    assert recs["predicted_rating"].tolist() == pytest.approx(
        [m3 / (USIM_12 + USIM_13), 4.0], abs=1e-12
    )
    only_closest = tiny.recommend(1, n=10, method="user", k=1)
    assert only_closest["movie_id"].tolist() == [3]
    assert only_closest["predicted_rating"].tolist() == pytest.approx([2.0])


def test_item_based_recommendations(tiny: Recommender) -> None:
    recs = tiny.recommend(1, n=10, method="item", k=2)
    # user 1 rated movie 1 (5.0) and 2 (3.0); top-2 neighbours: of 1 -> 2, 3; of 2 -> 1, 4
    assert recs["movie_id"].tolist() == [3, 4]
    assert recs["score"].tolist() == pytest.approx([5 * SIM_13, 3 * SIM_24], abs=1e-12)
    wider = tiny.recommend(1, n=10, method="item", k=3)  # movie 3 is also 2's third neighbour
    assert wider["score"].tolist()[0] == pytest.approx(5 * SIM_13 + 3 * SIM_23, abs=1e-12)


def test_recommendations_never_include_rated_movies(tiny: Recommender) -> None:
    rated = tiny.sql("select user_id, movie_id from ratings")
    recs = tiny.recommendations()
    merged = recs.merge(rated, on=["user_id", "movie_id"])
    assert merged.empty
    assert set(recs["method"]) == {*FOUNDATION_METHODS, *RANKING}


def test_recommendations_table_matches_macros(tiny: Recommender) -> None:
    table = tiny.recommendations("item")
    for user_id in (1, 2, 3):
        macro = tiny.recommend(user_id, n=3, method="item", k=2)
        stored = table[table.user_id == user_id]
        assert stored["movie_id"].tolist() == macro["movie_id"].tolist()
        assert stored["score"].tolist() == pytest.approx(macro["score"].tolist(), abs=1e-12)


def test_genre_vocabulary(tiny: Recommender) -> None:
    terms = tiny.sql("select distinct term from movie_terms order by term")["term"].tolist()
    # 'Sci-Fi' splits into two tokens; '(no genres listed)' (movie 5) gives no terms
    assert terms == ["comedy", "drama", "fi", "sci"]
    norms = tiny.sql(
        "select movie_id, sum(weight * weight) as sq from movie_terms "
        "group by movie_id order by movie_id"
    )
    assert norms["movie_id"].tolist() == [1, 2, 3, 4]
    assert norms["sq"].tolist() == pytest.approx([1.0] * 4)


def test_content_similarity_equals_sklearn(tiny: Recommender) -> None:
    # Independent computation: scikit-learn's TF-IDF of genres and tags, stacked
    # 0.6 / 0.4, cosine over the stacked vectors.
    movies = tiny.sql("select movie_id, genres from movies order by movie_id")
    tags = {1: "funny", 3: "space", 4: "space"}
    documents = movies["genres"].str.replace("|", " ", regex=False)
    documents[movies["genres"] == "(no genres listed)"] = ""
    genres = TfidfVectorizer(stop_words="english").fit_transform(documents)
    tag_docs = [tags.get(m, "") for m in movies["movie_id"]]
    tag_matrix = TfidfVectorizer(stop_words="english", max_features=50).fit_transform(tag_docs)
    stacked = sparse.hstack([0.6 * genres, 0.4 * tag_matrix]).tocsr()
    expected = cosine_similarity(stacked)
    ids = movies["movie_id"].tolist()
    got = tiny.sql("select movie_id, neighbor_id, similarity from content_similarity")
    got_map = {(r.movie_id, r.neighbor_id): r.similarity for r in got.itertuples()}
    for a, i in enumerate(ids):
        for b, j in enumerate(ids):
            if i != j:
                assert got_map.get((i, j), 0.0) == pytest.approx(expected[a, b], abs=1e-12), (i, j)


def test_movies_without_genres_share_no_content_and_no_similarity_exceeds_1() -> None:
    """Issue 19, item 10: '(no genres listed)' once became the terms 'genres' and
    'listed', so every such movie was identical to every other at 1.0000000000000002."""
    with _built_from(
        "insert into movies values (1, 'A (2000)', '(no genres listed)', 2000), "
        "(2, 'B (2000)', '(no genres listed)', 2000), (3, 'C (2000)', 'Drama', 2000), "
        "(4, 'D (2000)', 'Drama', 2000), (5, 'E (2000)', 'Drama|Comedy', 2000)",
        "insert into ratings values (1, 1, 4.0, timestamp '2020-01-01'), "
        "(1, 2, 3.0, timestamp '2020-01-01'), (1, 3, 3.0, timestamp '2020-01-01')",
    ) as rec:
        assert rec.sql("select * from movie_terms where movie_id in (1, 2)").empty
        pairs = rec.sql("select movie_id, neighbor_id from content_similarity order by all")
        assert pairs.values.tolist() == [[3, 4], [3, 5], [4, 3], [4, 5], [5, 3], [5, 4]]
        # Movies 3 and 4 have equal vectors: their cosine is 1, not a bit above.
        (top,) = rec.sql("select max(similarity) as s from content_similarity")["s"]
        assert top == 1.0


def test_similar_movies_by_title_and_id(tiny: Recommender) -> None:
    by_title = tiny.similar("Gamma", n=2)
    by_id = tiny.similar(3, n=2)
    assert by_title.equals(by_id)
    assert by_title.columns.tolist() == ["movie_id", "title", "genres", "similarity_score"]
    assert by_title["similarity_score"].is_monotonic_decreasing


def test_unknown_title_suggests_closest(tiny: Recommender) -> None:
    with pytest.raises(
        NotFoundError, match=r"no movie titled 'Alpha'; did you mean 'Alpha \(1999\)'"
    ):
        tiny.similar("Alpha", n=2)


def test_ambiguous_title_lists_movie_ids() -> None:
    with _built_from(
        "insert into movies values (1, 'Twin (2000)', 'Drama', 2000), "
        "(2, 'Twin (2000)', 'Drama', 2000)",
        "insert into ratings values (1, 1, 4.0, timestamp '2020-01-01'), "
        "(1, 2, 3.0, timestamp '2020-01-01')",
    ) as rec:
        with pytest.raises(NotFoundError, match="ambiguous: it is shared by movie_ids 1, 2"):
            rec.similar("Twin (2000)")
        assert len(rec.similar(2)) == 1


def test_unknown_user_is_an_error(tiny: Recommender) -> None:
    for method in ("user", "item", "content"):
        with pytest.raises(
            NotFoundError, match="unknown user_id 99: no ratings by that user; SELECT min"
        ):
            tiny.recommend(99, method=method, k=2)  # type: ignore[arg-type]


def test_more_neighbours_than_stored_is_an_error(tiny: Recommender) -> None:
    with pytest.raises(RecsysError, match="rebuild with: recsys-duck build --k 4"):
        tiny.recommend(1, method="item", k=4)


def test_fewer_than_one_neighbour_is_an_error_that_suggests_no_rebuild(tiny: Recommender) -> None:
    """Regression: k = 0 suggested 'recsys-duck build --k 0', which build refuses."""
    for k in (0, -2):
        with pytest.raises(RecsysError, match=f"asked for {k} neighbours; use 1 to 3") as info:
            tiny.sql("select * from recommend_item_based(1, n_neighbors := $k)", {"k": k})
        assert "rebuild" not in str(info.value)


def test_temporal_split_and_unpredictable_pairs(tiny: Recommender) -> None:
    tiny.sql("update recsys_params set test_fraction = 0.5")
    result = tiny.evaluate("temporal")
    test = tiny.sql("select user_id, movie_id from eval_test_ratings order by user_id")
    # each user's latest rating: floor(0.5 * 2) = floor(0.5 * 3) = 1 per user
    assert list(test.itertuples(index=False, name=None)) == [(1, 2), (2, 3), (3, 4)]
    # Trained on the rest, the collaborative methods cannot predict any of them (movie
    # 1's raters rated nothing else in train): coverage 0 and RMSE undefined (NULL).
    rating = result.rating.set_index("method")
    assert rating.loc[["user_based", "item_based"], "coverage"].tolist() == [0.0, 0.0]
    assert rating.loc[["user_based", "item_based"], "rmse"].isna().all()
    # Content neighbours do not depend on ratings: each test movie is a content
    # neighbour of exactly one train movie of its user, rated 5, 4 and 5, against
    # actual ratings 3, 2 and 4.
    assert rating.loc["content_based", "coverage"] == 1.0
    assert rating.loc["content_based", "rmse"] == pytest.approx(math.sqrt((4 + 4 + 1) / 3))
    assert rating.loc["content_based", "mae"] == pytest.approx(5 / 3)
    assert (
        tiny.sql(
            "select count(*) as n from information_schema.schemata where schema_name = 'eval_train'"
        )["n"][0]
        == 0
    )


def test_audits_find_nothing(tiny: Recommender) -> None:
    found = tiny.audit()
    assert len(found) >= 6
    assert {name: len(rows) for name, rows in found.items() if len(rows)} == {}


def test_audit_catches_a_neighbor_one_bit_off_its_view() -> None:
    with _built_from(
        "insert into movies values (1, 'A', 'Drama', null), (2, 'B', 'Drama', null), "
        "(3, 'C', 'Comedy', null)",
        "insert into ratings values (1, 1, 4.0, timestamp '2020-01-01'), "
        "(1, 2, 3.5, timestamp '2020-01-01'), (2, 2, 5.0, timestamp '2020-01-01'), "
        "(2, 3, 1.0, timestamp '2020-01-01')",
    ) as rec:
        assert rec.audit()["neighbors_differ_from_similarity"].empty
        rec.sql(
            "update item_neighbors set similarity = nextafter(similarity, 2.0) "
            "where movie_id = 2 and rank = 1"
        )
        found = rec.audit()["neighbors_differ_from_similarity"]
        assert found[["kind", "id", "neighbor_id"]].values.tolist() == [["item", 2, 3]]


def test_popularity_by_hand(tiny: Recommender) -> None:
    # Ratings per movie: m1 2, m2 2, m3 2, m4 1; equal counts by smaller id, so the
    # order is m1, m2, m3, m4 and each user gets the unrated ones in that order.
    got = tiny.sql(
        "select user_id, movie_id, score from recommendations "
        "where method = 'popularity' order by user_id, rank"
    )
    assert list(got.itertuples(index=False, name=None)) == [
        (1, 3, 2.0),
        (1, 4, 1.0),
        (2, 2, 2.0),
        (2, 4, 1.0),
        (3, 1, 2.0),
    ]


def test_kfold_evaluation_of_every_kind_of_model(tiny: Recommender) -> None:
    # Several folds in one transaction, foundation methods and k-NN models together:
    # DuckDB refuses to commit a transaction that dropped a schema it had filled, so
    # this also guards the fold loop's reuse of schema eval_train.
    result = tiny.evaluate(
        "kfold",
        folds=2,
        models=["popularity", "item_based", "baseline_only", "knn_basic_item_cosine"],
        rank_models=["knn_basic_item_cosine"],
    )
    folds = tiny.sql("select fold, n_test from eval_folds where split = 'kfold' order by fold")
    assert folds["fold"].tolist() == [1, 2] and folds["n_test"].sum() == 7
    ranked = set(result.ranking["method"])
    assert ranked == {"popularity", "item_based", "knn_basic_item_cosine"}  # not baseline_only
    rated = set(result.rating["method"])
    # popularity only ranks
    assert rated == {"item_based", "baseline_only", "knn_basic_item_cosine"}
    rmse = result.summary[(result.summary.metric == "rmse")].set_index("method")
    per_fold = result.rating.groupby("method")["rmse"]
    assert rmse.loc["baseline_only", "mean"] == pytest.approx(per_fold.mean()["baseline_only"])
    assert rmse.loc["baseline_only", "std"] == pytest.approx(per_fold.std()["baseline_only"])
    # the held-out pairs of the two folds are all the ratings, each once
    test = tiny.sql("select user_id, movie_id from eval_test_ratings where split = 'kfold'")
    assert len(test) == 7 and not test.duplicated().any()
