#!/bin/bash
# `mpirun -n N ard sync --db postgresql` on a throwaway PostgreSQL server: every rank writes its
# share in its own transactions, rank 0 completes the run; the index holds what a one-process sync
# writes (every table compared row for row with file ids replaced by paths: concurrent writers
# number files in commit order), first and incremental with a corrupt tile; the datasheet is written
# once. A server that cannot start FAILS (PostgreSQL is a required test component).
source "$(dirname "$0")/mpi_env.bash"
source "$(dirname "$0")/../common/pg_server.bash"
pg_server_start mpi-sync-pg
trap 'pg_server_stop; cleanup' EXIT
for db in one n3; do
  psql -q "$DSN" -c "CREATE DATABASE $db" >/dev/null || fail "CREATE DATABASE $db"
done
mkdir -p "$W/one" "$W/n3"
"$ARD" generate "$W/one/ds" --galaxies 300 --seed 13 --threads 2 --quiet || fail "generate"
cp -a "$W/one/ds" "$W/n3/ds"
# rows TAG SQL: the rows sorted, the copies' directories named alike
rows() { psql -At "host=$T user=ard dbname=$1" -c "$2" | sed "s|$W/[a-z0-9]*/ds|DATASET|g" | sort; }
F="JOIN files f ON f.id"
QUERIES=(
  "SELECT path, kind, size, mtime_ns, footer_hash, num_rows, num_row_groups, created_by,
     schema_fingerprint, grid FROM files"
  "SELECT f.path, r.row_group, r.num_rows, r.first_row, r.byte_offset, r.bytes, r.targetid_min,
     r.targetid_max FROM row_groups r $F = r.file_id"
  "SELECT f.path, c.row_group, c.column_name, c.num_values, c.null_count, c.min_value,
     c.max_value FROM column_stats c $F = c.file_id"
  "SELECT s.targetid, f.path, s.row_group, s.row_index FROM spectra s $F = s.file_id"
  "SELECT f.path, p.target_class, p.num_rows, p.pixels, p.flux_null, p.ivar_zero
     FROM tile_pixel_stats p $F = p.file_id"
  "SELECT f.path, g.targetid, g.z, g.spectype, g.target_class, g.flux_r FROM galaxies g
     $F = g.catalog_file_id"
  "SELECT f.path, c.target_class, c.spectype, c.num_rows, c.z_min, c.z_max
     FROM catalog_summary c $F = c.file_id"
  "SELECT * FROM catalog_linkage"
  "SELECT DISTINCT path, status, message FROM sync_errors"
  "SELECT key, value FROM meta")
same_index() { # same_index STEP
  for q in "${QUERIES[@]}"; do
    cmp -s <(rows one "$q") <(rows n3 "$q") || fail "$1: differs: $q"
  done
}
"$ARD" sync "$W/one/ds" --db "host=$T user=ard dbname=one" --quiet > "$W/one.out" 2>&1 ||
  { cat "$W/one.out"; fail "one-process sync"; }
timeout 300 $MPIRUN -n 3 "$ARD" sync "$W/n3/ds" --db "host=$T user=ard dbname=n3" --quiet > "$W/n3.out" \
  2> "$W/n3.err" || { cat "$W/n3.err"; fail "mpirun -n 3 sync (postgresql)"; }
[ "$(grep -c '^sync (postgresql' "$W/n3.out")" = 1 ] || fail "the report was not printed once"
[ "$(rows n3 "SELECT COUNT(*) FROM spectra")" = 300 ] || fail "not every spectrum indexed"
# every rank wrote its share in its own run: 3 partitioned runs + rank 0's completing run
[ "$(rows n3 "SELECT COUNT(*) FROM sync_runs WHERE size = 3")" = 3 ] || fail "not 3 rank runs"
same_index first
[ -s "$W/n3/ds/DATA_README.md" ] || fail "no datasheet"
for d in one n3; do
  mapfile -t t < <(cd "$W/$d/ds" && find tiles -name '*.parquet' | sort)
  rm "$W/$d/ds/${t[2]}"
  echo junk > "$W/$d/ds/${t[9]}"
  touch -d '2021-01-01' "$W/$d/ds/${t[9]}"
done
"$ARD" sync "$W/one/ds" --db "host=$T user=ard dbname=one" --quiet > /dev/null 2>&1
timeout 300 $MPIRUN -n 3 "$ARD" sync "$W/n3/ds" --db "host=$T user=ard dbname=n3" --quiet > /dev/null \
  2> "$W/i3.err"; rc=$?
[ $rc = 1 ] || { cat "$W/i3.err"; fail "incremental: exit $rc, expected 1 (a corrupt tile)"; }
same_index incremental
# the corrupt tile failed in its rank's run and again in rank 0's completing run
[ "$(rows n3 "SELECT COUNT(DISTINCT run_id) FROM sync_errors")" = 2 ] || fail "sync_errors runs"
echo "ok"
