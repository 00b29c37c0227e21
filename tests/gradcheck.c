#include "gradcheck.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "util/rng.h"

void grad_random(double *v, size_t n, uint64_t seed, double lo, double hi)
{
    clseg_rng rng = {seed};
    for (size_t i = 0; i < n; i++)
        v[i] = lo + (hi - lo) * (double)clseg_rng_uniform(&rng);
}

static double weighted(const double *y, const double *w, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += w[i] * y[i];
    return s;
}

void grad_numeric(grad_forward_fn f, void *user, double *x, size_t nx, const double *w, size_t ny, double eps,
                  double *dx)
{
    double *y = malloc((ny ? ny : 1) * sizeof *y);
    ck_assert_ptr_nonnull(y);
    for (size_t j = 0; j < nx; j++) {
        double keep = x[j];
        x[j] = keep + eps;
        f(x, y, user);
        double up = weighted(y, w, ny);
        x[j] = keep - eps;
        f(x, y, user);
        double down = weighted(y, w, ny);
        x[j] = keep;
        dx[j] = (up - down) / (2.0 * eps);
    }
    free(y);
}

void grad_assert_close(const char *what, const double *analytic, const double *numeric, size_t n, double tol)
{
    for (size_t i = 0; i < n; i++) {
        double err = fabs(analytic[i] - numeric[i]);
        ck_assert_msg(err <= tol * fmax(1.0, fabs(numeric[i])), "%s: element %zu: backward %.10g, finite differences %.10g",
                      what, i, analytic[i], numeric[i]);
    }
}

void grad_check(const char *what, grad_forward_fn f, grad_backward_fn b, void *user, size_t nx, size_t ny,
                double lo, double hi, double eps, double tol)
{
    double *x = malloc(nx * sizeof *x), *w = malloc(ny * sizeof *w);
    double *analytic = malloc(nx * sizeof *analytic), *numeric = malloc(nx * sizeof *numeric);
    ck_assert(x != NULL && w != NULL && analytic != NULL && numeric != NULL);
    grad_random(x, nx, 1234 + nx, lo, hi);
    grad_random(w, ny, 5678 + ny, -1.0, 1.0);
    b(x, w, analytic, user);
    grad_numeric(f, user, x, nx, w, ny, eps, numeric);
    grad_assert_close(what, analytic, numeric, nx, tol);
    free(x);
    free(w);
    free(analytic);
    free(numeric);
}
