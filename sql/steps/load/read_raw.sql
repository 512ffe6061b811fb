-- _recsys_load_raw: one row per data record of the text file being loaded (the header
-- excluded), every column as text, plus its record number in scan order (ordinality,
-- 1 for the first row). Run with $path (the file), $columns (column name -> VARCHAR,
-- one entry per field), $header (whether line 1 names the columns), $delim ('::' for
-- MovieLens' .dat files), $quote ('"', or '' where quotes are plain text, as in .dat
-- titles) and $encoding ('utf-8' or 'latin-1') bound.
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
    header = $header,
    auto_detect = false,
    delim = $delim,
    quote = $quote,
    escape = $quote,
    encoding = $encoding,
    strict_mode = true,
    store_rejects = true,
    rejects_table = '_recsys_load_reject_errors',
    rejects_scan = '_recsys_load_reject_scans'
) with ordinality;
