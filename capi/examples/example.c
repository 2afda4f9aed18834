/*
 * example.c: analyse a COMTRADE recording through the PQE C interface.
 *
 *   example RECORDING.cfg [UDIN [NOMINAL_FREQUENCY [OUT_DIR]]]
 *
 * Reads the recording with pqe_comtrade_*, pushes it block by block through a
 * pqe_analyzer, prints the 10/12-cycle intervals (t, flagged, U_A where there is one),
 * the 10-s frequencies and the events; then reads it again with timed pushes
 * (pqe_analyzer_push_at) leaving one block out, as a stream that lost a block would, and
 * checks that exactly one interval after the gap is flagged; then checks the error paths
 * (NULL arguments, a freed handle, a wrong struct_size, an overlapping block) and prints
 * the last-error messages. With OUT_DIR, it also writes the output folder of `pqe analyze`
 * there from timed pushes (pqe_analysis_*), with the error paths of a stream (an
 * overlapping push, a push after the end). Exits non-zero when anything behaves otherwise
 * than documented.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pqe.h"

#define BLOCK 4096

static int failures = 0;

/* Report an unexpected status with the library's last error. */
static int check(pqe_status got, pqe_status want, const char *what) {
    if (got != want) {
        fprintf(stderr, "FAIL %s: got %s, expected %s: %s\n", what, pqe_status_name(got),
                pqe_status_name(want), pqe_last_error_message());
        failures++;
        return 0;
    }
    return 1;
}

/* An expected error: print its status and message. */
static void expect_error(pqe_status got, pqe_status want, const char *what) {
    if (check(got, want, what)) {
        char buf[512];
        size_t n = pqe_last_error(buf, sizeof buf);
        if (n == 0) {
            fprintf(stderr, "FAIL %s: no last error message\n", what);
            failures++;
        }
        printf("error path %-28s -> %-24s \"%s\"\n", what, pqe_status_name(got), buf);
    }
}

static const char *event_name(int kind) {
    switch (kind) {
    case PQE_EVENT_DIP: return "dip";
    case PQE_EVENT_SWELL: return "swell";
    case PQE_EVENT_INTERRUPTION: return "interruption";
    case PQE_EVENT_RVC: return "rvc";
    default: return "?";
    }
}

/* Index of column `name`, or -1. */
static long column_index(pqe_analyzer *h, const char *name) {
    size_t n = 0;
    if (pqe_analyzer_column_count(h, &n) != PQE_OK) return -1;
    for (size_t i = 0; i < n; i++) {
        const char *c = NULL;
        if (pqe_analyzer_column_name(h, i, &c) == PQE_OK && strcmp(c, name) == 0) return (long)i;
    }
    return -1;
}

struct counts {
    size_t intervals, frequencies, events, aggregates, flicker;
};

static int drain(pqe_analyzer *h, struct counts *k) {
    pqe_record rec;
    memset(&rec, 0, sizeof rec);
    rec.struct_size = sizeof rec;
    for (;;) {
        pqe_status s = pqe_analyzer_next_record(h, &rec);
        if (s == PQE_END) return 1;
        if (!check(s, PQE_OK, "pqe_analyzer_next_record")) return 0;
        switch (rec.kind) {
        case PQE_RECORD_INTERVAL: {
            long ua = column_index(h, "U_A");
            if (k->intervals < 5 || k->intervals % 50 == 0) {
                printf("interval %6llu t=%8.3f s flagged=%d f=%.4f Hz",
                       (unsigned long long)rec.index, rec.t, rec.flagged ? 1 : 0, rec.value);
                if (ua >= 0 && (size_t)ua < rec.n_values) printf(" U_A=%.3f V", rec.values[ua]);
                printf(" (%zu columns)\n", rec.n_values);
            }
            k->intervals++;
            break;
        }
        case PQE_RECORD_FREQUENCY:
            printf("frequency t=%8.3f s f=%.5f Hz flagged=%d\n", rec.t, rec.value,
                   rec.flagged ? 1 : 0);
            k->frequencies++;
            break;
        case PQE_RECORD_EVENT:
            printf("event %-12s start=%8.4f s duration=%.4f s extreme=%.2f V phases=%s\n",
                   event_name(rec.subkind), rec.t, rec.duration, rec.value,
                   rec.label ? rec.label : "");
            k->events++;
            break;
        case PQE_RECORD_AGGREGATE: k->aggregates++; break;
        case PQE_RECORD_FLICKER:
            printf("flicker %s %s t=%.1f s value=%.3f\n", rec.subkind == PQE_FLICKER_PST ? "Pst" : "Plt",
                   rec.label ? rec.label : "", rec.t, rec.value);
            k->flicker++;
            break;
        default: break;
        }
    }
}

