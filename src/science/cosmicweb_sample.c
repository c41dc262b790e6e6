/* GraphSAGE minibatches: the two-hop sampled neighbourhood of a set of seed nodes, relabelled to local
 * ids (seeds first, then the rest of the first hop, then the second hop), with the seeds' labels and
 * loss weights and the features of every node gathered. A pure function of (seeds, epoch, seed):
 * producers on any thread build the same batch. */
#include "science_int.h"

#include <string.h>

static void *resize(void *p, int64_t count, size_t elem, int *failed) {
    void *q = ard_realloc(p, (size_t)(count > 0 ? count : 1) * elem);
    if (!q) {
        *failed = 1;
        return p;
    }
    return q;
}

/* Room for `seeds` seeds at fan-outs f1, f2 (kept when it fits), and an empty hash table. */
static ard_status batch_reserve(cw_batch *b, int64_t seeds, int64_t f1, int64_t f2, int32_t nf) {
    int64_t n1 = seeds * (1 + f1), n0 = n1 * (1 + f2);
    if (seeds > b->room_seeds || f1 > b->room_f1 || f2 > b->room_f2 || nf > b->room_nf) {
        int failed = 0;
        b->nodes = resize(b->nodes, n0, sizeof *b->nodes, &failed);
        b->x = resize(b->x, n0 * nf, sizeof *b->x, &failed);
        b->pos = resize(b->pos, n0 * 3, sizeof *b->pos, &failed);
        b->off1 = resize(b->off1, n1 + 1, sizeof *b->off1, &failed);
        b->idx1 = resize(b->idx1, n1 * f2, sizeof *b->idx1, &failed);
        b->off2 = resize(b->off2, seeds + 1, sizeof *b->off2, &failed);
        b->idx2 = resize(b->idx2, seeds * f1, sizeof *b->idx2, &failed);
        b->labels = resize(b->labels, seeds, sizeof *b->labels, &failed);
        b->weights = resize(b->weights, seeds, sizeof *b->weights, &failed);
        int64_t hcap = 64;
        while (hcap < 2 * n0) {
            hcap *= 2;
        }
        b->hash = resize(b->hash, hcap, sizeof *b->hash, &failed);
        b->hash_local = resize(b->hash_local, hcap, sizeof *b->hash_local, &failed);
        if (failed) {
            b->room_seeds = b->room_f1 = b->room_f2 = b->room_nf = b->hash_cap = 0;
            return ARD_ENOMEM;
        }
        b->hash_cap = hcap;
        b->room_seeds = seeds;
        b->room_f1 = f1;
        b->room_f2 = f2;
        b->room_nf = nf;
    }
    memset(b->hash, 0, (size_t)b->hash_cap * sizeof *b->hash);
    return ARD_OK;
}

/* Local id of global node g, adding it when new. */
static int64_t local_id(cw_batch *b, int64_t g) {
    uint64_t mask = (uint64_t)b->hash_cap - 1;
    uint64_t h = ard__sci_mix64((uint64_t)g) & mask;
    while (b->hash[h] != 0) {
        if (b->hash[h] == g + 1) {
            return b->hash_local[h];
        }
        h = (h + 1) & mask;
    }
    b->hash[h] = g + 1;
    b->hash_local[h] = b->n0;
    b->nodes[b->n0] = g;
    return b->n0++;
}

ard_status ard__cw_sample_batch(const cw_sampler *s, int64_t epoch, const int64_t *seeds,
                                int32_t count, cw_batch *b, ard_error *err) {
    if (batch_reserve(b, count, s->fanout1, s->fanout2, s->nf) != ARD_OK) {
        return ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory for a minibatch");
    }
    int64_t tmp[256];
    b->seeds = count;
    b->n0 = 0;
    b->reach = s->g->reach;
    for (int32_t i = 0; i < count; i++) {
        local_id(b, seeds[i]);
        int32_t y = s->labels[seeds[i]];
        b->labels[i] = y;
        b->weights[i] = s->class_weight[y];
    }
    int64_t at = 0;
    b->off2[0] = 0;
    for (int32_t i = 0; i < count; i++) {
        int32_t got = ard__cw_sample_neighbors(s->g, s->seed, epoch, 1, seeds[i], s->fanout1, tmp);
        for (int32_t j = 0; j < got; j++) {
            b->idx2[at++] = local_id(b, tmp[j]);
        }
        b->off2[i + 1] = at;
    }
    b->n1 = b->n0;
    at = 0;
    b->off1[0] = 0;
    for (int64_t i = 0; i < b->n1; i++) {
        int32_t got =
            ard__cw_sample_neighbors(s->g, s->seed, epoch, 2, b->nodes[i], s->fanout2, tmp);
        for (int32_t j = 0; j < got; j++) {
            b->idx1[at++] = local_id(b, tmp[j]);
        }
        b->off1[i + 1] = at;
    }
    for (int64_t i = 0; i < b->n0; i++) {
        memcpy(b->x + i * s->nf, s->features + b->nodes[i] * s->nf, (size_t)s->nf * sizeof *b->x);
        memcpy(b->pos + i * 3, s->g->xyz + b->nodes[i] * 3, 3 * sizeof *b->pos);
    }
    return ARD_OK;
}

void ard__cw_batch_reset(cw_batch *b) {
    ard_free(b->nodes);
    ard_free(b->off1);
    ard_free(b->idx1);
    ard_free(b->off2);
    ard_free(b->idx2);
    ard_free(b->x);
    ard_free(b->pos);
    ard_free(b->labels);
    ard_free(b->weights);
    ard_free(b->hash);
    ard_free(b->hash_local);
    memset(b, 0, sizeof *b);
}
