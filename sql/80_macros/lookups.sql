-- Lookup macros shared by the recommendation macros: each returns the value it is
-- given when it is valid and raises an error that says how to fix it otherwise, so an
-- unknown user or movie is an error, never an empty result.

-- movie_id_of(title_or_id): the movie_id of a title exactly as in movies.title, or of a
-- movie_id given as a number. Unknown: suggests the three closest titles. Ambiguous
-- (the same title for several movies): lists the candidate movie_ids.
create or replace macro movie_id_of(title_or_id) as (
    with matches as (
        select m.movie_id
        from movies as m
        where m.title = cast(title_or_id as varchar)
            or cast(m.movie_id as varchar) = cast(title_or_id as varchar)
    ),
    summary as (
        select
            count(*) as n_matches,
            min(movie_id) as first_movie_id,
            string_agg(cast(movie_id as varchar), ', ' order by movie_id) as movie_ids
        from matches
    ),
    closest as (
        select
            m.title,
            m.movie_id,
            contains(lower(m.title), lower(cast(title_or_id as varchar))) as is_contained,
            jaro_winkler_similarity(lower(m.title), lower(cast(title_or_id as varchar))) as closeness
        from movies as m
        order by is_contained desc, closeness desc, m.movie_id asc
        limit 3
    )
    select
        case
            when s.n_matches = 1 then s.first_movie_id
            when s.n_matches = 0 then error(
                'no movie titled ''' || cast(title_or_id as varchar) || '''; did you mean '
                || (
                    select string_agg(
                        '''' || c.title || ''' (movie_id ' || cast(c.movie_id as varchar) || ')',
                        ', ' order by c.is_contained desc, c.closeness desc, c.movie_id asc
                    )
                    from closest as c
                )
                || '? Pass a title exactly as in movies.title, or a movie_id.'
            )
            else error(
                'the title ''' || cast(title_or_id as varchar) || ''' is ambiguous: it is shared by movie_ids '
                || s.movie_ids || '; pass one of those movie_ids instead.'
            )
        end
    from summary as s
);

-- user_id_of(id): id when that user has ratings, else an error giving the valid range.
create or replace macro user_id_of(id) as (
    select
        case
            when count(*) filter (where r.user_id = id) > 0 then id
            else error(
                'unknown user_id ' || coalesce(cast(id as varchar), 'NULL')
                || ': no ratings by that user; users with ratings have ids '
                || cast(min(r.user_id) as varchar) || ' to ' || cast(max(r.user_id) as varchar)
                || ' (SELECT user_id FROM user_stats lists them).'
            )
        end
    from user_stats as r
);

-- stored_k_at_least(k): k when 1 <= k <= recsys_params.neighbors_k (the neighbours
-- stored per item, user and movie), else an error that says how to rebuild.
create or replace macro stored_k_at_least(k) as (
    select
        case
            when k >= 1 and k <= p.neighbors_k then k
            else error(
                'asked for ' || coalesce(cast(k as varchar), 'NULL') || ' neighbours but the build stored '
                || cast(p.neighbors_k as varchar) || ' per item and user; use 1 to '
                || cast(p.neighbors_k as varchar) || ', or rebuild with: recsys-duck build --k '
                || coalesce(cast(k as varchar), '50')
            )
        end
    from recsys_params as p
);
