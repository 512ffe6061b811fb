-- copy_raw_tables: a step, not a layer. A rebuild without new data builds a new database
-- file with the current one attached read-only as `previous`, and runs this step after
-- sql/00_tables to carry the raw MovieLens tables over; everything else is rebuilt from
-- them. Evaluation results are not carried over: they describe the old models.
insert into movies by name
select * from previous.movies;

insert into ratings by name
select * from previous.ratings;

insert into tags by name
select * from previous.tags;

insert into links by name
select * from previous.links;
