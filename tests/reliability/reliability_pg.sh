#!/usr/bin/env bash
# Issue 15 on a real PostgreSQL (a throwaway server, as tests/index/index_pg.sh): the sync lock
# (a sync that finds the advisory lock held says "waiting for another sync" and waits; three
# syncs started at once serialise: all exit 0, nothing in sync_errors, every file indexed once)
# and the schema migration 3 -> 4 (spectra's key columns first): a read-only open of the old
# schema asks for a sync, a sync migrates it, the index checks consistent and answers the same
# plans as SQLite; I/O faults (EIO/ENOSPC at sampled k) in a sync are reported, leave the index
# consistent and a clean sync completes it. A server that cannot start FAILS the test (PostgreSQL
# is a required component).
set -uo pipefail
ARD=${1:?usage: reliability_pg.sh PATH_TO_ard}
HERE=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
if ! "$ARD" generate --help >/dev/null 2>&1; then
    echo "SKIPPED: ard generate is not built" >&2
    exit 77
fi
# shellcheck source=tests/common/pg_server.bash
source "$HERE/../common/pg_server.bash"
pg_server_start rel-pg
S=$T/survey
"$ARD" generate "$S" --galaxies 500 --seed 9 --quiet --threads 1 || fail "ard generate"
files=$(find "$S/tiles" "$S/catalog" -name '*.parquet' | wc -l)
KEY=27428848500567651 # src/index/sync_lock.c: "ardsync"

