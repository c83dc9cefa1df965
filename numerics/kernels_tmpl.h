/* kernels_tmpl.h - INTERNAL to kernels.c: the block kernels of one (element type, ISA), included
 * once per pair. The includer defines:
 *   T (float / double), V (vector type), VL (lanes per vector), KT_SFX (name suffix), KT_TARGET
 *   (function attributes), the vector ops VLOAD VSTORE VSET1 VADD VSUB VMUL VFMA VMIN VMAX
 *   VSEL_GT(a, b, t, f) = a > b ? t : f, VSEL_LT, VSHL (reinterpret as integers, shift left by
 *   the significand width, reinterpret back), and the type constants KC_* (kernels.c).
 * VMIN(a, b) = a < b ? a : b and VMAX(a, b) = a > b ? a : b as in x86 MINPD / MAXPD (b when
 * unordered), so the clamps below keep a NaN. Every element-wise formula is written once here,
 * so all ISAs evaluate the same IEEE operations; reductions keep KC_L canonical lanes
 * (U = KC_L / VL vectors, element i of a chunk in lane i). */

#define KT_CAT2(a, b) a##_##b
#define KT_CAT(a, b) KT_CAT2(a, b)
#define KF(name) KT_CAT(name, KT_SFX)
#define KT_U (KC_L / VL)

/* e^x = p 2^n: Cody-Waite reduction with FMA, Taylor polynomial of e^r in Horner form.
 * x clamped to [lo, hi] first (NaN kept). */
#define KT_EXPPAIR(xin, lo, hi, pout, nout)                                         \
    do {                                                                            \
        V x_ = VMIN(VSET1(hi), VMAX(VSET1(lo), (xin)));                             \
        V n_ = VSUB(VFMA(x_, VSET1(KC_LOG2E), VSET1(KC_MAGIC)), VSET1(KC_MAGIC));   \
        V r_ = VFMA(n_, VSET1(-KC_LN2HI), x_);                                      \
        r_ = VFMA(n_, VSET1(-KC_LN2LO), r_);                                        \
        V p_ = VSET1(KC_C[KC_DEG]);                                                 \
        for (int c_ = KC_DEG - 1; c_ >= 0; c_--) p_ = VFMA(p_, r_, VSET1(KC_C[c_])); \
        (pout) = p_;                                                                \
        (nout) = n_;                                                                \
    } while (0)

/* 2^k for integer-valued k in [-bias, bias] (k = -bias gives +0): bits of k + bias + 2^mant,
 * shifted left by mant. */
#define KT_POW2(k) VSHL(VADD((k), VSET1(KC_BIAS + KC_TWOMANT)))

/* v 2^k, k clamped to [KC_KMIN, KC_KMAX], as (v 2^{k1}) 2^{k2}: the first product exact, one
 * rounding (subnormal results included). When every lane has 2^k normal (k in [KC_KSAFE, bias - 1])
 * the single product v 2^k is taken instead: it is the same one rounding of the same exact value
 * (v 2^{k1} is exact in both regimes for the kernels' v >= 2^-33), so the values, and the bytes
 * across ISAs whose vectors group the lanes differently, do not depend on the path. */
#define KT_SCALE2(out, v, kin)                                                      \
    do {                                                                            \
        V k_ = VMIN(VSET1(KC_KMAX), VMAX(VSET1(KC_KMIN), (kin)));                   \
        if (VALL_IN(k_, KC_KSAFE, KC_BIAS - 1)) {                                   \
            (out) = VMUL((v), KT_POW2(k_));                                         \
        } else {                                                                    \
            V k1_ = VSUB(VFMA(k_, VSET1((T)0.5), VSET1(KC_MAGIC)), VSET1(KC_MAGIC)); \
            V k2_ = VSUB(k_, k1_);                                                  \
            (out) = VMUL(VMUL((v), KT_POW2(k1_)), KT_POW2(k2_));                    \
        }                                                                           \
    } while (0)

#define KT_EXP(out, xin)                                                            \
    do {                                                                            \
        V pe_, ne_;                                                                 \
        KT_EXPPAIR(xin, KC_EXP_LO, KC_EXP_HI, pe_, ne_);                            \
        KT_SCALE2(out, pe_, ne_);                                                   \
    } while (0)

/* The tail (n mod L elements) of a reduction goes through a chunk padded with -Inf. */
#define KT_TAIL_PAD(buf, x, i, n)                                                   \
    for (size_t j_ = 0; j_ < KC_L; j_++) (buf)[j_] = (i) + j_ < (n) ? (x)[(i) + j_] : -(T)INFINITY

