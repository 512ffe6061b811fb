-- problem_breakdown: one row per problem kind found in the current file, with the
-- number of records that have it, most frequent first; summarised in the error message.
select kind, count(distinct record_no) as n_rows
from _recsys_load_problems
group by kind
order by n_rows desc, kind;