/* Read the recording again, pushing each block with the time of its first sample and
 * leaving block `skip` out. Returns the number of intervals flagged PQE_INTERVAL_AFTER_GAP
 * (-1 on failure); `*blocks` gets the number of blocks read. */
static long gap_run(const char *path, const pqe_config *config, size_t skip, size_t *blocks) {
    pqe_comtrade *reader = NULL;
    pqe_analyzer *h = NULL;
    long after_gap = -1;
    double *buf = malloc(sizeof(double) * BLOCK * config->n_channels);
    if (buf == NULL) return -1;
    *blocks = 0;
    if (!check(pqe_comtrade_open(path, &reader), PQE_OK, "gap run: pqe_comtrade_open") ||
        !check(pqe_analyzer_new(config, &h), PQE_OK, "gap run: pqe_analyzer_new"))
        goto out;
    uint64_t first = 0; /* index of the block's first sample in the recording */
    pqe_record rec;
    memset(&rec, 0, sizeof rec);
    rec.struct_size = sizeof rec;
    after_gap = 0;
    for (;;) {
        size_t n = 0;
        pqe_status s = pqe_comtrade_read(reader, buf, BLOCK, &n);
        if (s == PQE_END) break;
        if (!check(s, PQE_OK, "gap run: pqe_comtrade_read")) { after_gap = -1; break; }
        int64_t at = config->start_unix_ns +
                     (int64_t)llround((double)first * 1e9 / config->sample_rate);
        if (*blocks != skip &&
            !check(pqe_analyzer_push_at(h, buf, n, at), PQE_OK, "pqe_analyzer_push_at")) {
            after_gap = -1;
            break;
        }
        first += n;
        (*blocks)++;
        if (*blocks == skip + 1) {
            printf("gap run: block %zu (%zu samples at %.4f s) left out\n", skip, n,
                   (double)(first - n) / config->sample_rate);
        }
    }
    check(pqe_analyzer_finish(h), PQE_OK, "gap run: pqe_analyzer_finish");
    while (after_gap >= 0) {
        pqe_status s = pqe_analyzer_next_record(h, &rec);
        if (s == PQE_END) break;
        if (!check(s, PQE_OK, "gap run: pqe_analyzer_next_record")) { after_gap = -1; break; }
        if (rec.kind == PQE_RECORD_INTERVAL && (rec.subkind & PQE_INTERVAL_AFTER_GAP)) {
            printf("gap run: interval %llu at t=%.4f s flagged=%d after the gap\n",
                   (unsigned long long)rec.index, rec.t, rec.flagged ? 1 : 0);
            if (!rec.flagged) {
                fprintf(stderr, "FAIL gap run: an after-gap interval is not flagged\n");
                failures++;
            }
            after_gap++;
        }
    }
out:
    if (h) check(pqe_analyzer_free(h), PQE_OK, "gap run: pqe_analyzer_free");
    if (reader) check(pqe_comtrade_close(reader), PQE_OK, "gap run: pqe_comtrade_close");
    free(buf);
    return after_gap;
}

/* The output folder of `pqe analyze` in `out_dir` from timed pushes of the recording. */
static void folder_run(const char *path, const pqe_config *config, const char *out_dir) {
    pqe_comtrade *reader = NULL;
    pqe_analysis *a = NULL;
    double *buf = malloc(sizeof(double) * BLOCK * config->n_channels);
    if (buf == NULL) return;
    pqe_source_info source;
    memset(&source, 0, sizeof source);
    source.struct_size = sizeof source;
    source.input_name = path;
    if (!check(pqe_comtrade_open(path, &reader), PQE_OK, "folder run: pqe_comtrade_open") ||
        !check(pqe_analysis_new(config, &source, NULL, out_dir, &a), PQE_OK,
               "folder run: pqe_analysis_new"))
        goto out;
    uint64_t first = 0;
    for (;;) {
        size_t n = 0;
        pqe_status s = pqe_comtrade_read(reader, buf, BLOCK, &n);
        if (s == PQE_END) break;
        if (!check(s, PQE_OK, "folder run: pqe_comtrade_read")) goto out;
        /* Sample `first` lies at start + first / rate (rounded to the nanosecond). */
        int64_t at = config->start_unix_ns +
                     (int64_t)((double)first / config->sample_rate * 1e9 + 0.5);
        if (!check(pqe_analysis_push_at(a, buf, n, at), PQE_OK, "folder run: push_at")) goto out;
        first += n;
    }
    /* The last block again overlaps what was pushed: refused, the stream goes on. */
    expect_error(pqe_analysis_push_at(a, buf, 1, config->start_unix_ns), PQE_ERR_STREAM,
                 "analysis push_at(overlapping)");
    check(pqe_analysis_finish(a), PQE_OK, "folder run: pqe_analysis_finish");
    expect_error(pqe_analysis_push(a, buf, 1), PQE_ERR_STATE, "analysis push(after finish)");
    char summary[4096];
    snprintf(summary, sizeof summary, "%s/summary.json", out_dir);
    FILE *f = fopen(summary, "r");
    if (f == NULL) {
        fprintf(stderr, "FAIL folder run: no %s\n", summary);
        failures++;
    } else {
        fclose(f);
        printf("folder run: %llu samples pushed, %s written\n", (unsigned long long)first,
               summary);
    }
out:
    if (a) check(pqe_analysis_free(a), PQE_OK, "folder run: pqe_analysis_free");
    if (reader) check(pqe_comtrade_close(reader), PQE_OK, "folder run: pqe_comtrade_close");
    free(buf);
}

