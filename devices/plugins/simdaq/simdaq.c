/*
 * simdaq — a simulated DAQ card as a PQE acquisition plugin (ABI 1.0, pqe_plugin.h).
 *
 * URI: simdaq://cardN?channels=6&rate=12800&amplitude=325.27&current=14.14&frequency=50
 *                    &samples=0&pace=realtime|max&start_ns=...
 *   channels   analog channels, 1..16: U_A, U_B, U_C, I_A, I_B, I_C, then CH7…
 *   rate       samples per second per channel
 *   amplitude  peak of the voltage channels, V; current: peak of the current channels, A
 *   frequency  of the sines, Hz; the three phases 120° apart, currents lagging by 30°
 *   samples    samples per channel before the card reports its end (0: endless)
 *   pace       realtime (as a card delivers) or max (as fast as asked)
 *   start_ns   time of the first sample, ns since 1970 (default: the time of start)
 * Fault injection for PQE's tests: fail_after=N (read fails after N blocks),
 * lie=1 (reports one sample more than the buffer holds), skip_at=N&skip=K (block N
 * starts K samples later, as after a FIFO overrun).
 *
 * Compile-time faults for the loader's tests: -DSIMDAQ_ABI_MAJOR=, -DSIMDAQ_ABI_MINOR=,
 * -DSIMDAQ_STRUCT_SIZE=, -DSIMDAQ_NULL_READ, -DSIMDAQ_NO_ENTRY, -DSIMDAQ_UNDEFINED.
 *
 * Build: cc -shared -fPIC -O2 -I../../include -o libsimdaq.so simdaq.c -lm
 * Licence: MIT OR Apache-2.0.
 */
#define _POSIX_C_SOURCE 200809L
#include "pqe_plugin.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef SIMDAQ_ABI_MAJOR
#define SIMDAQ_ABI_MAJOR PQE_PLUGIN_ABI_MAJOR
#endif
#ifndef SIMDAQ_ABI_MINOR
#define SIMDAQ_ABI_MINOR PQE_PLUGIN_ABI_MINOR
#endif
#ifndef SIMDAQ_STRUCT_SIZE
#define SIMDAQ_STRUCT_SIZE sizeof(pqe_plugin_v1)
#endif

#define MAX_CHANNELS 16
#define PI 3.14159265358979323846

struct pqe_plugin_device {
    char error[256];
    char card[64];
    uint32_t channels;
    double rate;
    double amplitude;
    double current;
    double frequency;
    uint64_t total;     /* 0: endless */
    int realtime;
    int64_t start_ns;
    int start_given;
    /* faults */
    long fail_after;    /* -1: never */
    int lie;
    long skip_at;
    uint64_t skip;
    /* state */
    int running;
    uint64_t next;      /* index of the next sample */
    long blocks;
    struct timespec t0;
};

static __thread char open_error[256];

static int32_t fail(pqe_plugin_device *d, const char *fmt, const char *a, const char *b) {
    char *buf = d ? d->error : open_error;
    snprintf(buf, 256, fmt, a, b);
    return PQE_PLUGIN_ERROR;
}

static int32_t sim_enumerate(char *buf, size_t cap, size_t *needed) {
    const char *list =
        "simdaq://card0\tsimulated DAQ card 0 (16 channels, up to 10 MS/s)\n"
        "simdaq://card1\tsimulated DAQ card 1 (16 channels, up to 10 MS/s)\n";
    size_t n = strlen(list) + 1;
    *needed = n;
    if (cap >= n) memcpy(buf, list, n);
    else if (cap > 0) buf[0] = 0;
    return PQE_PLUGIN_OK;
}

static int32_t sim_open(const char *uri, pqe_plugin_device **out) {
    const char *prefix = "simdaq://";
    if (strncmp(uri, prefix, strlen(prefix)) != 0)
        return fail(NULL, "'%s' is not a simdaq:// URI%s", uri, "");
    const char *card = uri + strlen(prefix);
    size_t len = strcspn(card, "?");
    if (len == 0 || len >= 64) return fail(NULL, "'%s': no card name (simdaq://card0)%s", uri, "");
    if (!(len == 5 && (strncmp(card, "card0", 5) == 0 || strncmp(card, "card1", 5) == 0)))
    {
        snprintf(open_error, sizeof open_error,
                 "no card '%.*s' (this simulator has card0 and card1)", (int)len, card);
        return PQE_PLUGIN_ERROR;
    }
    pqe_plugin_device *d = calloc(1, sizeof *d);
    if (!d) return fail(NULL, "out of memory%s%s", "", "");
    memcpy(d->card, card, len);
    d->channels = 6;
    d->rate = 12800.0;
    d->amplitude = 230.0 * sqrt(2.0);
    d->current = 10.0 * sqrt(2.0);
    d->frequency = 50.0;
    d->realtime = 1;
    d->fail_after = -1;
    d->skip_at = -1;
    *out = d;
    return PQE_PLUGIN_OK;
}

