-- record_tuning: a step of `recsys-duck tune`, not a layer. Run after evaluate scored
-- every staged candidate (add_candidates.sql) on validation_split. Replaces the
-- ranking_tuning rows of the scored models by the candidates, each with its NDCG@10
-- (eval_ranking_metrics, k = 10) and chosen = the best of its model (to 10 decimal
-- places, so that the order of a parallel sum cannot break a tie; ties go to the
-- smaller candidate, so the current settings stay unless beaten). Then each model of
-- ranking_models takes its chosen settings, validation_ndcg and tuned_on, and the
-- candidates' rows go (from ranking_models and, with split 'validation', from the
-- eval_* tables: ranking_tuning keeps what they showed).
delete from ranking_tuning
where model in (select c.model from _recsys_tune_candidates as c);

insert into ranking_tuning
select
    c.model,
    c.candidate,
    c.algorithm,
    c.neighbors,
    c.shrinkage,
    c.normalize,
    c.rating_values,
    c.alpha,
    c.beta,
    c.l2,
    c.steps,
    e.ndcg_at_k as validation_ndcg,
    row_number() over (
        partition by c.model order by round(e.ndcg_at_k, 10) desc nulls last, c.candidate
    ) = 1 as chosen,
    (
        select
            'recsys-duck tune, '
            || strftime(timezone('UTC', now()), '%Y-%m-%d %H:%M UTC')
            || ': validation_split, seed ' || cast(p.seed as varchar) || ', '
            || cast(f.n_train_ratings as varchar) || ' train and '
            || cast(f.n_test as varchar) || ' validation ratings'
        from eval_folds as f
        cross join recsys_params as p
        where f.split = 'validation' and f.fold = 1
    ) as tuned_on
from _recsys_tune_candidates as c
left join eval_ranking_metrics as e
    on e.split = 'validation' and e.fold = 1 and e.k = 10 and e.method = c.scored_as;

delete from ranking_models
where model in (select c.scored_as from _recsys_tune_candidates as c where c.candidate > 0);

update ranking_models as m
set
    neighbors = t.neighbors,
    shrinkage = t.shrinkage,
    normalize = t.normalize,
    rating_values = t.rating_values,
    alpha = t.alpha,
    beta = t.beta,
    l2 = t.l2,
    steps = t.steps,
    validation_ndcg = t.validation_ndcg,
    tuned_on = t.tuned_on
from ranking_tuning as t
where t.model = m.model
    and t.chosen
    and t.model in (select c.model from _recsys_tune_candidates as c);

drop table _recsys_tune_candidates;