static void error_paths(const pqe_config *good) {
    pqe_analyzer *h = NULL;
    pqe_record rec;
    /* One frame of zeros (the timed pushes below take one frame of every channel). */
    double *x = calloc(good->n_channels + 1, sizeof(double));
    if (x == NULL) return;
    memset(&rec, 0, sizeof rec);
    rec.struct_size = sizeof rec;

    expect_error(pqe_analyzer_new(NULL, &h), PQE_ERR_NULL, "new(NULL config)");
    expect_error(pqe_analyzer_new(good, NULL), PQE_ERR_NULL, "new(NULL out)");
    pqe_config bad = *good;
    bad.struct_size = 4;
    expect_error(pqe_analyzer_new(&bad, &h), PQE_ERR_INVALID_ARGUMENT, "new(struct_size 4)");
    bad = *good;
    bad.nominal_frequency = 55.0;
    expect_error(pqe_analyzer_new(&bad, &h), PQE_ERR_INVALID_ARGUMENT, "new(55 Hz)");
    expect_error(pqe_analyzer_push(NULL, x, 1), PQE_ERR_NULL, "push(NULL handle)");

    if (!check(pqe_analyzer_new(good, &h), PQE_OK, "new(good)")) {
        free(x);
        return;
    }
    expect_error(pqe_analyzer_push(h, NULL, 1), PQE_ERR_NULL, "push(NULL samples)");
    expect_error(pqe_analyzer_push(h, x, (size_t)-1), PQE_ERR_INVALID_ARGUMENT,
                 "push(overflowing n)");
    rec.struct_size = 1;
    expect_error(pqe_analyzer_next_record(h, &rec), PQE_ERR_INVALID_ARGUMENT,
                 "next_record(struct_size 1)");
    rec.struct_size = sizeof rec;
    /* Timed pushes: a block before the start, then one overlapping the previous one. */
    expect_error(pqe_analyzer_push_at(h, x, 1, good->start_unix_ns - 1000000000), PQE_ERR_STREAM,
                 "push_at(before the start)");
    check(pqe_analyzer_push_at(h, x, 1, good->start_unix_ns), PQE_OK, "push_at(start)");
    expect_error(pqe_analyzer_push_at(h, x, 1, good->start_unix_ns), PQE_ERR_STREAM,
                 "push_at(overlapping)");
    check(pqe_analyzer_finish(h), PQE_OK, "finish");
    expect_error(pqe_analyzer_push_at(h, x, 1, good->start_unix_ns + 1000000000), PQE_ERR_STATE,
                 "push_at(after finish)");
    check(pqe_analyzer_free(h), PQE_OK, "free");
    expect_error(pqe_analyzer_push(h, x, 1), PQE_ERR_INVALID_HANDLE, "push(freed handle)");
    expect_error(pqe_analyzer_next_record(h, &rec), PQE_ERR_INVALID_HANDLE,
                 "next_record(freed handle)");
    expect_error(pqe_analyzer_free(h), PQE_ERR_INVALID_HANDLE, "free(freed: double free)");
    expect_error(pqe_analyzer_free(NULL), PQE_ERR_NULL, "free(NULL)");

    pqe_comtrade *r = NULL;
    expect_error(pqe_comtrade_open("/nonexistent/none.cfg", &r), PQE_ERR_IO, "comtrade_open(missing)");
    expect_error(pqe_comtrade_open(NULL, &r), PQE_ERR_NULL, "comtrade_open(NULL path)");
    expect_error(pqe_comtrade_close(r), PQE_ERR_NULL, "comtrade_close(NULL)");
    /* After a successful call the last error is empty. */
    (void)pqe_version();
    check(pqe_analyzer_new(good, &h), PQE_OK, "new(good) again");
    if (pqe_last_error(NULL, 0) != 0) {
        fprintf(stderr, "FAIL: last error not cleared by a successful call\n");
        failures++;
    }
    check(pqe_analyzer_free(h), PQE_OK, "free again");
    free(x);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s RECORDING.cfg [UDIN [NOMINAL_FREQUENCY [OUT_DIR]]]\n",
                argv[0]);
        return 2;
    }
    double udin = argc > 2 ? atof(argv[2]) : 230.0;
    double f0 = argc > 3 ? atof(argv[3]) : 0.0;
    printf("pqe %s\n", pqe_version());

    pqe_comtrade *reader = NULL;
    if (!check(pqe_comtrade_open(argv[1], &reader), PQE_OK, "pqe_comtrade_open")) return 1;
    pqe_recording_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    const pqe_channel *channels = NULL;
    size_t n_channels = 0;
    if (!check(pqe_comtrade_info(reader, &info), PQE_OK, "pqe_comtrade_info") ||
        !check(pqe_comtrade_channels(reader, &channels, &n_channels), PQE_OK,
               "pqe_comtrade_channels")) {
        pqe_comtrade_close(reader);
        return 1;
    }
    printf("%s: %zu channels at %.1f Hz, %llu samples, line frequency %.0f Hz\n", argv[1],
           info.n_channels, info.sample_rate, (unsigned long long)info.total_samples,
           info.line_frequency);
    for (size_t c = 0; c < n_channels; c++)
        printf("  channel %zu: %s [%s] kind %d phase %d\n", c, channels[c].name, channels[c].unit,
               channels[c].kind, channels[c].phase);

    pqe_config config;
    memset(&config, 0, sizeof config);
    config.struct_size = sizeof config;
    config.sample_rate = info.sample_rate;
    if (f0 == 0.0) f0 = info.line_frequency == 60.0 ? 60.0 : 50.0;
    config.nominal_frequency = f0;
    config.udin = udin;
    config.wiring = PQE_WIRING_WYE;
    config.load_current = NAN;
    config.n_channels = n_channels;
    config.channels = channels;
    config.start_unix_ns = info.start_unix_ns;
    config.flags = PQE_FLAG_DEFAULT;

    pqe_analyzer *h = NULL;
    if (!check(pqe_analyzer_new(&config, &h), PQE_OK, "pqe_analyzer_new")) {
        pqe_comtrade_close(reader);
        return 1;
    }
    double *buf = malloc(sizeof(double) * BLOCK * n_channels);
    if (buf == NULL) return 1;
    struct counts k = {0, 0, 0, 0, 0};
    size_t total = 0;
    for (;;) {
        size_t n = 0;
        pqe_status s = pqe_comtrade_read(reader, buf, BLOCK, &n);
        if (s == PQE_END) break;
        if (!check(s, PQE_OK, "pqe_comtrade_read")) break;
        total += n;
        if (!check(pqe_analyzer_push(h, buf, n), PQE_OK, "pqe_analyzer_push")) break;
        if (!drain(h, &k)) break;
    }
    check(pqe_analyzer_finish(h), PQE_OK, "pqe_analyzer_finish");
    drain(h, &k);
    printf("%zu samples: %zu intervals, %zu frequency values, %zu events, %zu aggregates, "
           "%zu flicker values\n",
           total, k.intervals, k.frequencies, k.events, k.aggregates, k.flicker);
    if (k.intervals == 0) {
        fprintf(stderr, "FAIL: no interval record\n");
        failures++;
    }
    free(buf);
    check(pqe_analyzer_free(h), PQE_OK, "pqe_analyzer_free");

    /* A stream that lost a block: one interval after the gap is flagged, where the
     * recording is long enough to hold whole intervals after it (two seconds). */
    size_t skip = (size_t)(info.sample_rate * 2.0) / BLOCK + 1, blocks = 0;
    long after_gap = gap_run(argv[1], &config, skip, &blocks);
    if (blocks > skip && (double)(blocks - skip) * BLOCK >= 2.0 * info.sample_rate) {
        if (after_gap != 1) {
            fprintf(stderr, "FAIL gap run: %ld intervals flagged after the gap, expected 1\n",
                    after_gap);
            failures++;
        }
    } else {
        printf("gap run: the recording is too short for whole intervals after a gap at "
               "block %zu of %zu (checked the pushes only)\n", skip, blocks);
        if (after_gap < 0) failures++;
    }

    if (argc > 4) folder_run(argv[1], &config, argv[4]);

    /* The reader's channel array doubles as the configuration of the error-path checks. */
    error_paths(&config);
    check(pqe_comtrade_close(reader), PQE_OK, "pqe_comtrade_close");
    expect_error(pqe_comtrade_close(reader), PQE_ERR_INVALID_HANDLE, "comtrade_close(closed)");

    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("all checks passed\n");
    return 0;
}
