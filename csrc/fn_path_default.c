/* The portable instances: plain C for whatever the compiler targets (SSE2 on x86-64). */
#include "fn_cpu.h"
#define PT default
#define FN_TGT
#define VBYTES 16
#define MR 4
#include "fn_instances.h"
