/* The x86-64-v4 instances (AVX-512, 32 zmm registers: an 8×(2 vectors) tile). */
#include "fn_cpu.h"
#if FN_HAVE_X86_PATHS
#define PT v4
#define FN_TGT FN_TARGET_V4
#define VBYTES 64
#define MR 8
#include "fn_instances.h"
#endif
