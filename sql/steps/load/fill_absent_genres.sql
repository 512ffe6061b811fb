-- fill_absent_genres: items of your own without a genres column have none, as
-- MovieLens writes it (so no content features).
alter table _recsys_load_raw add column genres varchar default '(no genres listed)';
