/* WASI functions that some Proxy-Wasm hosts lack, resolved inside the module.
 *
 * Kong WasmX implements 18 WASI functions and Envoy mistypes path_link/path_symlink, so the
 * module imports none of the others: libc's calls land on these stubs, which answer ENOTSUP.
 * Run-time filters need none of them (there is no filesystem). At build time the snapshotter
 * points a stub at the real WASI function through the function table (`pywasm_wasi_override`)
 * so that CPython can stat and list the bundle while importing; `pywasm_init` puts every stub
 * back before the snapshot is taken.
 *
 * What the host's file system says beyond names and contents (times, device and inode numbers)
 * reaches the snapshot (the import system keeps directories' mtimes; libc's buffers keep the
 * rest), so through these stubs it reads the same on every build: times 0, device 0, inode 1.
 */
#include <stdint.h>
#include <string.h>

#include "pywasm.h"

#define WASI_ENOTSUP 58

typedef int32_t i32;
typedef int64_t i64;

#define WASI_STUBS(X)                                                                    \
    X(clock_res_get, (i32 a, i32 b), (a, b))                                             \
    X(fd_advise, (i32 a, i64 b, i64 c, i32 d), (a, b, c, d))                             \
    X(fd_datasync, (i32 a), (a))                                                         \
    X(fd_filestat_set_size, (i32 a, i64 b), (a, b))                                      \
    X(fd_filestat_set_times, (i32 a, i64 b, i64 c, i32 d), (a, b, c, d))                 \
    X(fd_pread, (i32 a, i32 b, i32 c, i64 d, i32 e), (a, b, c, d, e))                    \
    X(fd_pwrite, (i32 a, i32 b, i32 c, i64 d, i32 e), (a, b, c, d, e))                   \
    X(fd_sync, (i32 a), (a))                                                             \
    X(fd_tell, (i32 a, i32 b), (a, b))                                                   \
    X(path_create_directory, (i32 a, i32 b, i32 c), (a, b, c))                           \
    X(path_filestat_set_times, (i32 a, i32 b, i32 c, i32 d, i64 e, i64 f, i32 g),        \
      (a, b, c, d, e, f, g))                                                             \
    X(path_link, (i32 a, i32 b, i32 c, i32 d, i32 e, i32 f, i32 g), (a, b, c, d, e, f, g)) \
    X(path_readlink, (i32 a, i32 b, i32 c, i32 d, i32 e, i32 f), (a, b, c, d, e, f))     \
    X(path_remove_directory, (i32 a, i32 b, i32 c), (a, b, c))                           \
    X(path_rename, (i32 a, i32 b, i32 c, i32 d, i32 e, i32 f), (a, b, c, d, e, f))       \
    X(path_symlink, (i32 a, i32 b, i32 c, i32 d, i32 e), (a, b, c, d, e))                \
    X(path_unlink_file, (i32 a, i32 b, i32 c), (a, b, c))                                \
    X(sock_accept, (i32 a, i32 b, i32 c), (a, b, c))                                     \
    X(sock_recv, (i32 a, i32 b, i32 c, i32 d, i32 e, i32 f), (a, b, c, d, e, f))         \
    X(sock_send, (i32 a, i32 b, i32 c, i32 d, i32 e), (a, b, c, d, e))                   \
    X(sock_shutdown, (i32 a, i32 b), (a, b))

#define DEFINE_STUB(name, params, args)                                                   \
    static i32(*override_##name) params = NULL;                                           \
    i32 __imported_wasi_snapshot_preview1_##name params {                                 \
        return override_##name ? override_##name args : WASI_ENOTSUP;                     \
    }
WASI_STUBS(DEFINE_STUB)

/* The three that describe files, each followed by `same_on_every_build(result...)`. */
#define DESCRIBING_STUBS(X)                                                              \
    X(fd_filestat_get, (i32 a, i32 b), (a, b), filestat(b))                              \
    X(path_filestat_get, (i32 a, i32 b, i32 c, i32 d, i32 e), (a, b, c, d, e), filestat(e)) \
    X(fd_readdir, (i32 a, i32 b, i32 c, i64 d, i32 e), (a, b, c, d, e), dirents(b, e))

static void filestat(i32 result) {
    /* dev, ino (u64 each), filetype (u8, padded to 8), nlink, size, atim, mtim, ctim (u64) */
    uint64_t *fields = (uint64_t *)(uintptr_t)result;
    fields[0] = 0;
    fields[1] = 1;
    fields[5] = fields[6] = fields[7] = 0;
}

static void dirents(i32 buffer, i32 used_at) {
    /* Each entry: d_next, d_ino (u64), d_namlen (u32), d_type (u8, padded), then the name. */
    char *at = (char *)(uintptr_t)buffer;
    char *end = at + *(uint32_t *)(uintptr_t)used_at;
    const uint64_t one = 1;
    while (end - at >= 16) { /* the last entry may be cut short anywhere */
        uint32_t name_length;
        memcpy(at + 8, &one, sizeof one);
        if (end - at < 24) break;
        memcpy(&name_length, at + 16, sizeof name_length);
        at += 24 + (size_t)name_length;
    }
}

#define DEFINE_DESCRIBING_STUB(name, params, args, same_on_every_build)                   \
    static i32(*override_##name) params = NULL;                                           \
    i32 __imported_wasi_snapshot_preview1_##name params {                                 \
        if (!override_##name) return WASI_ENOTSUP;                                        \
        i32 error = override_##name args;                                                 \
        if (error == 0) same_on_every_build;                                              \
        return error;                                                                     \
    }
DESCRIBING_STUBS(DEFINE_DESCRIBING_STUB)

typedef struct {
    const char *name;
    void **slot;
} override_entry;

#define ENTRY(name, params, args) {#name, (void **)&override_##name},
#define DESCRIBING_ENTRY(name, params, args, after) ENTRY(name, params, args)
static const override_entry overrides[] = {WASI_STUBS(ENTRY) DESCRIBING_STUBS(DESCRIBING_ENTRY)};
#define OVERRIDE_COUNT (sizeof(overrides) / sizeof(overrides[0]))

/* Route stub `name` to the function at `table_index`; returns 0, or 1 for an unknown name. */
PYWASM_EXPORT(pywasm_wasi_override)
int32_t pywasm_wasi_override(const char *name, size_t name_size, uint32_t table_index) {
    for (size_t i = 0; i < OVERRIDE_COUNT; i++) {
        if (strlen(overrides[i].name) == name_size &&
            memcmp(overrides[i].name, name, name_size) == 0) {
            *overrides[i].slot = (void *)(uintptr_t)table_index;
            return 0;
        }
    }
    return 1;
}

void pywasm_reset_wasi_overrides(void) {
    for (size_t i = 0; i < OVERRIDE_COUNT; i++) *overrides[i].slot = NULL;
}
