/* The CLI's MPI hook: MPI starts only when a launcher (mpirun) started this process, so `ard`
 * run by hand never touches MPI; it stops when the command returns. */
#include "cli.h"

#include "ard/cluster.h"

#include <stdlib.h>
#include <string.h>

int ard_cli_cluster_begin(int *argc, char ***argv);
void ard_cli_cluster_end(void);

/* Commands that split their work across ranks; any other command runs on rank 0 alone under
 * mpirun (N copies of `ard sync` would race on one index). */
static int distributed(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "fof") == 0) {
        return 1;
    }
    if (argc >= 3 && strcmp(argv[1], "anomaly") == 0 && strcmp(argv[2], "score") == 0) {
        return 1;
    }
    if (argc >= 3 && strcmp(argv[1], "cosmicweb") == 0 && strcmp(argv[2], "predict") == 0) {
        return 1;
    }
    if (argc >= 2 && (strcmp(argv[1], "fetch") == 0 || strcmp(argv[1], "datasheet") == 0)) {
        for (int i = 2; i < argc; i++) {
            if (strcmp(argv[i], "--stdout") == 0 || strcmp(argv[i], "--help") == 0 ||
                strcmp(argv[i], "--list-placeholders") == 0 ||
                strcmp(argv[i], "--print-template") == 0) {
                return 0; /* printing runs once */
            }
        }
        return 1;
    }
    if (argc >= 2 && strcmp(argv[1], "sync") == 0) {
        for (int i = 2; i < argc; i++) {
            if (strcmp(argv[i], "--check") == 0) {
                return 0; /* a read-only check runs once */
            }
        }
        return 1;
    }
    return argc >= 3 && strcmp(argv[1], "stream") == 0 && strcmp(argv[2], "serve") == 0;
}

/* One progress display per job, on rank 0: the other ranks draw none (a distributed stage sums
 * their work on rank 0). Under mpirun no rank has a terminal on stderr, so rank 0 writes plain
 * progress lines every 10 s (ARD_PROGRESS_LINES, core.h) unless the user set another interval or
 * ARD_NO_PROGRESS. */
static void progress_on_rank0(int32_t rank) {
    if (rank != 0) {
        setenv("ARD_NO_PROGRESS", "1", 1);
    } else {
        setenv("ARD_PROGRESS_LINES", "10", 0);
    }
}

/* Returns 0 to run the command, -1 when this rank sits the command out (exit 0), or the exit code
 * when mpirun started an ard that cannot run under it. */
int ard_cli_cluster_begin(int *argc, char ***argv) {
    if (!ard_cluster_launched()) {
        return 0;
    }
    ard_error err;
    ard_error_init(&err);
    ard_status st = ard_cluster_init(argc, argv, &err);
    if (st == ARD_ENOTSUP) {
        const char *size = getenv("OMPI_COMM_WORLD_SIZE");
        if (!size) {
            size = getenv("PMI_SIZE");
        }
        if (size && strtol(size, NULL, 10) <= 1) {
            return 0; /* one rank: the single-process command is the right one */
        }
    }
    if (st != ARD_OK) {
        return ard_cli_fail(st, &err);
    }
    ard_cluster *cl = NULL;
    if (ard_cluster_open(&cl, &err) != ARD_OK) {
        return ard_cli_fail(ARD_EIO, &err);
    }
    int32_t rank = ard_cluster_rank(cl), size = ard_cluster_size(cl);
    ard_cluster_close(cl);
    progress_on_rank0(rank);
    if (distributed(*argc, *argv)) {
        return 0;
    }
    if (size > 1 && rank == 0) {
        fprintf(stderr, "ard: '%s' is not split across ranks: rank 0 runs it, %d rank(s) idle\n",
                *argc >= 2 ? (*argv)[1] : "", size - 1);
    }
    return rank == 0 ? 0 : -1;
}

void ard_cli_cluster_end(void) {
    ard_cluster_finalize();
}
