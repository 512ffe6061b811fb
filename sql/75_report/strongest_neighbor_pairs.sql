-- strongest_neighbor_pairs: one row per (kind, unordered pair) stored in a neighbour
-- table, ranked within the kind: kind 'item' (item_neighbors), 'user' (user_neighbors)
-- or 'content' (content_neighbors). A pair stored in both directions appears once,
-- first_id < second_id, with the larger of its stored similarities and n_common (the
-- similarities are symmetric; the two rows differ at most in the last bits).
--   rank = 1 for the largest similarity (compared to 12 decimal places), then more
--          n_common (co-raters, or shared content features), then the smaller
--          first_id, then the smaller second_id
--   first_name / second_name = the movie's title, or 'user <id>' for kind 'user'
-- Filter rank <= 10 for the report's table of the strongest pairs.
create or replace view strongest_neighbor_pairs as
with stored as (
    select 'item' as kind, n.movie_id as a_id, n.neighbor_id as b_id, n.similarity, n.n_common
    from item_neighbors as n
    union all
    select 'user' as kind, n.user_id as a_id, n.neighbor_id as b_id, n.similarity, n.n_common
    from user_neighbors as n
    union all
    select 'content' as kind, n.movie_id as a_id, n.neighbor_id as b_id, n.similarity, n.n_common
    from content_neighbors as n
),
pairs as (
    select
        s.kind,
        least(s.a_id, s.b_id) as first_id,
        greatest(s.a_id, s.b_id) as second_id,
        max(s.similarity) as similarity,
        max(s.n_common) as n_common
    from stored as s
    group by s.kind, least(s.a_id, s.b_id), greatest(s.a_id, s.b_id)
),
ranked as (
    select
        p.kind,
        p.first_id,
        p.second_id,
        p.similarity,
        p.n_common,
        row_number() over (
            partition by p.kind
            order by round(p.similarity, 12) desc, p.n_common desc, p.first_id asc,
                p.second_id asc
        ) as rank
    from pairs as p
)
select
    r.kind,
    r.rank,
    r.first_id,
    case
        when r.kind = 'user' then 'user ' || cast(r.first_id as varchar)
        else a.title
    end as first_name,
    r.second_id,
    case
        when r.kind = 'user' then 'user ' || cast(r.second_id as varchar)
        else b.title
    end as second_name,
    r.similarity,
    r.n_common
from ranked as r
left join movies as a on r.kind <> 'user' and a.movie_id = r.first_id
left join movies as b on r.kind <> 'user' and b.movie_id = r.second_id;
