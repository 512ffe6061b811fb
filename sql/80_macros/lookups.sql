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

-- user_id_of(id): id when that user has ratings, else an error that says how to find
-- the valid ids. Looks the user up in ratings (a filter DuckDB answers from the row
-- groups' zone maps, 0.6 ms at 10M ratings) rather than in the user_stats view, which
-- aggregates every user (40 ms at 10M); the recommendation macros call it per request.
create or replace macro user_id_of(id) as (
    case
        when exists (select 1 from ratings as r where r.user_id = id) then id
        else error(
            'unknown user_id ' || coalesce(cast(id as varchar), 'NULL')
            || ': no ratings by that user; SELECT min(user_id), max(user_id) FROM ratings '
            || 'gives the range of ids with ratings, SELECT user_id FROM user_stats lists them.'
        )
    end
);

-- stored_k_at_least(k, kind := NULL): k when, if kind ('item', 'user' or 'content') is
-- given, the build computed that neighbour table (recsys_params.build_<kind>_neighbors)
-- and 1 <= k <= recsys_params.neighbors_k (the neighbours stored per item, user and
-- movie); else an error that says how to rebuild. A table the build left out is
-- empty, and what is read from it would be silently empty. Both checks read recsys_params once: the recommendation macros call it per request.
create or replace macro stored_k_at_least(k, kind := NULL) as (
    select
        case
            when (
                case cast(kind as varchar)
                    when 'item' then p.build_item_neighbors
                    when 'user' then p.build_user_neighbors
                    when 'content' then p.build_content_neighbors
                end
            ) is not distinct from false then error(
                'the ' || cast(kind as varchar) || ' neighbours were not built; '
                || 'rebuild with them, e.g. recsys-duck build --neighbors item,user,content'
            )
            when k is null or k < 1 then error(
                'asked for ' || coalesce(cast(k as varchar), 'NULL') || ' neighbours; use 1 to '
                || cast(p.neighbors_k as varchar) || ' (the neighbours the build stored)'
            )
            -- Only a larger k than stored is worth a rebuild.
            when k > p.neighbors_k then error(
                'asked for ' || cast(k as varchar) || ' neighbours but the build stored '
                || cast(p.neighbors_k as varchar) || ' per item and user; use 1 to '
                || cast(p.neighbors_k as varchar) || ', or rebuild with: recsys-duck build --k '
                || cast(k as varchar)
            )
            else k
        end
    from recsys_params as p
);

-- ranking_model_of(name): the model of ranking_models called name; with name NULL, the
-- default ranking method: the model of best validation NDCG@10 (validation_ndcg, ties
-- by name; untuned models last). Else an error listing the models. The item side must
-- have been built (the weights come from its pair sums).
create or replace macro ranking_model_of(name) as (
    select
        case
            when not p.build_item_neighbors then error(
                'the ranking models need the item neighbours, which were not built; '
                || 'rebuild with them, e.g. recsys-duck build --neighbors item,user,content'
            )
            when name is null then (
                select m.model
                from ranking_models as m
                order by m.validation_ndcg desc nulls last, m.model
                limit 1
            )
            when exists (select 1 from ranking_models as m where m.model = name) then name
            else error(
                'unknown ranking model ' || cast(name as varchar) || '; use one of '
                || coalesce((select string_agg(m.model, ', ' order by m.model) from ranking_models as m), 'none')
                || ' (the ranking_models table)'
            )
        end
    from recsys_params as p
);