# 1. the advisory lock held by "another sync": the sync waits, says so, then indexes everything
psql -q "$DSN" -c "SELECT pg_advisory_lock($KEY), pg_sleep(4)" >/dev/null 2>&1 &
HOLDER=$!
for _ in $(seq 1 100); do
    held=$(psql -At "$DSN" -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
    [ "$held" = 1 ] && break
    sleep 0.1
done
[ "$held" = 1 ] || fail "the test could not take the advisory lock"
"$ARD" sync "$S" --db "$DSN" --threads 1 >"$T/held.out" 2>"$T/held.err" ||
    fail "sync behind a held lock: $(cat "$T/held.err")"
wait "$HOLDER"
grep -q "waiting for another sync" "$T/held.err" || fail "no waiting message: $(cat "$T/held.err")"
grep -q "$files added" "$T/held.out" || fail "the waiting sync did not index everything: $(cat "$T/held.out")"

# 2. three syncs at once on a fresh schema
psql -q "$DSN" -c "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null
pids=()
for i in 1 2 3; do
    "$ARD" sync "$S" --db "$DSN" --threads 1 >"$T/out.$i" 2>"$T/err.$i" &
    pids+=($!)
done
for i in 0 1 2; do
    wait "${pids[$i]}" || fail "concurrent sync $((i + 1)) failed: $(cat "$T/err.$((i + 1))")"
done
[ "$(psql -At "$DSN" -c 'SELECT count(*) FROM sync_errors')" = 0 ] || fail "rows in sync_errors"
added=$(cat "$T"/out.* | grep -o '[0-9]* added' | awk '{s += $1} END {print s}')
[ "$added" -eq "$files" ] || fail "the three syncs added $added files, the dataset has $files"
"$ARD" sync "$S" --db "$DSN" --check >/dev/null || fail "index inconsistent after concurrent syncs"
waited=$(cat "$T"/err.* | grep -c "waiting for another sync" || true)

# 3. migration: back to schema 3 (spectra's old column order), then a sync migrates it
spectra=$(psql -At "$DSN" -c 'SELECT count(*) FROM spectra')
psql -q -v ON_ERROR_STOP=1 "$DSN" >/dev/null <<'SQL' || fail "making a schema 3 index"
BEGIN;
CREATE TABLE spectra_old (targetid BIGINT NOT NULL, file_id BIGINT NOT NULL,
  row_group INTEGER NOT NULL, row_index BIGINT NOT NULL, PRIMARY KEY (file_id, row_group, row_index));
INSERT INTO spectra_old SELECT targetid, file_id, row_group, row_index FROM spectra;
DROP TABLE spectra;
ALTER TABLE spectra_old RENAME TO spectra;
CREATE INDEX spectra_targetid ON spectra (targetid);
UPDATE meta SET value = '3' WHERE key = 'schema_version';
COMMIT;
SQL
rc=0
"$ARD" query "$S" --db "$DSN" --where "Z > 1" >/dev/null 2>"$T/ro.err" || rc=$?
[ "$rc" != 0 ] && grep -qi "sync" "$T/ro.err" || fail "a read-only open of schema 3: exit $rc: $(cat "$T/ro.err")"
"$ARD" sync "$S" --db "$DSN" --quiet >/dev/null 2>"$T/mig.err" || fail "migrating sync: $(cat "$T/mig.err")"
cols=$(psql -At "$DSN" -c "SELECT string_agg(column_name, ',' ORDER BY ordinal_position)
  FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'spectra'")
[ "$cols" = "targetid,file_id,row_group,row_index" ] || fail "spectra columns after migration: $cols"
# schema 7: no primary key, one b-tree on targetid
pk=$(psql -At "$DSN" -c "SELECT count(*) FROM pg_constraint
  WHERE conrelid = 'spectra'::regclass AND contype = 'p'")
[ "$pk" = 0 ] || fail "spectra still has a primary key after migration"
ix=$(psql -At "$DSN" -c "SELECT string_agg(indexdef, '; ') FROM pg_indexes WHERE tablename = 'spectra'")
[ "$ix" = "CREATE INDEX spectra_targetid ON public.spectra USING btree (targetid)" ] ||
    fail "spectra indexes after migration: $ix"
SCHEMA=$(sed -n 's/^#define ARD_INDEX_SCHEMA_VERSION \([0-9]*\).*/\1/p' "$(dirname "$0")/../../include/ard/index.h")
got=$(psql -At "$DSN" -c "SELECT value FROM meta WHERE key = 'schema_version'")
[ -n "$SCHEMA" ] && [ "$got" = "$SCHEMA" ] || fail "schema_version $got after migration (this ard: ${SCHEMA:-?})"
[ "$(psql -At "$DSN" -c 'SELECT count(*) FROM spectra')" = "$spectra" ] || fail "spectra rows lost"
"$ARD" sync "$S" --db "$DSN" --check >/dev/null || fail "check after migration"
"$ARD" sync "$S" --quiet >/dev/null || fail "sync into SQLite"
for q in "Z > 1.0" "SPECTYPE = 'QSO'" ""; do
    a=$("$ARD" query "$S" --db "$DSN" --where "$q" --format json 2>/dev/null | md5sum)
    b=$("$ARD" query "$S" --where "$q" --format json 2>/dev/null | md5sum)
    [ "$a" = "$b" ] || fail "after migration, PostgreSQL and SQLite plans differ for '$q'"
done
# 4. I/O faults in a PostgreSQL sync (issue 15: fault sweeps over sync on both backends): the k-th
# core I/O call of `ard sync` (tile and catalog opens and reads, the datasheet's writes) fails
# with EIO or ENOSPC on a fresh schema. Afterwards: the index checks consistent, a failed file is
# named (sync_errors or the message), no temporary is left, DATA_README.md is whole; a clean
# sync then indexes every file with no sync_errors.
faults=0
for k in 1 2 3 5 8 13 34 89; do
    e=EIO
    [ $((k % 2)) = 0 ] && e=ENOSPC
    psql -q "$DSN" -c "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null
    rc=0
    ARD_IO_FAIL="any:$k:$e" "$ARD" sync "$S" --db "$DSN" --threads 1 >"$T/f.out" 2>"$T/f.err" || rc=$?
    errs=$(psql -At "$DSN" -c 'SELECT count(*) FROM sync_errors' 2>/dev/null || echo 0)
    if [ "$errs" = 0 ] && [ "$rc" = 0 ]; then
        fail "k=$k ($e): the injected fault went unreported: $(cat "$T/f.out" "$T/f.err")"
    fi
    [ "$errs" != 0 ] || grep -q "$S/" "$T/f.err" || fail "k=$k ($e): the error names no file: $(cat "$T/f.err")"
    "$ARD" sync "$S" --db "$DSN" --check >/dev/null 2>"$T/c.err" || fail "k=$k ($e): index inconsistent: $(cat "$T/c.err")"
    left=$(find "$S" -name '.*.tmp.*')
    [ -z "$left" ] || fail "k=$k ($e): temporaries left: $left"
    head -1 "$S/DATA_README.md" | grep -q "^# Datasheet" || fail "k=$k ($e): DATA_README.md is not whole"
    "$ARD" sync "$S" --db "$DSN" --threads 1 >"$T/r.out" 2>"$T/r.err" || fail "k=$k: clean re-sync: $(cat "$T/r.err")"
    grep -q " 0 failed" "$T/r.out" || fail "k=$k: the clean re-sync failed files: $(cat "$T/r.out")"
    [ "$(psql -At "$DSN" -c 'SELECT count(*) FROM files')" = "$files" ] || fail "k=$k: files after the clean re-sync"
    "$ARD" sync "$S" --db "$DSN" --check >/dev/null || fail "k=$k: check after the clean re-sync"
    faults=$((faults + 1))
done

echo "ok (PostgreSQL): $faults I/O faults injected into syncs, each reported, index consistent, completed by a clean sync; a held sync lock waited with a message; 3 concurrent syncs indexed $files files once ($waited waited); schema 3 -> $SCHEMA migrated with $spectra spectra rows, same plans as SQLite"
