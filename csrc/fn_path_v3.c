/* The x86-64-v3 instances (AVX2 + FMA, 16 ymm registers: a 6×(2 vectors) tile). */
#include "fn_cpu.h"
#if FN_HAVE_X86_PATHS
#define PT v3
#define FN_TGT FN_TARGET_V3
#define VBYTES 32
#define MR 6
#include "fn_instances.h"
#endif
