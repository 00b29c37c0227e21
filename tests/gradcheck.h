/* Float64 finite-difference checks of the reference backward passes (src/ref/<family>_math.inc,
 * compiled for double). A test evaluates its op's forward on doubles; the checker perturbs
 * each input by +-eps and compares dL/dx for L = sum_i w_i y_i with the backward pass's
 * answer for dy = w. */
#ifndef CLSEG_TEST_GRADCHECK_H
#define CLSEG_TEST_GRADCHECK_H

#include <stddef.h>
#include <stdint.h>

/* y = f(x) for the op under test, user carrying its geometry and other inputs. */
typedef void (*grad_forward_fn)(const double *x, double *y, void *user);

/* Values uniform in [lo, hi), from a seed. */
void grad_random(double *v, size_t n, uint64_t seed, double lo, double hi);

/* Central differences of L = sum_i w[i] y[i] with respect to each x[j] (x is restored). */
void grad_numeric(grad_forward_fn f, void *user, double *x, size_t nx, const double *w, size_t ny, double eps,
                  double *dx);

/* Fails the test unless |analytic - numeric| <= tol max(1, |numeric|) everywhere. */
void grad_assert_close(const char *what, const double *analytic, const double *numeric, size_t n, double tol);

/* The whole check: draws x in [lo, hi) and w, runs backward(x, w) -> dx and compares.
 * backward receives dy = w and must overwrite dx. */
typedef void (*grad_backward_fn)(const double *x, const double *dy, double *dx, void *user);
void grad_check(const char *what, grad_forward_fn f, grad_backward_fn b, void *user, size_t nx, size_t ny,
                double lo, double hi, double eps, double tol);

#endif
