#!/bin/bash
# The cluster collectives under real ranks (1..4): agreeing on a status with every rank's error
# gathered on rank 0, text gathered in rank order, progress summed on rank 0, partitions covering
# every item once.
source "$(dirname "$0")/mpi_env.bash"
for n in 1 2 3 4; do
  out=$(timeout 120 $MPIRUN -n $n "$TC" mpi 2>&1) || fail "$n ranks: $out"
  [ "$out" = ok ] || fail "$n ranks: $out"
done
echo "ok"
