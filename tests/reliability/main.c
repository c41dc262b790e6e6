/* The reliability tests (issue 15): one executable, one group per failure class. */
#include "rel.h"

int main(void) {
    int failed = 0;
    failed += rel_special_run();
    failed += rel_truncate_run();
    failed += rel_confine_run();
    failed += rel_schema_run();
    failed += rel_sync_lock_run();
    failed += rel_faults_run();
    return failed ? 1 : 0;
}
