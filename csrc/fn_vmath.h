/* Elementwise kernels over contiguous arrays, built on fn_exp.h and fn_log1p.h and dispatched
 * per CPU path: exp, log1p, and the activations forward (with a finiteness flag) and backward. */
#ifndef FN_VMATH_H
#define FN_VMATH_H

#include <stddef.h>

#include "fn_codes.h" /* FN_ACT_* and the activations' constants, generated from fastnet/_codes.py */

/* y = exp(x), n elements; y may alias x. */
void fn_vexp_s(ptrdiff_t n, const float *x, float *y);
void fn_vexp_d(ptrdiff_t n, const double *x, double *y);
/* y = log1p(x), n elements; y may alias x. */
void fn_vlog1p_s(ptrdiff_t n, const float *x, float *y);
void fn_vlog1p_d(ptrdiff_t n, const double *x, double *y);
/* a = f(z) over an m×n C-contiguous block (softmax by rows); returns 1 when every z (and,
 * for exp, whose output can overflow, every a) is finite, else 0. a may alias z. */
int fn_act_forward_s(int act, ptrdiff_t m, ptrdiff_t n, const float *z, float *a);
int fn_act_forward_d(int act, ptrdiff_t m, ptrdiff_t n, const double *z, double *a);
/* dz = da ⊙ f'(z or a) (softmax: a ⊙ (da − rowsum(da ⊙ a))). */
void fn_act_backward_s(int act, ptrdiff_t m, ptrdiff_t n, const float *z, const float *a, const float *da, float *dz);
void fn_act_backward_d(int act, ptrdiff_t m, ptrdiff_t n, const double *z, const double *a, const double *da,
                       double *dz);

#endif
