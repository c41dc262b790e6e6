#!/usr/bin/env bash
# `ard anomaly train` + `score` against a real PostgreSQL 15 index (a throwaway server, Unix socket
# only): the selection and the result run go through PostgreSQL; the anomalies table there holds
# every spectrum once with ranks 1..N and agrees with the scores Parquet file; the same model
# scored through the SQLite index gives the same scores; the datasheet's Anomalies section renders
# from PostgreSQL. Fails loudly when no server starts.
set -uo pipefail
ARD=${1:?usage: anomaly_pg.sh PATH_TO_ard}
fail() { echo "FAIL: $*" >&2; exit 1; }
# shellcheck source=tests/common/pg_server.bash
source "$(dirname "$0")/../common/pg_server.bash"
pg_server_start anomaly-pg
command -v sqlite3 > /dev/null || fail "no sqlite3 CLI for the SQLite side"

S=$T/survey
N=200
"$ARD" generate "$S" --galaxies $N --seed 5 --anomalies 0.05 --quiet || fail "generate"
"$ARD" sync "$S" --db "$DSN" --quiet > /dev/null || fail "sync into PostgreSQL"
"$ARD" sync "$S" --quiet > /dev/null || fail "sync into SQLite"
q() { "$PGBIN/psql" -X -A -t -h "$T" -U ard -d postgres -c "$1"; }

"$ARD" anomaly train "$S" --dsn "$DSN" --epochs 1 --hidden 32 --embed 8 --latent 4 \
    --reference 50 --batch-size 32 --run pgm --quiet > "$T/train.txt" || fail "train on PostgreSQL"
grep -q "run pgm, $N spectra x 1 epochs" "$T/train.txt" || fail "train: $(cat "$T/train.txt")"
[ "$(q "SELECT count(*) FROM anomaly_runs WHERE run_id = 'pgm'")" = 1 ] || fail "no training run row"
"$ARD" anomaly score "$S" --dsn "$DSN" --model pgm --run pgs --quiet > /dev/null ||
    fail "score on PostgreSQL"
[ "$(q "SELECT count(*), count(DISTINCT targetid), min(rank), max(rank), min(run_id) FROM anomalies")" = "$N|$N|1|$N|pgs" ] ||
    fail "anomalies on PostgreSQL: $(q "SELECT count(*), min(rank), max(rank) FROM anomalies")"
# the table agrees with the Parquet file (TARGETID, RANK, SCORE to 1e-9)
q "SELECT targetid, rank, score FROM anomalies ORDER BY targetid" | tr '|' ',' > "$T/pg.csv"
"$ARD" parquet cat "$S/results/anomaly-pgs-scores.parquet" --columns TARGETID,RANK,SCORE \
    --format csv | tail -n +2 | sort -t, -k1,1n > "$T/file.csv"
paste -d, "$T/pg.csv" "$T/file.csv" | awk -F, '
    { d = $3 - $6; if (d < 0) d = -d }
    $1 != $4 || $2 != $5 || d > 1e-9 { n++; print }
    END { exit n > 0 }' > "$T/diff.txt" || fail "PostgreSQL table vs Parquet: $(head -3 "$T/diff.txt")"
# the same model through the SQLite index scores the same spectra the same way
"$ARD" anomaly score "$S" --model pgm --run lite --quiet > /dev/null || fail "score on SQLite"
sqlite3 -separator , "$S/ard.db" "SELECT targetid, rank, score FROM anomalies ORDER BY targetid" \
    > "$T/lite.csv"
paste -d, "$T/pg.csv" "$T/lite.csv" | awk -F, '
    { d = $3 - $6; if (d < 0) d = -d; s = $3 < 0 ? -$3 : $3 }
    $1 != $4 || d > 1e-5 * (1 + s) { n++; print }
    END { exit n > 0 }' > "$T/diff2.txt" || fail "PostgreSQL vs SQLite scores: $(head -3 "$T/diff2.txt")"
# the datasheet section from PostgreSQL
"$ARD" datasheet "$S" --db "$DSN" --out "$T/sheet/README.md" > /dev/null || fail "datasheet on PostgreSQL"
grep -q "Latest scoring run \*\*pgs\*\* (model run pgm" "$T/sheet/README.md" ||
    fail "section: $(grep -A2 '### Anomalies' "$T/sheet/README.md")"
top1=$(q "SELECT targetid FROM anomalies WHERE rank = 1")
grep -q "^| 1 | $top1 | " "$T/sheet/README.md" || fail "top candidate $top1 not in the datasheet"
[ -s "$T/sheet/figures/anomaly-scores.svg" ] || fail "no figure"
echo "anomaly_pg: train + score through PostgreSQL, table = Parquet = SQLite scores, datasheet ok"
