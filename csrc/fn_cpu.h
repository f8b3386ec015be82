/* CPU paths of the micro-kernels and their run-time selection.
 * Each kernel is compiled once per path (function attributes, not -march), and the
 * dispatchers index their tables with fn_path, so the build stays portable. */
#ifndef FN_CPU_H
#define FN_CPU_H

enum { FN_PATH_DEFAULT = 0, FN_PATH_V3 = 1, FN_PATH_V4 = 2, FN_NPATHS = 3 };

/* The x86-64-v3/v4 variants exist only where GCC/clang can target them. */
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#define FN_HAVE_X86_PATHS 1
#define FN_TARGET_V3 __attribute__((target("arch=x86-64-v3")))
#define FN_TARGET_V4 __attribute__((target("arch=x86-64-v4")))
#else
#define FN_HAVE_X86_PATHS 0
#endif

extern int fn_path; /* the active path; read by every dispatcher */

const char *fn_path_name(int path);  /* NULL when out of range */
int fn_path_from_name(const char *name);  /* -1 when unknown */
int fn_path_supported(int path);  /* built and runnable on this CPU */
int fn_best_path(void);
int fn_set_path(int path);  /* 0, or -1 (unchanged) when unsupported */
/* Select the best path, or FASTNET_CPU's. Returns 0; 1 when FASTNET_CPU named an unknown
 * path (ignored); 2 when it named a path this CPU lacks (clamped to the best one below it). */
int fn_cpu_init(void);

#endif
