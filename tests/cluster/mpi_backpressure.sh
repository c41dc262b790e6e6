#!/bin/bash
# Backpressure of the distributed stream with a slow consumer (it sleeps 100 ms per batch): the
# serve report's own accounting (rank 0's stderr, one line per rank) shows every bound holding
# across the link --
#   - the consumer's store has --prefetch slots (fewer under --memory, and then within it), and it
#     never grants more credits (batches posted and not yet published) than it has slots;
#   - a producer never holds more unused credits than the consumer's slots, never has more batches
#     handed to MPI than its own slots, and its local store is its --prefetch / --memory share;
#   - the producers are paced by the consumer: their last batch leaves only seconds after the first
#     (a producer that ignored the credits would finish at once and buffer the rest);
# and every spectrum arrives exactly once.
source "$(dirname "$0")/mpi_env.bash"
make_dataset
"$ARD" query "$W/ds" --format targets 2>/dev/null | sort > "$W/all_ids"
# field VALUE of LINE: the number after "field" (credits max, in flight max) or before it (slots)
num_after() { echo "$2" | sed -n "s/.*$1 \([0-9]*\).*/\1/p"; }
slots_of() { echo "$1" | sed -n 's/.*store \([0-9]*\) slots, \([0-9]*\) bytes.*/\1/p'; }
bytes_of() { echo "$1" | sed -n 's/.*store \([0-9]*\) slots, \([0-9]*\) bytes.*/\2/p'; }
# check TAG WANT_SLOTS CAP_BYTES: the bounds in $W/TAG.err (3 ranks: consumer 0, producers 1 and 2)
check() {
  local tag=$1 want=$2 cap=$3
  local cons
  cons=$(grep "rank 0 consumer: " "$W/$tag.err") || { cat "$W/$tag.err"; fail "$tag: no consumer report"; }
  local slots credits
  slots=$(slots_of "$cons")
  credits=$(num_after "credits max" "$cons")
  [ -n "$slots" ] && [ -n "$credits" ] || fail "$tag: unreadable report: $cons"
  if [ "$want" = less ]; then
    [ "$slots" -ge 1 ] && [ "$slots" -lt 10 ] || fail "$tag: $slots slots under --memory (prefetch 10)"
  else
    [ "$slots" = "$want" ] || fail "$tag: the consumer has $slots slots, expected --prefetch $want"
  fi
  [ "$credits" -ge 1 ] && [ "$credits" -le "$slots" ] ||
    fail "$tag: the consumer granted $credits credits at once with $slots slots"
  if [ -n "$cap" ]; then
    [ "$(bytes_of "$cons")" -le "$cap" ] || fail "$tag: consumer store $(bytes_of "$cons") bytes > --memory $cap"
  fi
  for r in 1 2; do
    local prod
    prod=$(grep "rank $r producer: " "$W/$tag.err") || fail "$tag: no report of producer $r"
    local pslots pcred pfly psec
    pslots=$(slots_of "$prod")
    pcred=$(num_after "credits max" "$prod")
    pfly=$(num_after "in flight max" "$prod")
    psec=$(echo "$prod" | sed -n 's/.*wire [a-z0-9]*), \([0-9]*\)\.[0-9]* s;.*/\1/p')
    [ -n "$pslots" ] && [ -n "$pcred" ] && [ -n "$pfly" ] && [ -n "$psec" ] || fail "$tag: unreadable: $prod"
    [ "$pcred" -ge 1 ] && [ "$pcred" -le "$slots" ] ||
      fail "$tag: producer $r held $pcred credits, the consumer has $slots slots"
    [ "$pfly" -ge 1 ] && [ "$pfly" -le "$pslots" ] ||
      fail "$tag: producer $r had $pfly batches in flight with $pslots local slots"
    if [ "$want" = less ]; then
      [ "$pslots" -lt 10 ] || fail "$tag: producer $r ignored --memory: $pslots slots"
      [ "$(bytes_of "$prod")" -le "$cap" ] || fail "$tag: producer $r store $(bytes_of "$prod") bytes > $cap"
    else
      [ "$pslots" = "$want" ] || fail "$tag: producer $r has $pslots local slots, expected $want"
    fi
    # paced: 38 batches at >= 100 ms each; a producer's last batch leaves after >= 2 s
    [ "$psec" -ge 2 ] || fail "$tag: producer $r sent everything in $psec s: not paced by the consumer"
  done
  awk '{ print $2 }' "$W/$tag.txt" | sort | cmp -s - "$W/all_ids" || fail "$tag: not every spectrum once"
}
SERVE_ARGS="--batch-size 8 --prefetch 3"
serve_dump slow "--delay 100" $MPIRUN -n 3
check slow 3 ""
# over TCP, with the memory cap deciding the slots on both sides of the link
SERVE_ARGS="--batch-size 8 --prefetch 10 --memory 1200K"
serve_dump slowmem "--delay 100" $MPIRUN --mca btl tcp,self -n 3
check slowmem less 1228800
echo "ok"
