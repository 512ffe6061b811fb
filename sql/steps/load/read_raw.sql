-- _recsys_load_raw: one row per data record of the CSV file being loaded (the header
-- excluded), every column as text, plus its record number in scan order (ordinality,
-- 1 for the first row). Run with $path (the file) and $columns (column name -> VARCHAR,
-- one entry per header column) bound.
--
-- Every value is read as text (all columns VARCHAR), so that a bad value is reported by
-- the check_* steps with its line instead of being dropped by a failed cast. Options
-- are explicit: no sniffing. Empty fields become NULL. Rows that do not parse go to the
-- rejects tables (store_rejects) instead of stopping the scan, so all of them are
-- counted.
create or replace temp table _recsys_load_raw as
select *
from read_csv(
    $path,
    columns = $columns,
    header = true,
    auto_detect = false,
    delim = ',',
    quote = '"',
    escape = '"',
    encoding = 'utf-8',
    strict_mode = true,
    store_rejects = true,
    rejects_table = '_recsys_load_reject_errors',
    rejects_scan = '_recsys_load_reject_scans'
) with ordinality;
