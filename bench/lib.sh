# shellcheck shell=bash disable=SC2034
# Shared helpers for ard's benchmark scripts (sourced, not run): locating the build and DuckDB,
# machine information, and turning `RESULT key=value` lines into best/median figures.
# Benchmarks never fail a build: the scripts report SKIPPED and exit 0 when something is missing.

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT_DIR="$(cd "$BENCH_DIR/.." && pwd)"

bench_note() { printf '%s\n' "$*" >&2; }

bench_skip_banner() {
    printf '\n'
    printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n'
    printf '!!! SKIPPED: %s\n' "$*"
    printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\n'
}

# Resolves the build directory argument (relative paths are taken from the repository root).
bench_build_dir() {
    local dir="${1:-${ARD_BUILD_DIR:-build/release}}"
    case "$dir" in
    /*) printf '%s\n' "$dir" ;;
    *) printf '%s\n' "$ROOT_DIR/$dir" ;;
    esac
}

# Sets HAVE_DUCKDB=1 when DuckDB's node client is installed (installing it if needed), else 0.
bench_duckdb_init() {
    HAVE_DUCKDB=0
    DUCKDB_VERSION="n/a"
    if "$BENCH_DIR/duckdb-setup"; then
        HAVE_DUCKDB=1
        DUCKDB_VERSION="$(node "$BENCH_DIR/duckdb_bench.mjs" version 2>/dev/null || echo '?')"
    else
        bench_skip_banner "DuckDB (npm @duckdb/node-api) unavailable: DuckDB figures not measured"
    fi
}

bench_duckdb() { node "$BENCH_DIR/duckdb_bench.mjs" "$@"; }

bench_cpu_model() {
    local model
    model="$(grep -m1 -E '^model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
    printf '%s\n' "${model:-unknown}"
}

# A markdown table of the machine, for pasting beside the figures in the README.
bench_machine_table() {
    printf '| machine | |\n|---|---|\n'
    printf '| date | %s |\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
    printf '| nproc | %s |\n' "$(nproc)"
    printf '| CPU | %s |\n' "$(bench_cpu_model)"
    printf '| memory | %s |\n' "$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    printf '| kernel | %s |\n' "$(uname -r)"
    printf '| compiler | %s |\n' "$(cc --version 2>/dev/null | head -n1)"
    printf '| DuckDB | %s (npm @duckdb/node-api) |\n' "${DUCKDB_VERSION:-n/a}"
    printf '| load avg at end | %s |\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# Reads RESULT lines on stdin; prints one line per group of equal values of the given keys:
#   <group values...> <count> <best seconds> <median seconds> <last check>
# Example: bench_stats tool query mode threads < results
bench_stats() {
    awk -v keys="$*" '
    /^RESULT / {
        delete kv
        for (i = 2; i <= NF; i++) { eq = index($i, "="); kv[substr($i, 1, eq - 1)] = substr($i, eq + 1) }
        n = split(keys, ks, " "); g = ""
        for (i = 1; i <= n; i++) g = g (i > 1 ? " " : "") (ks[i] in kv ? kv[ks[i]] : "-")
        if (!(g in cnt)) order[++ng] = g
        cnt[g]++; vals[g, cnt[g]] = kv["seconds"] + 0; check[g] = kv["check"]
    }
    END {
        for (o = 1; o <= ng; o++) {
            g = order[o]; c = cnt[g]
            for (i = 1; i <= c; i++) v[i] = vals[g, i]
            for (i = 2; i <= c; i++) { x = v[i]; j = i - 1; while (j >= 1 && v[j] > x) { v[j + 1] = v[j]; j-- } v[j + 1] = x }
            med = (c % 2) ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2
            printf "%s %d %.6f %.6f %s\n", g, c, v[1], med, check[g]
        }
    }'
}
