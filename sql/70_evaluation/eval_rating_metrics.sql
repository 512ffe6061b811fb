-- eval_rating_metrics: one row per (split, fold, method), the accuracy of rating
-- predictions on the fold's held-out pairs the method could predict (P, with
-- e = predicted - actual):
--   rmse = sqrt( sum_P e^2 / |P| ),   mae = sum_P |e| / |P|
-- n_test counts every held-out pair, n_predicted = |P|, coverage = n_predicted / n_test.
-- rmse and mae are NULL when the method predicted nothing.
create or replace view eval_rating_metrics as
select
    p.split,
    p.fold,
    p.method,
    count(*) as n_test,
    count(p.predicted_rating) as n_predicted,
    count(p.predicted_rating) / nullif(cast(count(*) as double), 0) as coverage,
    sqrt(avg((p.predicted_rating - p.rating) * (p.predicted_rating - p.rating))) as rmse,
    avg(abs(p.predicted_rating - p.rating)) as mae
from eval_predictions as p
group by p.split, p.fold, p.method;
