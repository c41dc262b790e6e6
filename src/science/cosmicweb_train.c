/* Cosmic-web training and prediction: options, input checks, the producer queue that samples
 * minibatches ahead of the trainer, gradient accumulation with seed-count weighting, Adam, metrics,
 * and the split by sky pixel. */
#include "science_int.h"

#include <math.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

void ard_cosmicweb_options_init(ard_cosmicweb_options *opt) {
    memset(opt, 0, sizeof *opt);
    opt->k = 32;
    opt->fanout1 = 25;
    opt->fanout2 = 10;
    opt->hidden = 64;
    opt->batch = 64;
    opt->accum = 64;
    opt->epochs = 10;
    opt->lr = 1e-2f; /* 3e-3 under-trains at 64 x 64 seeds per step: bench/results/cosmicweb.md */
    opt->balanced = 1;
    opt->seed = 1;
    opt->queue = 16;
    opt->geo = 0; /* 4 channels: +0.004 balanced accuracy at 500k (noise), 0.39x the speed */
    opt->reach =
        4; /* 500k: 0.613 vs 0.580 without (0.583 no-graph MLP): bench/results/cosmicweb.md */
    opt->reach_bins = 8;
    opt->reach_mpc = 35.0f;
    opt->reach_fanout = 512;
    opt->reach_randoms = 2;
}

static ard_status check_options(const ard_cosmicweb_options *o, ard_error *err) {
    if (o->k < 16 || o->k > 256 || o->fanout1 < 1 || o->fanout1 > 256 || o->fanout2 < 1 ||
        o->fanout2 > 256 || o->hidden < 1 || o->hidden > 4096 || o->batch < 1 || o->batch > 65536 ||
        o->accum < 1 || o->epochs < 0 || !(o->lr > 0.0f) || o->queue < 1 || o->queue > 1024 ||
        o->geo < 0 || o->geo > 64) {
        return ard_error_set(err, ARD_EINVAL,
                             "cosmicweb: options out of range (k 16..256, fan-outs 1..256, hidden "
                             "1..4096, batch 1..65536, accum >= 1, epochs >= 0, lr > 0, queue "
                             "1..1024, geo 0..64)");
    }
    return ard__cw_reach_check(o->reach, o->reach_bins, o->reach_mpc, o->reach_fanout,
                               o->reach_randoms, err);
}

static ard_status check_input(const ard_cosmicweb_input *in, int training, ard_error *err) {
    if (!in || in->n < 1) {
        return ard_error_set(err, ARD_EINVAL, "cosmicweb: empty selection (no galaxies)");
    }
    if (!in->xyz || !in->z || (training && (!in->label || !in->split))) {
        return ard_error_set(err, ARD_EINVAL, "cosmicweb: missing input arrays%s",
                             training && !in->label ? " (no truth for training)" : "");
    }
    if (in->latent_dim < 0 || in->latent_dim > ARD_COSMICWEB_LATENT_MAX ||
        (in->latent_dim > 0 && !in->latent)) {
        return ard_error_set(err, ARD_EINVAL,
                             "cosmicweb: latent_dim %d (0..%d, and latents given when > 0)",
                             (int)in->latent_dim, ARD_COSMICWEB_LATENT_MAX);
    }
    for (int64_t i = 0; i < in->n; i++) {
        int has = in->latent_dim > 0 && (!in->has_latent || in->has_latent[i]);
        for (int32_t j = 0; has && j < in->latent_dim; j++) {
            if (!isfinite(in->latent[i * in->latent_dim + j])) {
                return ard_error_set(err, ARD_EINVAL,
                                     "cosmicweb: galaxy %lld: non-finite latent %d", (long long)i,
                                     (int)j);
            }
        }
        if (!isfinite(in->z[i])) {
            return ard_error_set(err, ARD_EINVAL, "cosmicweb: galaxy %lld: non-finite redshift",
                                 (long long)i);
        }
        if (training && (in->label[i] < -1 || in->label[i] >= CW_C)) {
            return ard_error_set(err, ARD_EINVAL, "cosmicweb: galaxy %lld: label %d outside -1..3",
                                 (long long)i, (int)in->label[i]);
        }
        if (training && (in->split[i] < 0 || in->split[i] > 2)) {
            return ard_error_set(err, ARD_EINVAL, "cosmicweb: galaxy %lld: split %d outside 0..2",
                                 (long long)i, (int)in->split[i]);
        }
    }
    return ARD_OK;
}

