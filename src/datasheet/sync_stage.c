/* The sync stage with the datasheet rule: ard_index_sync, then the datasheet rewritten when the
 * index changed or the datasheet is missing. Here and not in the index, which may not use the
 * datasheet (DESIGN.md module table). */
#include "datasheet_int.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void ard_datasheet_sync_options_init(ard_datasheet_sync_options *o) {
    memset(o, 0, sizeof *o);
}

static int index_changed(const ard_sync_report *r) {
    return r->files_added + r->files_changed + r->files_removed + r->files_failed > 0;
}

ard_status ard_datasheet_sync(ard_index *idx, const char *dataset,
                              const ard_datasheet_sync_options *o,
                              ard_datasheet_sync_report *report, ard_error *err) {
    ard_datasheet_sync_options defaults;
    ard_datasheet_sync_options_init(&defaults);
    const ard_datasheet_sync_options *opts = o ? o : &defaults;
    ard_datasheet_sync_report local;
    ard_datasheet_sync_report *rep = report ? report : &local;
    memset(rep, 0, sizeof *rep);
    ard_status st = ard_index_sync(idx, dataset, &opts->sync, &rep->sync, err);
    rep->synced = st == ARD_OK;
    if (st != ARD_OK || opts->no_datasheet || opts->sync.size > 1) {
        return st;
    }
    char path[4096];
    if (opts->datasheet.out_path) {
        snprintf(path, sizeof path, "%s", opts->datasheet.out_path);
    } else {
        snprintf(path, sizeof path, "%s/DATA_README.md", dataset);
    }
    if (!index_changed(&rep->sync) && access(path, F_OK) == 0) {
        return ARD_OK;
    }
    st = ard_datasheet_write(dataset, idx, &opts->datasheet, err);
    if (st == ARD_OK) {
        rep->datasheet_written = 1;
        snprintf(rep->datasheet_path, sizeof rep->datasheet_path, "%s", path);
    }
    return st;
}