static int parse_double(const char *v, double *out) {
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end != 0 || !isfinite(x)) return 0;
    *out = x;
    return 1;
}

static int32_t sim_configure(pqe_plugin_device *d, const char *key, const char *value) {
    double x;
    if (d->running) return fail(d, "cannot set %s while running%s", key, "");
    if (strcmp(key, "pace") == 0) {
        if (strcmp(value, "realtime") == 0) d->realtime = 1;
        else if (strcmp(value, "max") == 0) d->realtime = 0;
        else return fail(d, "pace='%s': give realtime or max%s", value, "");
        return PQE_PLUGIN_OK;
    }
    if (!parse_double(value, &x)) return fail(d, "%s='%s' is not a number", key, value);
    if (strcmp(key, "channels") == 0) {
        if (x < 1 || x > MAX_CHANNELS || x != floor(x))
            return fail(d, "channels='%s': give 1 to 16%s", value, "");
        d->channels = (uint32_t)x;
    } else if (strcmp(key, "rate") == 0) {
        if (x < 1 || x > 1e7) return fail(d, "rate='%s': give 1 to 10000000 Hz%s", value, "");
        d->rate = x;
    } else if (strcmp(key, "amplitude") == 0) {
        d->amplitude = x;
    } else if (strcmp(key, "current") == 0) {
        d->current = x;
    } else if (strcmp(key, "frequency") == 0) {
        if (x <= 0) return fail(d, "frequency='%s' must be positive%s", value, "");
        d->frequency = x;
    } else if (strcmp(key, "samples") == 0) {
        if (x < 0) return fail(d, "samples='%s' must be 0 or more%s", value, "");
        d->total = (uint64_t)x;
    } else if (strcmp(key, "start_ns") == 0) {
        d->start_ns = (int64_t)x;
        d->start_given = 1;
    } else if (strcmp(key, "fail_after") == 0) {
        d->fail_after = (long)x;
    } else if (strcmp(key, "lie") == 0) {
        d->lie = x != 0;
    } else if (strcmp(key, "skip_at") == 0) {
        d->skip_at = (long)x;
    } else if (strcmp(key, "skip") == 0) {
        d->skip = (uint64_t)x;
    } else {
        return fail(d, "unknown parameter '%s' (channels, rate, amplitude, current, frequency, "
                       "samples, pace, start_ns)%s", key, "");
    }
    return PQE_PLUGIN_OK;
}

static int32_t sim_stream_info(pqe_plugin_device *d, pqe_plugin_stream_info *out) {
    if (!d->start_given) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        d->start_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
        d->start_given = 1;
    }
    out->channels = d->channels;
    out->reserved = 0;
    out->sample_rate = d->rate;
    out->start_ns = d->start_ns;
    return PQE_PLUGIN_OK;
}

static int32_t sim_channel_info(pqe_plugin_device *d, uint32_t index, pqe_plugin_channel_info *out) {
    static const char *names[6] = {"U_A", "U_B", "U_C", "I_A", "I_B", "I_C"};
    if (index >= d->channels) return fail(d, "no channel %s%s", "(index out of range)", "");
    memset(out, 0, sizeof *out);
    if (index < 6 && d->channels >= 3) {
        snprintf(out->name, sizeof out->name, "%s", names[index]);
        snprintf(out->unit, sizeof out->unit, "%s", index < 3 ? "V" : "A");
    } else if (index == 0) {
        snprintf(out->name, sizeof out->name, "U_A");
        snprintf(out->unit, sizeof out->unit, "V");
    } else {
        snprintf(out->name, sizeof out->name, "CH%u", index + 1);
        snprintf(out->unit, sizeof out->unit, "V");
    }
    return PQE_PLUGIN_OK;
}

static int32_t sim_start(pqe_plugin_device *d) {
    d->running = 1;
    clock_gettime(CLOCK_MONOTONIC, &d->t0);
    return PQE_PLUGIN_OK;
}

static double seconds_since(const struct timespec *t0) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + 1e-9 * (double)(now.tv_nsec - t0->tv_nsec);
}