/* ---- the producer queue ---- */

typedef struct cw_slot {
    cw_batch batch;
    int64_t ready; /* sequence number held, -1 = none */
} cw_slot;

typedef struct cw_queue {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    cw_slot *slots;
    int32_t depth;
    int64_t next_claim;
    int64_t consumed;
    int64_t total; /* minibatches this epoch */
    int stop;
    ard_status status;
    ard_error err;
    /* the epoch's work */
    const cw_sampler *sampler;
    const int64_t *order; /* seeds in training order */
    int64_t order_len;
    int32_t batch;
    int64_t epoch;
} cw_queue;

static void *producer_main(void *arg) {
    cw_queue *q = arg;
    for (;;) {
        pthread_mutex_lock(&q->lock);
        while (!q->stop && q->next_claim < q->total && q->next_claim >= q->consumed + q->depth) {
            pthread_cond_wait(&q->cond, &q->lock);
        }
        if (q->stop || q->next_claim >= q->total) {
            pthread_mutex_unlock(&q->lock);
            return NULL;
        }
        int64_t seq = q->next_claim++;
        pthread_mutex_unlock(&q->lock);
        cw_slot *slot = &q->slots[seq % q->depth];
        int64_t first = seq * q->batch;
        int64_t count = q->order_len - first < q->batch ? q->order_len - first : q->batch;
        ard_error err;
        ard_error_init(&err);
        ard_status st = ard__cw_sample_batch(q->sampler, q->epoch, q->order + first, (int32_t)count,
                                             &slot->batch, &err);
        pthread_mutex_lock(&q->lock);
        if (st != ARD_OK && q->status == ARD_OK) {
            q->status = st;
            q->err = err;
            q->stop = 1;
        }
        slot->batch.seq = seq;
        slot->ready = seq;
        pthread_cond_broadcast(&q->cond);
        pthread_mutex_unlock(&q->lock);
    }
}

/* Waits for minibatch `seq`; NULL when the producers failed (q->status says why). */
static cw_batch *queue_take(cw_queue *q, int64_t seq) {
    cw_slot *slot = &q->slots[seq % q->depth];
    pthread_mutex_lock(&q->lock);
    while (slot->ready != seq && q->status == ARD_OK) {
        pthread_cond_wait(&q->cond, &q->lock);
    }
    cw_batch *b = q->status == ARD_OK ? &slot->batch : NULL;
    pthread_mutex_unlock(&q->lock);
    return b;
}

