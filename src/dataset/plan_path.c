/* Paths read from the index, confined to the dataset before anything opens them (ard_path_confine:
 * no absolute path, no "..", no symbolic link leading outside). */
#include "dataset_int.h"

#include <stdio.h>

ard_status ard_plan_file_path(const char *dataset, const ard_plan *plan, int32_t file, char **out,
                              ard_error *err) {
    char what[64];
    snprintf(what, sizeof what, "index files row of plan file %d", (int)file);
    return ard_path_confine(dataset, ard_plan_file(plan, file), what, out, err);
}
