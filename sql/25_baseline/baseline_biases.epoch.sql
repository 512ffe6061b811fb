-- baseline_biases (one epoch): the item biases from the users' biases of the previous
-- epoch, then the user biases from those item biases, by the formulas of
-- baseline_biases.sql (mu = rating_matrix_stats.mean_rating).
create or replace temp table _recsys_item_biases as
select
    r.movie_id as id,
    count(*) as n_ratings,
    sum(r.rating - t.mean_rating - u.bias) / nullif(p.baseline_reg_items + count(*), 0) as bias
from ratings as r
inner join _recsys_user_biases as u on u.id = r.user_id
cross join rating_matrix_stats as t
cross join recsys_params as p
group by r.movie_id, p.baseline_reg_items;

create or replace temp table _recsys_user_biases as
select
    r.user_id as id,
    count(*) as n_ratings,
    sum(r.rating - t.mean_rating - i.bias) / nullif(p.baseline_reg_users + count(*), 0) as bias
from ratings as r
inner join _recsys_item_biases as i on i.id = r.movie_id
cross join rating_matrix_stats as t
cross join recsys_params as p
group by r.user_id, p.baseline_reg_users;
