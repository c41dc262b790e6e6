/* The CLI's MPI hook: MPI starts only when a launcher (mpirun) started this process, so `ard`
 * run by hand never touches MPI; it stops when the command returns. */
#include "cli.h"

#include "ard/cluster.h"

#include <stdlib.h>

int ard_cli_cluster_begin(int *argc, char ***argv);
void ard_cli_cluster_end(void);

/* Returns 0, or the exit code when mpirun started an ard that cannot run under it. */
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
    return st == ARD_OK ? 0 : ard_cli_fail(st, &err);
}

void ard_cli_cluster_end(void) {
    ard_cluster_finalize();
}
