-- fill_absent_timestamp: ratings of your own without a time column are all dated
-- 1970-01-01 (Unix time 0): every model but the temporal and leave-last-out splits
-- ignores the time.
alter table _recsys_load_raw add column "timestamp" varchar default '0';
