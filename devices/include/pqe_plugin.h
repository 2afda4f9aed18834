/*
 * pqe_plugin.h — the C ABI of PQE acquisition plugins, version 1.0.
 *
 * A plugin is a shared library exporting one function, pqe_plugin_entry, that returns a
 * pointer to a static pqe_plugin_v1 table. PQE loads libraries from its versioned plugin
 * folder (plugins/abi1/) and from the folders in PQE_PLUGIN_PATH, resolves every symbol
 * at load (RTLD_NOW), checks the table and never unloads the library.
 *
 * PQE refuses a plugin whose abi_major differs from PQE_PLUGIN_ABI_MAJOR, whose abi_minor
 * is newer than the host's, whose struct_size is smaller than the table of its minor
 * version, or whose table lacks a function. Minor versions only ever add fields at the
 * end of the table.
 *
 * Threads: PQE calls the functions of one device from one thread at a time (not always
 * the same thread). enumerate and open may be called from any thread at any time.
 * Memory: PQE owns every buffer it passes; a plugin owns the strings it returns, which
 * must stay valid until the next call on the same device (last_error) or for the life of
 * the process (name, version, schemes).
 *
 * Full description: docs/plugins.md. Licence: MIT OR Apache-2.0.
 */
#ifndef PQE_PLUGIN_H
#define PQE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PQE_PLUGIN_ABI_MAJOR 1
#define PQE_PLUGIN_ABI_MINOR 0
/* The name of the one exported entry. */
#define PQE_PLUGIN_ENTRY_NAME "pqe_plugin_entry"

/* Status codes every function returns. */
#define PQE_PLUGIN_OK 0      /* done */
#define PQE_PLUGIN_END 1     /* read: the device has no more data (a finite source) */
#define PQE_PLUGIN_TIMEOUT 2 /* read: no data within timeout_ms; PQE may call again */
#define PQE_PLUGIN_ERROR -1  /* failed; last_error says why */

/* A device opened by the plugin (the plugin's own type, opaque to PQE). */
typedef struct pqe_plugin_device pqe_plugin_device;

/* The shape of a device's stream, known after open and configure. */
typedef struct pqe_plugin_stream_info {
    uint32_t channels;   /* analog channels, at least 1 */
    uint32_t reserved;   /* 0 */
    double sample_rate;  /* samples per second per channel, > 0 */
    int64_t start_ns;    /* time of the first sample, ns since 1970-01-01 UTC */
} pqe_plugin_stream_info;

/* One channel's description. Strings are NUL-terminated UTF-8. */
typedef struct pqe_plugin_channel_info {
    char name[32];  /* IEC name: U_A, U_B, U_C, I_A, … (the kind and phase follow from it) */
    char unit[16];  /* V, kV, A, kA */
} pqe_plugin_channel_info;

/* What a read delivered. */
typedef struct pqe_plugin_block_info {
    uint64_t first_sample; /* index of the block's first sample since the stream's start */
    int64_t time_ns;       /* time of the block's first sample, ns since 1970-01-01 UTC */
    uint32_t samples;      /* samples per channel written, at most max_samples */
    uint32_t reserved;     /* 0 */
} pqe_plugin_block_info;

/*
 * The plugin's table, ABI 1.0. Every function pointer must be set.
 */
typedef struct pqe_plugin_v1 {
    uint32_t abi_major;   /* PQE_PLUGIN_ABI_MAJOR the plugin was built with */
    uint32_t abi_minor;   /* PQE_PLUGIN_ABI_MINOR the plugin was built with */
    uint32_t struct_size; /* sizeof(pqe_plugin_v1) as the plugin was built */
    uint32_t reserved;    /* 0 */
    const char *name;     /* driver name, e.g. "simdaq" */
    const char *version;  /* the plugin's own version, e.g. "1.2.0" */
    const char *const *schemes; /* URI schemes handled, NULL-terminated list */

    /* Devices present now, as lines "URI<TAB>description\n" written into buf (at most
     * cap bytes, NUL-terminated). *needed receives the bytes the full list takes (with the
     * NUL); if it exceeds cap PQE calls again with a larger buffer. Must return promptly:
     * PQE abandons enumerations that exceed its deadline. */
    int32_t (*enumerate)(char *buf, size_t cap, size_t *needed);

    /* Open the device named by uri (the whole URI, e.g. "simdaq://card0?rate=10240");
     * PQE then calls configure once for each query parameter. */
    int32_t (*open)(const char *uri, pqe_plugin_device **out);

    /* Set one query parameter. An unknown key or bad value is PQE_PLUGIN_ERROR with
     * last_error naming it. */
    int32_t (*configure)(pqe_plugin_device *dev, const char *key, const char *value);

    /* The stream's shape after configuration. */
    int32_t (*stream_info)(pqe_plugin_device *dev, pqe_plugin_stream_info *out);

    /* Channel index (0-based, < channels)'s description. */
    int32_t (*channel_info)(pqe_plugin_device *dev, uint32_t index,
                            pqe_plugin_channel_info *out);

    /* Begin acquiring. */
    int32_t (*start)(pqe_plugin_device *dev);

    /* Fill buffer, planar: channel c's samples at buffer[c * max_samples + i], physical
     * values (V, A). Write at most max_samples per channel and return within timeout_ms:
     * PQE_PLUGIN_OK with out->samples > 0, PQE_PLUGIN_TIMEOUT, PQE_PLUGIN_END or
     * PQE_PLUGIN_ERROR. A first_sample that skips ahead marks lost samples (a gap);
     * missing individual samples are NaN, never 0. */
    int32_t (*read)(pqe_plugin_device *dev, double *buffer, uint32_t max_samples,
                    uint32_t timeout_ms, pqe_plugin_block_info *out);

    /* Stop acquiring (start may be called again). */
    int32_t (*stop)(pqe_plugin_device *dev);

    /* Release the device; dev is not used afterwards. */
    void (*close)(pqe_plugin_device *dev);

    /* Why the last call on dev failed (dev NULL: the last open or enumerate on this
     * thread). Never NULL; "" when there is nothing to say. */
    const char *(*last_error)(pqe_plugin_device *dev);
} pqe_plugin_v1;

/* The one exported entry; returns a pointer to a table that lives as long as the process. */
typedef const pqe_plugin_v1 *(*pqe_plugin_entry_fn)(void);
const pqe_plugin_v1 *pqe_plugin_entry(void);

#ifdef __cplusplus
}
#endif

#endif /* PQE_PLUGIN_H */
