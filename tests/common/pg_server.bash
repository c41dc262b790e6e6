# A throwaway PostgreSQL server for tests (sourced, not run): initdb into a temp dir as an
# unprivileged user (initdb refuses root), Unix socket in that dir, no TCP, fsync off; stopped and
# removed when the sourcing script exits. The caller defines fail() (prints "FAIL: ..." and exits 1)
# before calling pg_server_start. PostgreSQL is a required test component (scripts/install-deps
# installs it), so a server that cannot be found or started FAILS the test loudly: it never passes
# and is never quietly skipped.
#
#   pg_server_start LABEL    sets PGBIN, T (the temp dir, also the socket dir) and DSN
#                            ("host=$T user=ard dbname=postgres")

pg_server_stop() {
    "${PG_AS[@]}" "$PGBIN/pg_ctl" -D "$T/data" -m immediate -w stop >/dev/null 2>&1
    rm -rf "$T"
}

pg_server_start() {
    PGBIN=${ARD_PG_BIN:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}
    [ -x "$PGBIN/initdb" ] || PGBIN=/usr/lib/postgresql/15/bin
    [ -x "$PGBIN/initdb" ] && [ -x "$PGBIN/pg_ctl" ] ||
        fail "PostgreSQL: no initdb/pg_ctl in $PGBIN (scripts/install-deps installs postgresql)"
    T=$(mktemp -d "${TMPDIR:-/tmp}/ard-$1.XXXXXX")
    chmod 755 "$T"
    PG_AS=()
    if [ "$(id -u)" = 0 ]; then
        id nobody >/dev/null 2>&1 || fail "PostgreSQL: running as root and there is no 'nobody' user"
        chown nobody "$T"
        PG_AS=(runuser -u nobody --)
    fi
    trap pg_server_stop EXIT
    "${PG_AS[@]}" "$PGBIN/initdb" -D "$T/data" -A trust -U ard --no-sync -E UTF8 \
        >"$T/initdb.log" 2>&1 || fail "PostgreSQL: initdb failed: $(tail -3 "$T/initdb.log")"
    "${PG_AS[@]}" "$PGBIN/pg_ctl" -D "$T/data" -l "$T/server.log" -w -t 60 \
        -o "-k $T -c listen_addresses= -c fsync=off -c full_page_writes=off" start \
        >/dev/null 2>&1 || fail "PostgreSQL: the server did not start: $(tail -3 "$T/server.log" 2>/dev/null)"
    DSN="host=$T user=ard dbname=postgres"
}
