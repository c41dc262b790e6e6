#!/usr/bin/env bash
# `ard anomaly train|score|merge|top` end to end on a tiny generated survey: reports, files, the top rows
# in rank order with catalog columns, sharded scoring merged into one run, and usage / missing-model
# errors with their exit statuses.
set -euo pipefail
ARD="$1"
TMP="$(mktemp -d /tmp/ard-anomaly-cli-XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
"$ARD" generate "$TMP/ds" --galaxies 120 --seed 4 --anomalies 0.1 --quiet
"$ARD" sync "$TMP/ds" > /dev/null
rc=0; "$ARD" anomaly score "$TMP/ds" --quiet > /dev/null 2> "$TMP/err" || rc=$?
[ "$rc" = 1 ] || fail "score without a model exited $rc"
grep -q "no model" "$TMP/err" || fail "missing-model message: $(cat "$TMP/err")"
rc=0; "$ARD" anomaly train "$TMP/ds" --epochs 0 2> /dev/null || rc=$?
[ "$rc" = 2 ] || fail "--epochs 0 exited $rc"
rc=0; "$ARD" anomaly fit "$TMP/ds" 2> /dev/null || rc=$?
[ "$rc" = 2 ] || fail "unknown subcommand exited $rc"
"$ARD" anomaly train "$TMP/ds" --epochs 2 --hidden 32 --embed 8 --latent 4 --reference 50 \
    --batch-size 32 --run c1 --quiet > "$TMP/train.txt"
grep -q "anomaly train: run c1, 120 spectra x 2 epochs" "$TMP/train.txt" || fail "$(cat "$TMP/train.txt")"
[ -s "$TMP/ds/models/anomaly-c1.safetensors" ] || fail "no model file"
[ -s "$TMP/ds/results/anomaly-c1-training.parquet" ] || fail "no training table"
"$ARD" anomaly score "$TMP/ds" --run c1s --quiet > "$TMP/score.txt"
grep -q "anomaly score: run c1s (model c1), 120 spectra" "$TMP/score.txt" || fail "$(cat "$TMP/score.txt")"
[ -s "$TMP/ds/results/anomaly-c1s-scores.parquet" ] || fail "no scores file"
"$ARD" anomaly top "$TMP/ds" -k 3 > "$TMP/top.txt"
[ "$(head -1 "$TMP/top.txt" | cut -f1-3)" = "$(printf 'rank\ttargetid\tscore')" ] || fail "header: $(head -1 "$TMP/top.txt")"
[ "$(tail -n +2 "$TMP/top.txt" | cut -f1 | tr '\n' ' ')" = "1 2 3 " ] || fail "ranks: $(cat "$TMP/top.txt")"
tail -n +2 "$TMP/top.txt" | cut -f8 | grep -qE 'GALAXY|QSO|STAR' || fail "no catalog SPECTYPE in top rows"
# sharded scoring without MPI: two --rank/--size parts, then `merge` writes one run (index table too)
for r in 0 1; do
    "$ARD" anomaly score "$TMP/ds" --model c1 --run sh --rank $r --size 2 --quiet > /dev/null \
        || fail "part $r"
done
"$ARD" anomaly merge "$TMP/ds" --model c1 --run sh --size 2 > "$TMP/merge.txt" || fail "merge"
grep -q "anomaly merge: run sh (model c1), 120 spectra" "$TMP/merge.txt" || fail "$(cat "$TMP/merge.txt")"
"$ARD" anomaly top "$TMP/ds" -k 120 > "$TMP/top2.txt"
[ "$(tail -n +2 "$TMP/top2.txt" | wc -l)" = 120 ] || fail "merged top: $(wc -l < "$TMP/top2.txt") lines"
[ "$(tail -n +2 "$TMP/top2.txt" | cut -f6 | sort -u)" = sh ] || fail "merged run_id: $(cut -f6 "$TMP/top2.txt" | sort -u)"
rc=0; "$ARD" anomaly merge "$TMP/ds" --model c1 --run sh --size 3 > /dev/null 2> "$TMP/err" || rc=$?
[ "$rc" = 1 ] && grep -q "anomaly-sh-part-2-scores.parquet" "$TMP/err" || fail "missing part: rc $rc $(cat "$TMP/err")"
echo "anomaly CLI: ok"
