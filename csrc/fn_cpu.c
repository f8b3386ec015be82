/* CPU feature detection and the FASTNET_CPU override (see fn_cpu.h). */
#include "fn_cpu.h"

#include <stdlib.h>
#include <string.h>

int fn_path = FN_PATH_DEFAULT;

static const char *const names[FN_NPATHS] = {"default", "x86-64-v3", "x86-64-v4"};

const char *fn_path_name(int path) { return path >= 0 && path < FN_NPATHS ? names[path] : NULL; }

int fn_path_from_name(const char *name)
{
    for (int p = 0; p < FN_NPATHS; p++)
        if (strcmp(name, names[p]) == 0) return p;
    return -1;
}

#if FN_HAVE_X86_PATHS
/* libgcc/compiler-rt check the OS saves the AVX/AVX-512 state (XGETBV) too. */
static int has_v3(void)
{
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
    return __builtin_cpu_supports("x86-64-v3");
#else
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi") &&
           __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("avx") && __builtin_cpu_supports("popcnt");
#endif
}

static int has_v4(void)
{
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
    return __builtin_cpu_supports("x86-64-v4");
#else
    return has_v3() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512cd");
#endif
}
#endif

int fn_path_supported(int path)
{
    if (path == FN_PATH_DEFAULT) return 1;
#if FN_HAVE_X86_PATHS
    __builtin_cpu_init();
    if (path == FN_PATH_V3) return has_v3();
    if (path == FN_PATH_V4) return has_v4();
#endif
    return 0;
}

int fn_best_path(void)
{
    int p = FN_NPATHS - 1;
    while (!fn_path_supported(p)) p--;
    return p;
}

int fn_set_path(int path)
{
    if (path < 0 || path >= FN_NPATHS || !fn_path_supported(path)) return -1;
    fn_path = path;
    return 0;
}

int fn_cpu_init(void)
{
    const char *want = getenv("FASTNET_CPU");
    int p;
    fn_path = fn_best_path();
    if (want == NULL || want[0] == '\0') return 0;
    p = fn_path_from_name(want);
    if (p < 0) return 1;
    if (fn_set_path(p) == 0) return 0;
    while (!fn_path_supported(p)) p--; /* never SIGILL: clamp down */
    fn_path = p;
    return 2;
}
