-- line_map: one row per (map, requested record): the physical 1-based line (as grep -n
-- counts them; the header, if any, is line 1) on which data record record_no of file
-- $path starts, for the records listed in $records, plus n_records, the map's number
-- of records, to check it against the scan. $header_lines is 1 for a file with a
-- header line, else 0.
--
-- The file is split into lines ('\r\n', '\n' or '\r'); a line starts a record when it
-- is not blank and an even number of double quotes precede it (so it does not continue
-- a quoted value). The plain map ignores quotes; it serves if stray quotes upset the
-- quoted one.
with src as (
    select string_split_regex(content, '\r\n|\r|\n') as parts from read_text($path)
),
lines as (
    select unnest(parts) as text, generate_subscripts(parts, 1) as line_no from src
),
counted as (
    select line_no, text,
        coalesce(sum(length(text) - length(replace(text, '"', ''))) over (
            order by line_no rows between unbounded preceding and 1 preceding
        ), 0) as quotes_before
    from lines
),
quoted_map as (
    select 'quoted' as map_name, line_no, row_number() over (order by line_no) as record_no
    from counted
    where line_no > $header_lines and text <> '' and quotes_before % 2 = 0
),
plain_map as (
    select 'plain' as map_name, line_no, row_number() over (order by line_no) as record_no
    from counted
    where line_no > $header_lines and text <> ''
),
both_maps as (
    select * from quoted_map
    union all
    select * from plain_map
)
select map_name, count(*) over (partition by map_name) as n_records, record_no, line_no
from both_maps
qualify list_contains($records, record_no);
