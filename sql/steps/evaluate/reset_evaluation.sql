-- reset_evaluation: a step, not a layer. Run with $split bound before the folds of an
-- evaluation are recorded: forgets the split's earlier results (another model list or
-- number of folds would otherwise leave stale rows behind).
delete from eval_test_ratings where split = $split;

delete from eval_predictions where split = $split;

delete from eval_recommendations where split = $split;

delete from eval_train_items where split = $split;

delete from eval_folds where split = $split;

delete from eval_ranked_methods where split = $split;
