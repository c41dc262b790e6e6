#!/bin/bash
# `mpirun -n N ard cosmicweb predict`: every rank finds the neighbours of, and runs both layers for,
# its share of the galaxies (feature and hidden rows exchanged between the layers), rank 0 writes
# the run; the results file and the index table cosmic_web equal one process's for 2, 3 and 4
# ranks (4 ranks over 3 inference chunks: one rank predicts nothing); a missing model is every
# rank's error, reported on rank 0.
source "$(dirname "$0")/mpi_env.bash"
"$ARD" generate "$W/ds" --galaxies 6000 --spectra none --seed 3 --quiet || fail "generate"
"$ARD" sync "$W/ds" >/dev/null 2>&1 || fail "sync"
"$ARD" cosmicweb train "$W/ds" --epochs 1 --accum 4 --k 16 --fanout1 8 --fanout2 4 --hidden 16 \
  --run-id m --threads 2 >/dev/null 2>&1 || fail "train"
res() { "$ARD" parquet cat "$W/ds/results/cosmicweb-$1-galaxies.parquet" 2>/dev/null || fail "cat $1"; }
table() { sqlite3 "$W/ds/ard.db" "SELECT targetid, class, p_void, p_sheet, p_filament, p_knot FROM cosmic_web ORDER BY targetid"; }
"$ARD" cosmicweb predict "$W/ds" --model m --run-id one --threads 2 > "$W/one.out" 2>&1 ||
  { cat "$W/one.out"; fail "one-process predict"; }
table > "$W/one.tab"
[ "$(wc -l < "$W/one.tab")" -ge 5900 ] || fail "cosmic_web has $(wc -l < "$W/one.tab") rows"
for n in 2 3 4; do
  timeout 300 $MPIRUN -n $n "$ARD" cosmicweb predict "$W/ds" --model m --run-id r$n --threads 1 \
    > "$W/r$n.out" 2> "$W/r$n.err" || { cat "$W/r$n.err"; fail "mpirun -n $n cosmicweb predict"; }
  [ "$(grep -c '^cosmicweb predict: run r'$n "$W/r$n.out")" = 1 ] || fail "$n ranks: not printed once"
  cmp -s <(res one) <(res r$n) || fail "$n ranks: the results file differs"
  cmp -s "$W/one.tab" <(table) || fail "$n ranks: the index table cosmic_web differs"
  [ "$(sed 1d "$W/one.out")" = "$(sed 1d "$W/r$n.out")" ] || fail "$n ranks: the report differs"
done
err=$(timeout 120 $MPIRUN -n 2 "$ARD" cosmicweb predict "$W/ds" --model nosuch 2>&1); rc=$?
[ $rc = 1 ] || fail "missing model: exit $rc"
echo "$err" | grep -q "^ard: rank 0: .*nosuch" && echo "$err" | grep -q "^ard: rank 1: .*nosuch" ||
  fail "missing model: not every rank's error on rank 0: $err"
echo "ok"