KT_TARGET static T KF(max)(const T *x, size_t n)
{
    V acc[KT_U];
    for (int u = 0; u < KT_U; u++) acc[u] = VSET1(-(T)INFINITY);
    size_t i = 0;
    for (; i + KC_L <= n; i += KC_L)
        for (int u = 0; u < KT_U; u++) acc[u] = VMAX(acc[u], VLOAD(x + i + u * VL));
    T lanes[KC_L];
    for (int u = 0; u < KT_U; u++) VSTORE(lanes + u * VL, acc[u]);
    T a = -(T)INFINITY;
    for (size_t j = 0; j < KC_L; j++) a = lanes[j] > a ? lanes[j] : a;
    for (; i < n; i++) a = x[i] > a ? x[i] : a;
    return a;
}

/* lanes[j] = sum of e^{x_i - a} over i = j mod L (sequential per lane); y: store the exps. */
KT_TARGET static void KF(sumexp)(T *lanes, const T *x, size_t n, T a, T *y)
{
    V acc[KT_U], va = VSET1(a);
    for (int u = 0; u < KT_U; u++) acc[u] = VSET1(0);
    size_t i = 0;
    T buf[KC_L];
    for (;;) {
        const T *xp = x + i;
        int tail = i + KC_L > n;
        if (tail) {
            if (i >= n) break;
            KT_TAIL_PAD(buf, x, i, n);
            xp = buf;
        }
        for (int u = 0; u < KT_U; u++) {
            V e;
            KT_EXP(e, VSUB(VLOAD(xp + u * VL), va));
            acc[u] = VADD(acc[u], e);
            if (y) {
                if (tail) VSTORE(buf + u * VL, e);
                else VSTORE(y + i + u * VL, e);
            }
        }
        if (tail) {
            if (y) for (size_t j = 0; i + j < n; j++) y[i + j] = buf[j];
            break;
        }
        i += KC_L;
    }
    for (int u = 0; u < KT_U; u++) VSTORE(lanes + u * VL, acc[u]);
}

/* Per-lane online (m, d): one exp per element (kernels.h). */
KT_TARGET static void KF(online)(T *lm, T *ld, const T *x, size_t n)
{
    V m[KT_U], d[KT_U];
    for (int u = 0; u < KT_U; u++) { m[u] = VSET1(-KC_MAX); d[u] = VSET1(0); }
    size_t i = 0;
    T buf[KC_L];
    for (;;) {
        const T *xp = x + i;
        int tail = i + KC_L > n;
        if (tail) {
            if (i >= n) break;
            KT_TAIL_PAD(buf, x, i, n);
            xp = buf;
        }
        for (int u = 0; u < KT_U; u++) {
            V v = VLOAD(xp + u * VL), e;
            KT_EXP(e, VSUB(VMIN(m[u], v), VMAX(m[u], v)));
            d[u] = VSEL_GT(v, m[u], VFMA(d[u], e, VSET1(1)), VADD(d[u], e));
            m[u] = VSEL_GT(v, m[u], v, m[u]);
        }
        if (tail) break;
        i += KC_L;
    }
    for (int u = 0; u < KT_U; u++) { VSTORE(lm + u * VL, m[u]); VSTORE(ld + u * VL, d[u]); }
}

/* Per-lane two-pass (M, N) (kernels.h): entries below -LIM contribute 0. */
KT_TARGET static void KF(twopass)(T *lM, T *lN, const T *x, size_t n)
{
    V M[KT_U], N[KT_U];
    for (int u = 0; u < KT_U; u++) { M[u] = VSET1(0); N[u] = VSET1(-4 * KC_PLIM); }
    size_t i = 0;
    T buf[KC_L];
    for (;;) {
        const T *xp = x + i;
        int tail = i + KC_L > n;
        if (tail) {
            if (i >= n) break;
            KT_TAIL_PAD(buf, x, i, n);
            xp = buf;
        }
        for (int u = 0; u < KT_U; u++) {
            V v = VLOAD(xp + u * VL), p, k;
            KT_EXPPAIR(v, -KC_PLIM, KC_PLIM, p, k);
            p = VSEL_LT(v, VSET1(-KC_PLIM), VSET1(0), p);
            V Nn = VMAX(N[u], k);
            V f1 = KT_POW2(VMAX(VSET1(-KC_BIAS), VSUB(N[u], Nn)));
            V f2 = KT_POW2(VMAX(VSET1(-KC_BIAS), VSUB(k, Nn)));
            M[u] = VADD(VMUL(M[u], f1), VMUL(p, f2));
            N[u] = Nn;
        }
        if (tail) break;
        i += KC_L;
    }
    for (int u = 0; u < KT_U; u++) { VSTORE(lM + u * VL, M[u]); VSTORE(lN + u * VL, N[u]); }
}

