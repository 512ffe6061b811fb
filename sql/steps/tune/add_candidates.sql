-- add_candidates: a step of `recsys-duck tune`, not a layer. Run with $tuned (the
-- models whose settings to choose) bound, inside tune's transaction. Stages one row
-- per candidate in _recsys_tune_candidates: candidate 0 is a model's current settings,
-- scored under its own name, for every model of ranking_models (so that every
-- validation_ndcg then comes from the same split and ranking_model_of compares like
-- with like); candidates 1.. are the other ranking_grid rows of a tuned model's
-- algorithm, each added to ranking_models as <model>__tune_<candidate> for evaluate to
-- score.
create or replace temp table _recsys_tune_candidates as
select
    m.model,
    0 as candidate,
    m.model as scored_as,
    m.algorithm,
    m.neighbors,
    m.shrinkage,
    m.normalize,
    m.rating_values,
    m.alpha,
    m.beta,
    m.l2,
    m.steps
from ranking_models as m
union all
select
    g.model,
    g.candidate,
    g.model || '__tune_' || cast(g.candidate as varchar) as scored_as,
    g.algorithm,
    g.neighbors,
    g.shrinkage,
    g.normalize,
    g.rating_values,
    g.alpha,
    g.beta,
    g.l2,
    g.steps
from (
    select
        m.model,
        row_number() over (
            partition by m.model
            order by
                r.neighbors, r.shrinkage, r.normalize, r.rating_values, r.alpha, r.beta,
                r.l2, r.steps
        ) as candidate,
        r.*
    from ranking_models as m
    inner join ranking_grid as r on r.algorithm = m.algorithm
    where
        list_contains($tuned, m.model)
        -- a grid row equal to the current settings is candidate 0 already
        and not (
            r.neighbors = m.neighbors
            and r.shrinkage = m.shrinkage
            and r.normalize = m.normalize
            and r.rating_values = m.rating_values
            and r.alpha = m.alpha
            and r.beta = m.beta
            and r.l2 = m.l2
            and r.steps = m.steps
        )
) as g;

insert into ranking_models (
    model, algorithm, neighbors, shrinkage, normalize, rating_values, alpha, beta, l2, steps
)
select
    scored_as, algorithm, neighbors, shrinkage, normalize, rating_values, alpha, beta, l2, steps
from _recsys_tune_candidates
where candidate > 0
order by scored_as;