static int32_t sim_read(pqe_plugin_device *d, double *buffer, uint32_t max_samples,
                        uint32_t timeout_ms, pqe_plugin_block_info *out) {
    if (!d->running) return fail(d, "read before start%s%s", "", "");
    if (d->fail_after >= 0 && d->blocks >= d->fail_after)
        return fail(d, "card %s: FIFO overflow, acquisition aborted%s", d->card, "");
    if (d->skip_at >= 0 && d->blocks == d->skip_at) d->next += d->skip;
    uint64_t n = max_samples;
    if (d->total) {
        if (d->next >= d->total) return PQE_PLUGIN_END;
        if (d->total - d->next < n) n = d->total - d->next;
    }
    if (d->realtime) {
        double due = seconds_since(&d->t0) * d->rate;
        double wait = (double)(d->next + 1) - due;
        if (wait > 0) {
            double s = wait / d->rate;
            if (s * 1000.0 > timeout_ms) s = timeout_ms / 1000.0;
            struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
            nanosleep(&ts, NULL);
            due = seconds_since(&d->t0) * d->rate;
        }
        if (due < (double)(d->next + 1)) return PQE_PLUGIN_TIMEOUT;
        if ((double)(d->next + n) > due) n = (uint64_t)(due - (double)d->next);
    }
    const double w = 2.0 * PI * d->frequency / d->rate;
    /* Each channel is LANES interleaved sines, lane k holding the samples i = k (mod LANES),
       each lane run by the second-order recurrence x[i + L] = 2 cos(L w) x[i] - x[i - L]:
       one multiply and one subtract per sample, the lanes independent of each other (the
       compiler runs them side by side in vector registers). Every RESEED samples the lanes
       restart from sin() itself, so rounding cannot build up however long the block. */
    enum { LANES = 4, RESEED = 4096 };
    const double c2 = 2.0 * cos(LANES * w);
    for (uint32_t c = 0; c < d->channels; c++) {
        int current = d->channels >= 3 && c >= 3 && c < 6;
        double amp = current ? d->current : d->amplitude;
        double phi = -2.0 * PI / 3.0 * (double)(c % 3) - (current ? PI / 6.0 : 0.0);
        double *dst = buffer + (size_t)c * max_samples;
        for (uint64_t from = 0; from < n; from += RESEED) {
            uint64_t to = from + RESEED < n ? from + RESEED : n;
            double x[LANES], before[LANES];
            for (int k = 0; k < LANES; k++) {
                double i = (double)(d->next + from + (uint64_t)k);
                x[k] = amp * sin(w * i + phi);
                before[k] = amp * sin(w * (i - LANES) + phi);
            }
            uint64_t i = from;
            for (; i + LANES <= to; i += LANES) {
                for (int k = 0; k < LANES; k++) {
                    dst[i + (uint64_t)k] = x[k];
                    double next = c2 * x[k] - before[k];
                    before[k] = x[k];
                    x[k] = next;
                }
            }
            for (int k = 0; i < to; i++, k++) dst[i] = x[k];
        }
    }
    out->first_sample = d->next;
    out->time_ns = d->start_ns + (int64_t)llround((double)d->next * 1e9 / d->rate);
    out->samples = (uint32_t)n + (d->lie ? max_samples - (uint32_t)n + 1 : 0);
    out->reserved = 0;
    d->next += n;
    d->blocks++;
    return PQE_PLUGIN_OK;
}

static int32_t sim_stop(pqe_plugin_device *d) {
    d->running = 0;
    return PQE_PLUGIN_OK;
}

static void sim_close(pqe_plugin_device *d) { free(d); }

static const char *sim_last_error(pqe_plugin_device *d) { return d ? d->error : open_error; }

static const char *const schemes[] = {"simdaq", NULL};

#ifdef SIMDAQ_UNDEFINED
/* A symbol no library defines: loading with eager binding must fail. */
extern int pqe_simdaq_symbol_nobody_defines(void);
static int32_t sim_stop_undefined(pqe_plugin_device *d) {
    (void)d;
    return pqe_simdaq_symbol_nobody_defines();
}
#define SIM_STOP sim_stop_undefined
#else
#define SIM_STOP sim_stop
#endif

static const pqe_plugin_v1 table = {
    .abi_major = SIMDAQ_ABI_MAJOR,
    .abi_minor = SIMDAQ_ABI_MINOR,
    .struct_size = SIMDAQ_STRUCT_SIZE,
    .reserved = 0,
    .name = "simdaq",
    .version = "1.0.0",
    .schemes = schemes,
    .enumerate = sim_enumerate,
    .open = sim_open,
    .configure = sim_configure,
    .stream_info = sim_stream_info,
    .channel_info = sim_channel_info,
    .start = sim_start,
#ifdef SIMDAQ_NULL_READ
    .read = NULL,
#else
    .read = sim_read,
#endif
    .stop = SIM_STOP,
    .close = sim_close,
    .last_error = sim_last_error,
};

#ifdef SIMDAQ_NO_ENTRY
const pqe_plugin_v1 *pqe_plugin_entry_misspelt(void) { return &table; }
#else
const pqe_plugin_v1 *pqe_plugin_entry(void) { return &table; }
#endif
