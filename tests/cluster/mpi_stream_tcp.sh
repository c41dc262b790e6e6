#!/bin/bash
# The distributed stream over the TCP transport only (--mca btl tcp,self: the network path, not
# shared memory): 1 consumer + 3 producers deliver the one-process sequence bit for bit (f32) and
# rounded to f16 (f16 wire).
source "$(dirname "$0")/mpi_env.bash"
make_dataset
TCP="$MPIRUN --mca btl tcp,self"
SERVE_ARGS="--batch-size 24 --shuffle --seed 3 --prefetch 4"
serve_dump ref ""
serve_dump tcp "" $TCP -n 4
cmp -s "$W/ref.txt" "$W/tcp.txt" || fail "tcp: the sequence differs from one process"
serve_dump ref16 "--quantize f16"
SERVE_ARGS="$SERVE_ARGS --wire f16"
serve_dump tcp16 "--quantize f16 --dtype f16" $TCP -n 4
cmp -s "$W/ref16.txt" "$W/tcp16.txt" || fail "tcp f16: not the reference rounded to f16"
[ "$(wc -l < "$W/tcp16.txt")" = 300 ] || fail "tcp f16: not every spectrum"
echo "ok"
