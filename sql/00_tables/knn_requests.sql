-- knn_requests: the (user_id, movie_id) pairs that knn_predictions predicts. Empty in a
-- build; the evaluation fills its training copy with the held-out pairs, and the Python
-- API shadows it with a temporary table of one user's candidate movies. An analyst can
-- do the same: create temp table knn_requests as select ...; select * from knn_predictions.
create table if not exists knn_requests (
    user_id integer not null,
    movie_id integer not null,
    primary key (user_id, movie_id)
);
