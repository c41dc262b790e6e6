/* The reliability tests (issue 15): one executable, one group per failure class. An argument
 * runs only the groups whose name contains it (e.g. `test_reliability fault`). */
#include "rel.h"

#include <string.h>

int main(int argc, char **argv) {
    static const struct {
        const char *name;
        int (*run)(void);
    } groups[] = {
        {"special", rel_special_run},
        {"truncate", rel_truncate_run},
        {"confine", rel_confine_run},
        {"schema", rel_schema_run},
        {"sync_lock", rel_sync_lock_run},
        {"faults", rel_faults_run},
        {"fuzz", rel_fuzz_replay_run},
        {"skips", rel_skips_run},
        {"temps", rel_temps_run},
        {"replace", rel_replace_run},
        {"writer_faults", rel_writer_faults_run},
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
        if (argc < 2 || strstr(groups[i].name, argv[1])) {
            failed += groups[i].run();
        }
    }
    return failed ? 1 : 0;
}