static void queue_release(cw_queue *q) {
    pthread_mutex_lock(&q->lock);
    q->consumed++;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

/* ---- training ---- */

typedef struct cw_trainer {
    const ard_cosmicweb_options *opt;
    ard_cosmicweb_model *model;
    ard_nn_adam adam;
    ard_pool *pool;
    cw_work work;
    cw_sampler sampler;
    cw_queue q;
    pthread_t *threads;
    int32_t producers;
} cw_trainer;

/* Shuffles the training nodes for an epoch (Fisher-Yates from (seed, epoch)). */
static void shuffle(int64_t *order, int64_t n, uint64_t seed, int64_t epoch) {
    sci_rng r;
    ard__sci_rng_seed(&r, ard__sci_mix64(seed ^ 0x5bd1e995ULL) ^ (uint64_t)epoch);
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)ard__sci_rng_below(&r, (uint64_t)(i + 1));
        int64_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

/* One epoch over `order` (already shuffled): minibatches from the producers, gradients accumulated
 * over opt->accum minibatches, each step's loss normalised by the total weight of its seeds. */
static ard_status run_epoch(cw_trainer *t, const int64_t *order, int64_t len, int64_t epoch,
                            const float *weight_of_node, double *loss_out, int64_t *steps,
                            ard_error *err) {
    const ard_cosmicweb_options *o = t->opt;
    cw_queue *q = &t->q;
    q->order = order;
    q->order_len = len;
    q->batch = o->batch;
    q->epoch = epoch;
    q->total = (len + o->batch - 1) / o->batch;
    q->next_claim = 0;
    q->consumed = 0;
    q->stop = 0;
    for (int32_t i = 0; i < q->depth; i++) {
        q->slots[i].ready = -1;
    }
    int32_t started = 0;
    for (; started < t->producers; started++) {
        if (pthread_create(&t->threads[started], NULL, producer_main, q) != 0) {
            break;
        }
    }
    ard_status st = started > 0 ? ARD_OK
                                : ard_error_set(err, ARD_ENOMEM,
                                                "cosmicweb: cannot start "
                                                "sampler threads");
    double total_loss = 0.0, total_weight = 0.0;
    int64_t per_step = (int64_t)o->batch * o->accum;
    for (int64_t seq = 0; seq < q->total && st == ARD_OK; seq++) {
        if (seq % o->accum == 0) {
            ard_nn_params_zero_grad(t->model->params);
        }
        /* the step's normaliser: the weight of every seed of its minibatches */
        int64_t step_first = (seq / o->accum) * per_step;
        int64_t step_end = step_first + per_step < len ? step_first + per_step : len;
        double step_weight = 0.0;
        for (int64_t i = step_first; i < step_end; i++) {
            step_weight += weight_of_node[order[i]];
        }
        cw_batch *b = queue_take(q, seq);
        if (!b) {
            st = ard_error_set(err, q->status, "%s", q->err.msg);
            break;
        }
        double loss = 0.0;
        float scale = step_weight > 0.0 ? (float)(1.0 / step_weight) : 0.0f;
        st = ard__cw_batch_grad(t->model, b, scale, t->pool, &t->work, &loss, err);
        queue_release(q);
        total_loss += loss * step_weight;
        if (st == ARD_OK && (seq % o->accum == o->accum - 1 || seq == q->total - 1)) {
            total_weight += step_weight;
            st = ard_nn_adam_step(&t->adam, t->model->params, err);
            (*steps)++;
        }
    }
    pthread_mutex_lock(&q->lock);
    q->stop = 1;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
    for (int32_t i = 0; i < started; i++) {
        pthread_join(t->threads[i], NULL);
    }
    *loss_out = total_weight > 0.0 ? total_loss / total_weight : 0.0;
    return st;
}

/* Feature mean and standard deviation over the training nodes into the model. */
static void fit_normalisation(ard_cosmicweb_model *m, const float *f, const int64_t *train,
                              int64_t count) {
    for (int j = 0; j < m->nf; j++) {
        double s = 0.0, s2 = 0.0;
        for (int64_t i = 0; i < count; i++) {
            double v = f[train[i] * m->nf + j];
            s += v;
            s2 += v * v;
        }
        double mean = count ? s / (double)count : 0.0;
        double var = count ? s2 / (double)count - mean * mean : 1.0;
        m->mean->value[j] = (float)mean;
        m->std->value[j] = (float)(var > 1e-12 ? sqrt(var) : 1.0);
    }
}

static double balanced_accuracy(const int64_t conf[CW_C][CW_C]) {
    double sum = 0.0;
    int present = 0;
    for (int c = 0; c < CW_C; c++) {
        int64_t row = 0;
        for (int p = 0; p < CW_C; p++) {
            row += conf[c][p];
        }
        if (row > 0) {
            sum += (double)conf[c][c] / (double)row;
            present++;
        }
    }
    return present ? sum / present : 0.0;
}

static void confusion(const float *prob, const ard_cosmicweb_input *in, int32_t split,
                      int64_t conf[CW_C][CW_C]) {
    memset(conf, 0, sizeof(int64_t) * CW_C * CW_C);
    for (int64_t i = 0; i < in->n; i++) {
        if (in->split[i] != split || in->label[i] < 0) {
            continue;
        }
        int best = 0;
        for (int c = 1; c < CW_C; c++) {
            best = prob[i * CW_C + c] > prob[i * CW_C + best] ? c : best;
        }
        conf[in->label[i]][best]++;
    }
}

typedef struct cw_setup {
    ard_pool *pool;
    cw_graph graph;
    float *features;
    float *reach; /* training: n x CW_RB(bins) reach basis; predict: the invariants; or NULL */
    int64_t *train;
    int64_t train_count;
    float *node_weight;
    float class_weight[CW_C];
} cw_setup;

static void setup_reset(cw_setup *s) {
    ard_pool_free(s->pool);
    ard__cw_graph_reset(&s->graph);
    ard_free(s->features);
    ard_free(s->reach);
    ard_free(s->train);
    ard_free(s->node_weight);
    memset(s, 0, sizeof *s);
}

static ard_status setup_training(const ard_cosmicweb_input *in, const ard_cosmicweb_options *o,
                                 cw_setup *s, ard_error *err) {
    memset(s, 0, sizeof *s);
    ard_status st = ard__sci_pool(o->threads, &s->pool, err);
    if (st == ARD_OK) {
        st = ard__cw_graph_build(in->xyz, in->n, o->k, s->pool, &s->graph, err);
    }
    if (st == ARD_OK) {
        st = ard__cw_features(&s->graph, in, &s->features, err);
    }
    if (st == ARD_OK && o->reach > 0) {
        st = ard__cw_reach_basis(in->xyz, in->n, o->reach_bins, o->reach_mpc, o->reach_fanout,
                                 o->reach_randoms, o->seed, 0, in->n, s->pool, &s->reach, err);
    }
    if (st != ARD_OK) {
        return st;
    }
    int64_t counts[CW_C] = {0};
    for (int64_t i = 0; i < in->n; i++) {
        if (in->split[i] == 0 && in->label[i] >= 0) {
            counts[in->label[i]]++;
            s->train_count++;
        }
    }
    if (s->train_count == 0) {
        return ard_error_set(err, ARD_EINVAL,
                             "cosmicweb: no truth for training (no labelled galaxy in the train "
                             "split)");
    }
    s->train = ard_malloc((size_t)s->train_count * sizeof *s->train);
    s->node_weight = ard_calloc((size_t)in->n, sizeof *s->node_weight);
    if (!s->train || !s->node_weight) {
        return ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory for the training set");
    }
    for (int c = 0; c < CW_C; c++) {
        s->class_weight[c] = !o->balanced ? 1.0f
                             : counts[c]
                                 ? (float)((double)s->train_count / (CW_C * (double)counts[c]))
                                 : 0.0f;
    }
    for (int64_t i = 0, at = 0; i < in->n; i++) {
        if (in->split[i] == 0 && in->label[i] >= 0) {
            s->train[at++] = i;
            s->node_weight[i] = s->class_weight[in->label[i]];
        }
    }
    return ARD_OK;
}

static ard_status trainer_start(cw_trainer *t, const ard_cosmicweb_options *o, const cw_setup *s,
                                const ard_cosmicweb_input *in, ard_error *err) {
    t->opt = o;
    t->pool = s->pool;
    ard_nn_adam_init(&t->adam);
    t->adam.lr = o->lr;
    t->sampler = (cw_sampler){.g = &s->graph,
                              .features = s->features,
                              .nf = CW_NF(in->latent_dim),
                              .labels = in->label,
                              .class_weight = s->class_weight,
                              .fanout1 = o->fanout1,
                              .fanout2 = o->fanout2,
                              .seed = o->seed};
    t->q.sampler = &t->sampler;
    t->q.depth = o->queue;
    t->producers = ard_pool_threads(s->pool) > 1 ? ard_pool_threads(s->pool) - 1 : 1;
    t->q.slots = ard_calloc((size_t)o->queue, sizeof *t->q.slots);
    t->threads = ard_calloc((size_t)t->producers, sizeof *t->threads);
    if (!t->q.slots || !t->threads) {
        return ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory for the sampler queue");
    }
    pthread_mutex_init(&t->q.lock, NULL);
    pthread_cond_init(&t->q.cond, NULL);
    return ARD_OK;
}

static void trainer_stop(cw_trainer *t) {
    if (t->q.slots) {
        for (int32_t i = 0; i < t->q.depth; i++) {
            ard__cw_batch_reset(&t->q.slots[i].batch);
        }
        pthread_mutex_destroy(&t->q.lock);
        pthread_cond_destroy(&t->q.cond);
    }
    ard_free(t->q.slots);
    ard_free(t->threads);
    ard__cw_work_reset(&t->work);
}

static ard_status evaluate(const ard_cosmicweb_model *m, const cw_setup *s,
                           const ard_cosmicweb_input *in, ard_cosmicweb_report *r, ard_error *err) {
    float *prob = ard_malloc((size_t)in->n * CW_C * sizeof *prob);
    if (!prob) {
        return ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory for predictions");
    }
    ard_status st = ard__cw_infer(m, &s->graph, s->features, s->pool, prob, err);
    if (st == ARD_OK) {
        int64_t conf[CW_C][CW_C];
        confusion(prob, in, 1, conf);
        r->val_balanced_accuracy = balanced_accuracy((const int64_t(*)[CW_C])conf);
        confusion(prob, in, 2, r->test_confusion);
        r->test_balanced_accuracy = balanced_accuracy((const int64_t(*)[CW_C])r->test_confusion);
        ard__cw_baseline(s->features, m->nf, in->n, s->train, s->train_count, in->label,
                         s->class_weight, prob);
        confusion(prob, in, 2, r->baseline_test_confusion);
        r->baseline_test_balanced_accuracy =
            balanced_accuracy((const int64_t(*)[CW_C])r->baseline_test_confusion);
    }
    ard_free(prob);
    return st;
}

static double process_cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

ard_status ard_cosmicweb_train(const ard_cosmicweb_input *in, const ard_cosmicweb_options *opt,
                               ard_cosmicweb_model **out, ard_cosmicweb_report *report,
                               ard_error *err) {
    if (!out || !opt) {
        return ard_error_set(err, ARD_EINVAL, "cosmicweb: train needs options and out");
    }
    *out = NULL;
    ard_status st = ard__nn_need_blas("cosmicweb training", err);
    if (st == ARD_OK) {
        st = check_options(opt, err);
    }
    if (st == ARD_OK) {
        st = check_input(in, 1, err);
    }
    if (st != ARD_OK) {
        return st;
    }
    ard_cosmicweb_report rep;
    memset(&rep, 0, sizeof rep);
    double t0 = ard__sci_now();
    cw_setup s;
    cw_trainer t;
    memset(&t, 0, sizeof t);
    ard_cosmicweb_model *m = NULL;
    st = setup_training(in, opt, &s, err);
    if (st == ARD_OK) {
        st = ard__cw_model_new(opt->k, opt->hidden, opt->geo, in->latent_dim, opt->fanout1,
                               opt->fanout2, opt->seed, opt, &m, err);
    }
    if (st == ARD_OK) {
        fit_normalisation(m, s.features, s.train, s.train_count);
        ard__cw_normalise(m, s.features, in->n);
        if (m->reach > 0) {
            ard__cw_reach_fit_scale(s.reach, m->reach_bins, s.train, s.train_count,
                                    m->rscale->value);
            ard__cw_reach_normalise(s.reach, m->reach_bins, in->n, m->rscale->value);
            s.graph.reach = s.reach;
        }
        t.model = m;
        st = trainer_start(&t, opt, &s, in, err);
    }
    double t1 = ard__sci_now(), c1 = process_cpu();
    for (int32_t e = 0; e < opt->epochs && st == ARD_OK; e++) {
        shuffle(s.train, s.train_count, opt->seed, e);
        st = run_epoch(&t, s.train, s.train_count, e, s.node_weight, &rep.final_loss, &rep.steps,
                       err);
    }
    double t2 = ard__sci_now(), c2 = process_cpu();
    if (st == ARD_OK) {
        st = evaluate(m, &s, in, &rep, err);
    }
    trainer_stop(&t);
    if (st == ARD_OK) {
        for (int64_t i = 0; i < in->n; i++) {
            rep.train_nodes += in->split[i] == 0 && in->label[i] >= 0;
            rep.val_nodes += in->split[i] == 1 && in->label[i] >= 0;
            rep.test_nodes += in->split[i] == 2 && in->label[i] >= 0;
        }
        rep.seconds_graph = t1 - t0;
        rep.seconds_train = t2 - t1;
        rep.cpu_seconds_train = c2 - c1;
        rep.train_nodes_per_s = t2 > t1 ? (double)rep.train_nodes * opt->epochs / (t2 - t1) : 0.0;
    }
    setup_reset(&s);
    if (st != ARD_OK) {
        ard_cosmicweb_model_free(m);
        return st;
    }
    if (report) {
        *report = rep;
    }
    *out = m;
    return ARD_OK;
}

ard_status ard_cosmicweb_predict(const ard_cosmicweb_model *model, const ard_cosmicweb_input *in,
                                 int32_t threads, int32_t *cls, float *prob, ard_error *err) {
    return ard_cosmicweb_predict_share(model, in, threads, NULL, cls, prob, err);
}

ard_status ard_cosmicweb_predict_share(const ard_cosmicweb_model *model,
                                       const ard_cosmicweb_input *in, int32_t threads,
                                       const ard_cosmicweb_share *share, int32_t *cls, float *prob,
                                       ard_error *err) {
    if (share && (share->size < 1 || share->rank < 0 || share->rank >= share->size ||
                  share->size > 65536 || !share->exchange)) {
        return ard_error_set(err, ARD_EINVAL, "cosmicweb: a bad share (rank %d of %d)",
                             (int)share->rank, (int)share->size);
    }
    ard_status st =
        model ? ARD_OK : ard_error_set(err, ARD_EINVAL, "cosmicweb: predict needs a model");
    if (st == ARD_OK) {
        st = ard__nn_need_blas("cosmicweb prediction", err);
    }
    if (st == ARD_OK) {
        st = check_input(in, 0, err);
    }
    if (st == ARD_OK && in->latent_dim != model->latent) {
        st = model->latent > 0
                 ? ard_error_set(err, ARD_EINVAL,
                                 "cosmicweb: the model was trained with %d anomaly latents per "
                                 "galaxy; this input has %d (give the same anomaly run's latents)",
                                 (int)model->latent, (int)in->latent_dim)
                 : ard_error_set(err, ARD_EINVAL,
                                 "cosmicweb: the model was trained without anomaly latents; this "
                                 "input has %d per galaxy",
                                 (int)in->latent_dim);
    }
    int32_t size = share ? share->size : 1, rank = share ? share->rank : 0;
    int64_t n = st == ARD_OK ? in->n : 0;
    int64_t *bounds = ard_calloc((size_t)size + 1, sizeof *bounds);
    cw_setup s;
    memset(&s, 0, sizeof s);
    float *p = prob ? prob : ard_malloc((size_t)(n ? n : 1) * CW_C * sizeof *p);
    if (st == ARD_OK && (!p || !bounds)) {
        st = ard_error_set(err, ARD_ENOMEM, "cosmicweb: out of memory for probabilities");
    }
    if (bounds) {
        ard__cw_share_bounds(n, size, bounds);
    }
    if (st == ARD_OK) {
        st = ard__sci_pool(threads, &s.pool, err);
    }
    if (st == ARD_OK) {
        st = ard__cw_graph_build_rows(in->xyz, n, model->k, bounds[rank], bounds[rank + 1], s.pool,
                                      &s.graph, err);
    }
    if (st == ARD_OK) {
        st = ard__cw_features(&s.graph, in, &s.features, err);
    }
    if (st == ARD_OK) {
        ard__cw_normalise(model, s.features, n);
    }
    if (st == ARD_OK && model->reach > 0) { /* the model's reach settings, this input's randoms */
        st = ard__cw_reach_invariants(model, in->xyz, n, bounds[rank], bounds[rank + 1], s.pool,
                                      &s.reach, err);
        s.graph.reach_inv = st == ARD_OK ? s.reach : NULL;
    }
    if (share) { /* the others' feature rows (theirs hold no neighbours here) */
        st = share->exchange(share->ctx, st, st == ARD_OK ? s.features : NULL,
                             st == ARD_OK ? model->nf * (int64_t)sizeof(float) : 0, bounds, err);
    }
    if (share || st == ARD_OK) {
        st = ard__cw_infer_share(model, &s.graph, s.features, s.pool, share, bounds, st, p, err);
    }
    ard_free(bounds);
    for (int64_t i = 0; st == ARD_OK && cls && i < n; i++) {
        int best = 0;
        for (int c = 1; c < CW_C; c++) {
            best = p[i * CW_C + c] > p[i * CW_C + best] ? c : best;
        }
        cls[i] = best;
    }
    if (p != prob) {
        ard_free(p);
    }
    setup_reset(&s);
    return st;
}

ard_status ard_cosmicweb_split_by_pixel(const int64_t *pixel, int64_t n, double val_frac,
                                        double test_frac, uint64_t seed, int32_t *split,
                                        ard_error *err) {
    if (n < 0 || (n > 0 && (!pixel || !split)) || !(val_frac >= 0.0 && val_frac <= 1.0) ||
        !(test_frac >= 0.0 && test_frac <= 1.0) || val_frac + test_frac > 1.0) {
        return ard_error_set(err, ARD_EINVAL,
                             "cosmicweb split: fractions %g + %g must lie in [0, 1]", val_frac,
                             test_frac);
    }
    for (int64_t i = 0; i < n; i++) {
        uint64_t h = ard__sci_mix64(ard__sci_mix64(seed ^ 0x9e37ULL) ^ (uint64_t)pixel[i]);
        double u = (double)(h >> 11) * 0x1.0p-53;
        split[i] = u < val_frac ? 1 : u < val_frac + test_frac ? 2 : 0;
    }
    return ARD_OK;
}
