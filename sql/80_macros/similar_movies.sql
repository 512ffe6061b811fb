-- similar_movies(title, n := 10, method := 'content'): the n movies most similar to a
-- movie, one row per neighbour, ordered by similarity_score then movie_id
-- (the stored neighbour rank).
-- title is a title exactly as in movies.title or a movie_id. method 'content' uses
-- content_neighbors (TF-IDF of genres and tags), 'item' uses item_neighbors (cosine of
-- rating vectors); a method whose neighbours the build left out is an error.
-- Example: select * from similar_movies('Toy Story (1995)', n := 5);
create or replace macro similar_movies(title, n := 10, method := 'content') as table
with neighbors as (
    select c.movie_id, c.neighbor_id, c.similarity, c.rank, 'content' as method
    from content_neighbors as c
    union all
    select i.movie_id, i.neighbor_id, i.similarity, i.rank, 'item' as method
    from item_neighbors as i
)
select
    m.movie_id,
    m.title,
    m.genres,
    nb.similarity as similarity_score
from neighbors as nb
inner join movies as m on m.movie_id = nb.neighbor_id
where nb.movie_id = movie_id_of(title)
    and nb.method = (
        case
            when method in ('content', 'item') then method
            else error('unknown method ''' || cast(method as varchar) || '''; use ''content'' or ''item''.')
        end
    )
    and nb.rank <= stored_k_at_least(n, kind := method)
order by nb.rank;
