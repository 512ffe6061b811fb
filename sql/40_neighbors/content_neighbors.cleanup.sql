-- content_neighbors (cleanup): drops the staging table of content_neighbors.prepare.sql,
-- whether the batches succeeded or not.
drop table if exists _recsys_content_neighbors;
