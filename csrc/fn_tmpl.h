/* Naming for the templates: F(gemm) is fn_gemm_<type suffix>_<path>, e.g. fn_gemm_d_v3.
 * An instance file defines PT (path tag), FN_TGT (its target attribute), VBYTES (vector
 * width in bytes) and MR (rows per register tile), then includes fn_instances.h. */
#ifndef FN_TMPL_H
#define FN_TMPL_H
#define FN_CAT3_(a, b, c) fn_##a##_##b##_##c
#define FN_CAT3(a, b, c) FN_CAT3_(a, b, c)
#define F(name) FN_CAT3(name, TS, PT)
#endif