/* Element-wise output kernels: full vectors, partial ones (a head up to the first vector-aligned
 * y when streaming, and the tail) through a zero-padded vector, so every element sees the same
 * operations. stream: non-temporal stores (VSTREAM, aligned) for outputs far beyond the caches,
 * then a store fence. */
#define KT_PARTIAL(i0, cnt, ...)                                                    \
    do {                                                                            \
        T b_[VL];                                                                   \
        for (size_t j = 0; j < VL; j++) b_[j] = j < (cnt) ? x[(i0) + j] : 0;        \
        V v = VLOAD(b_), r;                                                         \
        __VA_ARGS__;                                                                \
        VSTORE(b_, r);                                                              \
        for (size_t j = 0; j < (cnt); j++) y[(i0) + j] = b_[j];                     \
    } while (0)
#define KT_ELEMENTWISE(...)                                                         \
    size_t i = 0;                                                                   \
    if (stream && VL > 1) {                                                         \
        size_t head = (size_t)((VL * sizeof(T) - (uintptr_t)y % (VL * sizeof(T))) % (VL * sizeof(T))) / sizeof(T); \
        if (head > n) head = n;                                                     \
        if (head) KT_PARTIAL(0, head, __VA_ARGS__);                                 \
        for (i = head; i + VL <= n; i += VL) { V v = VLOAD(x + i), r; __VA_ARGS__; VSTREAM(y + i, r); } \
        VSFENCE();                                                                  \
    } else {                                                                        \
        for (; i + VL <= n; i += VL) { V v = VLOAD(x + i), r; __VA_ARGS__; VSTORE(y + i, r); } \
    }                                                                               \
    if (i < n) KT_PARTIAL(i, n - i, __VA_ARGS__);

/* y = e^{x - a} inv */
KT_TARGET static void KF(out_exp)(T *y, const T *x, size_t n, T a, T inv, int stream)
{
    V va = VSET1(a), vi = VSET1(inv);
    KT_ELEMENTWISE({ V e; KT_EXP(e, VSUB(v, va)); r = VMUL(e, vi); })
}

/* y = y inv (reload) */
KT_TARGET static void KF(out_mul)(T *y, size_t n, T inv, int stream)
{
    const T *x = y;
    V vi = VSET1(inv);
    KT_ELEMENTWISE({ r = VMUL(v, vi); })
}

/* y = (x - a) - l */
KT_TARGET static void KF(out_sub)(T *y, const T *x, size_t n, T a, T l, int stream)
{
    V va = VSET1(a), vl = VSET1(l);
    KT_ELEMENTWISE({ r = VSUB(VSUB(v, va), vl); })
}

/* y = (p_i invM) 2^{n_i - N} (two-pass) */
KT_TARGET static void KF(out_pair)(T *y, const T *x, size_t n, T invM, T Nt, int stream)
{
    V vi = VSET1(invM), vN = VSET1(Nt);
    KT_ELEMENTWISE({
        V p, k;
        KT_EXPPAIR(v, -KC_PLIM, KC_PLIM, p, k);
        p = VSEL_LT(v, VSET1(-KC_PLIM), VSET1(0), p);
        KT_SCALE2(r, VMUL(p, vi), VSUB(k, vN));
    })
}

/* y = e^x */
KT_TARGET static void KF(vexp)(T *y, const T *x, size_t n)
{
    const int stream = 0;
    KT_ELEMENTWISE({ KT_EXP(r, v); })
}

/* y = alpha x (copy-and-scale) */
KT_TARGET static void KF(scale)(T *y, const T *x, size_t n, T alpha, int stream)
{
    V va = VSET1(alpha);
    KT_ELEMENTWISE({ r = VMUL(v, va); })
}

#undef KT_ELEMENTWISE
#undef KT_PARTIAL
#undef KT_TAIL_PAD
#undef KT_EXP
#undef KT_SCALE2
#undef KT_POW2
#undef KT_EXPPAIR
#undef KT_U
#undef KF
#undef KT_CAT
#undef KT_CAT2
