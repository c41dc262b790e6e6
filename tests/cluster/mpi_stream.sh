#!/bin/bash
# The distributed stream: the same seed gives the same spectra in the same order (bit for bit with
# the f32 wire) whatever the number of producer ranks and the consumer rank; every spectrum of an
# epoch exactly once; f16/bf16 wires deliver the tokens rounded to the wire format and nothing else
# changed; drop_last, cache and shards; --plan; --memory caps the consumer's slots; --cpus pins each rank; every failing
# rank's error reaches rank 0's stderr with its rank number.
source "$(dirname "$0")/mpi_env.bash"
make_dataset
SERVE_ARGS="--batch-size 16 --shuffle --shuffle-buffer 40 --seed 7 --epochs 2 --prefetch 3"
serve_dump ref ""
lines=$(wc -l < "$W/ref.txt")
[ "$lines" = 600 ] || fail "one process delivered $lines spectra, expected 2 x 300"
"$ARD" query "$W/ds" --format targets 2>/dev/null | sort > "$W/all_ids"
for e in 0 1; do
  awk -v e=$e '$1 == e { print $2 }' "$W/ref.txt" | sort > "$W/ep$e"
  cmp -s "$W/ep$e" "$W/all_ids" || fail "epoch $e of the reference is not every spectrum once"
done
cmp -s <(awk '$1 == 0 { print $2 }' "$W/ref.txt") <(awk '$1 == 1 { print $2 }' "$W/ref.txt") &&
  fail "the two shuffled epochs came in the same order"
for n in 2 3 4; do
  serve_dump "n$n" "" $MPIRUN -n $n
  cmp -s "$W/ref.txt" "$W/n$n.txt" || fail "$n ranks: the sequence differs from one process"
  grep -q "rank $((n - 1)) pid [0-9]* .*producer" "$W/n$n.err" || fail "$n ranks: no layout line"
done
# exactly once across producers, per epoch (the sequence is the reference's, checked above, but
# check the delivered set itself too)
for e in 0 1; do
  awk -v e=$e '$1 == e { print $2 }' "$W/n3.txt" | sort | cmp -s - "$W/all_ids" ||
    fail "3 ranks: epoch $e is not every spectrum exactly once"
done
# another consumer rank, a narrow wire: tokens rounded to f16, everything else exact
SERVE_ARGS="$SERVE_ARGS --wire f16 --consumer-rank 2"
serve_dump f16 "--quantize f16 --dtype f16" $MPIRUN -n 3
SERVE_ARGS="--batch-size 16 --shuffle --shuffle-buffer 40 --seed 7 --epochs 2 --prefetch 3"
serve_dump ref16 "--quantize f16"
cmp -s "$W/ref16.txt" "$W/f16.txt" || fail "f16 wire: not the reference rounded to f16"
cmp -s "$W/ref.txt" "$W/f16.txt" && fail "f16 wire: tokens were not narrowed (same hashes as f32)"
grep -q "wire f16" "$W/f16.err" || fail "f16: layout does not name the wire"
f32b=$(sed -n 's/.*rank 0 consumer: .*(\([0-9]*\) bytes\/spectrum.*/\1/p' "$W/n2.err")
f16b=$(sed -n 's/.*rank 2 consumer: .*(\([0-9]*\) bytes\/spectrum.*/\1/p' "$W/f16.err")
[ -n "$f32b" ] && [ -n "$f16b" ] && [ "$f16b" -lt "$f32b" ] || fail "bytes/spectrum f16 $f16b vs f32 $f32b"
SERVE_ARGS="$SERVE_ARGS --wire bf16"
serve_dump bf16 "--quantize bf16 --dtype bf16" $MPIRUN -n 2
SERVE_ARGS="--batch-size 16 --shuffle --shuffle-buffer 40 --seed 7 --epochs 2 --prefetch 3"
serve_dump refbf "--quantize bf16"
cmp -s "$W/refbf.txt" "$W/bf16.txt" || fail "bf16 wire: not the reference rounded to bf16"
# drop_last, the epoch cache (on the producers) and shards keep their meaning across ranks
SERVE_ARGS="--batch-size 16 --shuffle --seed 9 --epochs 3 --drop-last --cache --world 2 --rank 1"
serve_dump cacheref ""
serve_dump cache3 "" $MPIRUN -n 3
cmp -s "$W/cacheref.txt" "$W/cache3.txt" || fail "--drop-last --cache --world 2: 3 ranks differ"
[ "$(wc -l < "$W/cache3.txt")" = $((3 * 144)) ] || fail "shard 1 of 2, drop_last: expected 3 x 144 spectra"
# a read plan (every rank reads the file), no shuffle, one epoch, a short last batch
"$ARD" query "$W/ds" --where "Z > 0.8" --format plan > "$W/plan.tsv" 2>/dev/null
SERVE_ARGS="--batch-size 7 --plan $W/plan.tsv"
serve_dump planref ""
serve_dump plan3 "" $MPIRUN -n 3
cmp -s "$W/planref.txt" "$W/plan3.txt" || fail "--plan: 3 ranks differ from one process"
# the consumer's memory cap holds: fewer slots than --prefetch
SERVE_ARGS="--batch-size 16 --prefetch 10 --memory 1200K" # decoding counts too: one row group is reserved
serve_dump mem "" $MPIRUN -n 2
grep -q "consumer, store /$NAME-mem, [2-9] slots" "$W/mem.err" || { cat "$W/mem.err"; fail "--memory: slots"; }
[ "$(wc -l < "$W/mem.txt")" = 300 ] || fail "--memory: not every spectrum"
# --cpus: one group per rank
if [ "$(nproc)" -ge 2 ]; then
  SERVE_ARGS="--batch-size 32 --cpus 0:1"
  serve_dump cpus "" $MPIRUN -n 3
  grep -q "rank 0 .*cpus 0$" "$W/cpus.err" && grep -q "rank 1 .*cpus 1$" "$W/cpus.err" &&
    grep -q "rank 2 .*cpus 0$" "$W/cpus.err" || { cat "$W/cpus.err"; fail "--cpus layout"; }
fi
# --cpus without mpirun: this process is pinned and says so
SERVE_ARGS="--batch-size 64 --cpus 0"
serve_dump cpus1 ""
grep -q "^ard: layout: pid [0-9]*: .*cpus 0$" "$W/cpus1.err" || { cat "$W/cpus1.err"; fail "--cpus in one process"; }
# every failing rank's error, on rank 0, with its rank number
err=$(timeout 120 $MPIRUN -n 3 "$ARD" stream serve "$W/missing" --name "$NAME-x" 2>&1); rc=$?
[ $rc = 1 ] || fail "missing dataset: exit $rc"
echo "$err" | grep -q "^ard: rank 1: .*missing" && echo "$err" | grep -q "^ard: rank 2: .*missing" ||
  fail "missing dataset: errors of ranks 1 and 2 not reported: $err"
err=$(timeout 120 $MPIRUN -n 2 "$ARD" stream serve "$W/ds" --name "$NAME-y" --consumer-rank 5 2>&1); rc=$?
[ $rc = 1 ] && echo "$err" | grep -q "consumer-rank 5 of 2" || fail "--consumer-rank 5: $rc $err"
echo "ok"
