#!/bin/bash
# `mpirun -n N ard anomaly score`: every rank scores a contiguous run of whole batches, rank 0
# writes the run; the scores and anomalies files are byte-identical to one process's and so is
# the index table anomalies, for 2, 3 and 4 ranks (4 ranks: one rank without a batch); a missing
# model is every rank's error, reported on rank 0.
source "$(dirname "$0")/mpi_env.bash"
make_dataset
"$ARD" anomaly train "$W/ds" --epochs 1 --run m1 --quiet > /dev/null 2>&1 || fail "anomaly train"
cat_run() { # cat_run RUN TABLE
  "$ARD" parquet cat "$W/ds/results/anomaly-$1-$2.parquet" 2>/dev/null || fail "reading anomaly-$1-$2"
}
table() { sqlite3 "$W/ds/ard.db" "SELECT targetid, score, chi2, density, rank FROM anomalies ORDER BY rank"; }
"$ARD" anomaly score "$W/ds" --model m1 --run one --quiet > "$W/one.out" 2>&1 ||
  { cat "$W/one.out"; fail "one-process score"; }
table > "$W/one.tab"
[ "$(wc -l < "$W/one.tab")" = 300 ] || fail "the anomalies table has $(wc -l < "$W/one.tab") rows"
for n in 2 3 4; do
  timeout 300 $MPIRUN -n $n "$ARD" anomaly score "$W/ds" --model m1 --run r$n --quiet \
    > "$W/r$n.out" 2> "$W/r$n.err" || { cat "$W/r$n.err"; fail "mpirun -n $n anomaly score"; }
  [ "$(grep -c '^anomaly score: run r'$n "$W/r$n.out")" = 1 ] || fail "$n ranks: not printed once"
  grep -q "300 spectra" "$W/r$n.out" || fail "$n ranks: $(cat "$W/r$n.out")"
  for t in scores anomalies; do
    cmp -s <(cat_run one $t) <(cat_run r$n $t) || fail "$n ranks: the $t file differs"
  done
  cmp -s "$W/one.tab" <(table) || fail "$n ranks: the index table anomalies differs"
  [ "$(sqlite3 "$W/ds/ard.db" "SELECT COUNT(DISTINCT run_id) FROM anomalies")" = 1 ] ||
    fail "$n ranks: anomalies holds several runs"
  [ ! -e "$W/ds/results/anomaly-r$n-part-1-scores.parquet" ] || fail "$n ranks: part files"
done
err=$(timeout 120 $MPIRUN -n 2 "$ARD" anomaly score "$W/ds" --model nosuch --quiet 2>&1); rc=$?
[ $rc = 1 ] || fail "missing model: exit $rc"
echo "$err" | grep -q "^ard: .*rank 0: .*nosuch" && echo "$err" | grep -q "^ard: rank 1: .*nosuch" ||
  fail "missing model: not every rank's error on rank 0: $err"
echo "ok"
