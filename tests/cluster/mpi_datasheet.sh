#!/bin/bash
# `mpirun -n N ard datasheet`: every rank aggregates, the figures are shared round robin, rank 0
# writes DATA_README.md last; the Markdown and every figure equal one process's for 2 and 3 ranks;
# a missing index is every rank's error, reported on rank 0.
source "$(dirname "$0")/mpi_env.bash"
make_dataset
"$ARD" anomaly train "$W/ds" --epochs 1 --run m1 --quiet > /dev/null 2>&1 || fail "anomaly train"
"$ARD" anomaly score "$W/ds" --model m1 --run s1 --quiet > /dev/null 2>&1 || fail "anomaly score"
mkdir -p "$W/one"
"$ARD" datasheet "$W/ds" --out "$W/one/DATA_README.md" > /dev/null 2>&1 || fail "one-process datasheet"
nfig=$(ls "$W/one/figures" | wc -l)
[ "$nfig" = 5 ] || fail "the one-process datasheet drew $nfig figures: $(ls "$W/one/figures")"
for n in 2 3; do
  mkdir -p "$W/r$n"
  timeout 300 $MPIRUN -n $n "$ARD" datasheet "$W/ds" --out "$W/r$n/DATA_README.md" \
    > "$W/r$n.out" 2> "$W/r$n.err" || { cat "$W/r$n.err"; fail "mpirun -n $n datasheet"; }
  [ "$(wc -l < "$W/r$n.out")" = 1 ] || fail "$n ranks: printed $(wc -l < "$W/r$n.out") lines"
  cmp "$W/one/DATA_README.md" "$W/r$n/DATA_README.md" || fail "$n ranks: DATA_README.md differs"
  diff -r "$W/one/figures" "$W/r$n/figures" > /dev/null || fail "$n ranks: the figures differ"
done
mkdir -p "$W/empty"
err=$(timeout 120 $MPIRUN -n 2 "$ARD" datasheet "$W/empty" 2>&1); rc=$?
[ $rc = 1 ] || fail "no index: exit $rc: $err"
echo "$err" | grep -q "^ard: rank 0: " && echo "$err" | grep -q "^ard: rank 1: " ||
  fail "no index: not every rank's error on rank 0: $err"
[ ! -e "$W/empty/DATA_README.md" ] || fail "no index: a datasheet was written"
echo "ok"
