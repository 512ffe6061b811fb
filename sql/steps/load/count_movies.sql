-- count_movies: the number of movies loaded (also those that only the ratings named).
select cast(count(*) as integer) as n_movies from movies;
