#!/bin/bash
# The cluster collectives under real ranks (1..4): agreeing on a status with every rank's error
# gathered on rank 0, text gathered in rank order, progress summed on rank 0, partitions covering
# every item once, distributed FoF linking identical to the one-process kernel (isotropic and
# redshift space); a command that is not distributed runs once.
source "$(dirname "$0")/mpi_env.bash"
for n in 1 2 3 4; do
  out=$(timeout 120 $MPIRUN -n $n "$TC" mpi 2>&1) || fail "$n ranks: $out"
  [ "$out" = ok ] || fail "$n ranks: $out"
done
# a command that is not split across ranks runs once, on rank 0, and says so
out=$(timeout 120 $MPIRUN -n 3 "$ARD" --version 2>"$W/v.err") || fail "mpirun ard --version"
[ "$out" = "ard $("$ARD" --version | cut -d' ' -f2)" ] || fail "--version under 3 ranks printed: $out"
grep -q "rank 0 runs it, 2 rank(s) idle" "$W/v.err" || fail "no note on the idle ranks: $(cat "$W/v.err")"
echo "ok"
