-- neighbor_similarity_distribution: one row per (kind, bin), the histogram of the
-- similarities stored in the neighbour tables: kind 'item' (item_neighbors), 'user'
-- (user_neighbors) and 'content' (content_neighbors). Each stored row counts once, so
-- a pair that is in each other's top-k counts twice.
-- Twenty bins of width 0.05 cover [0, 1]: bin b (0..19) holds similarities in
-- [b * 0.05, (b + 1) * 0.05), the last bin also 1.0 itself (and anything above it from
-- rounding); a similarity below 0 would fall in bin 0 (the cosines stored are >= 0).
--   n_neighbors = stored rows of the kind in the bin (0 for an empty bin)
--   share       = n_neighbors / (stored rows of the kind), NULL when the table is empty
create or replace view neighbor_similarity_distribution as
with stored as (
    select 'item' as kind, n.similarity
    from item_neighbors as n
    union all
    select 'user' as kind, n.similarity
    from user_neighbors as n
    union all
    select 'content' as kind, n.similarity
    from content_neighbors as n
),
binned as (
    select
        s.kind,
        case
            when s.similarity >= 1 then 19
            when s.similarity < 0 then 0
            else cast(floor(s.similarity * 20) as integer)
        end as bin
    from stored as s
),
kinds as (
    select 'item' as kind
    union all
    select 'user'
    union all
    select 'content'
),
bins as (
    select cast(b.bin as integer) as bin
    from range(0, 20) as b(bin)
),
counts as (
    select b.kind, b.bin, count(*) as n_neighbors
    from binned as b
    group by b.kind, b.bin
),
totals as (
    select b.kind, count(*) as n_neighbors
    from binned as b
    group by b.kind
)
select
    k.kind,
    g.bin,
    g.bin * 0.05 as bin_low,
    (g.bin + 1) * 0.05 as bin_high,
    coalesce(c.n_neighbors, 0) as n_neighbors,
    coalesce(c.n_neighbors, 0) / nullif(cast(t.n_neighbors as double), 0) as share
from kinds as k
cross join bins as g
left join counts as c on c.kind = k.kind and c.bin = g.bin
left join totals as t on t.kind = k.kind
order by k.kind, g.bin;
