-- baseline_biases (finish): the biases of the last epoch.
insert into baseline_biases (kind, id, n_ratings, bias)
select 'item' as kind, i.id, i.n_ratings, i.bias
from _recsys_item_biases as i
union all
select 'user' as kind, u.id, u.n_ratings, u.bias
from _recsys_user_biases as u
order by kind, id;
