-- fill_absent_title: items of your own without a title column are titled "item <id>".
alter table _recsys_load_raw add column title varchar;

update _recsys_load_raw set title = 'item ' || trim("movieId");
