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

/* Interleaving (issue 10): the exp is a chain of ~15 dependent operations (Horner), so one vector
 * at a time keeps the out-of-order window full of waiting operations and the pass is bound by the
 * exp's latency (two-pass's first pass ran at 14 cycles per 16 floats in L2 and out of cache
 * alike). The kernels below therefore evaluate the exps of KT_NV vectors stage by stage
 * (KT_EXPPAIR_N), and the reductions take KT_G chunks per step; the accumulations stay in element
 * order per lane, so the values (and bytes) are those of the one-vector loop. */
#define KT_NV 4
#define KT_G (KT_U >= KT_NV ? 1 : KT_NV / KT_U)
#define KT_UNROLL _Pragma("GCC unroll 16")
#define KT_FOR(cnt) KT_UNROLL for (int j_ = 0; j_ < (cnt); j_++)

/* e^x = p 2^n for the cnt vectors xin[0..cnt-1]: Cody-Waite reduction with FMA, the polynomial
 * KC_C of e^r (kernels_inst.h) in Horner form. x clamped to [lo, hi] first (NaN kept). */
#define KT_EXPPAIR_N(cnt, xin, lo, hi, pout, nout)                                  \
    do {                                                                            \
        V xc_[cnt];                                                                 \
        KT_FOR(cnt) xc_[j_] = VMIN(VSET1(hi), VMAX(VSET1(lo), (xin)[j_]));          \
        KT_EXPPAIR_RAW_N(cnt, xc_, pout, nout);                                     \
    } while (0)
/* The same for x already in the range (or whose pair the caller discards). */
#define KT_EXPPAIR_RAW_N(cnt, x_, pout, nout)                                       \
    do {                                                                            \
        V r_[cnt];                                                                  \
        KT_FOR(cnt) (nout)[j_] = VSUB(VFMA(x_[j_], VSET1(KC_LOG2E), VSET1(KC_MAGIC)), VSET1(KC_MAGIC)); \
        KT_FOR(cnt) r_[j_] = VFMA((nout)[j_], VSET1(-KC_LN2HI), x_[j_]);            \
        KT_FOR(cnt) r_[j_] = VFMA((nout)[j_], VSET1(-KC_LN2LO), r_[j_]);            \
        KT_FOR(cnt) (pout)[j_] = VSET1(KC_C[KC_DEG]);                               \
        KT_UNROLL for (int c_ = KC_DEG - 1; c_ >= 0; c_--)                          \
            KT_FOR(cnt) (pout)[j_] = VFMA((pout)[j_], r_[j_], VSET1(KC_C[c_]));     \
    } while (0)

/* 2^k for integer-valued k in [-bias, bias] (k = -bias gives +0): bits of k + bias + 2^mant,
 * shifted left by mant. */
#define KT_POW2(k) VSHL(VADD((k), VSET1(KC_BIAS + KC_TWOMANT)))

/* out[j] = v[j] 2^k[j] (j < cnt), k clamped to [KC_KMIN, KC_KMAX], as (v 2^{k1}) 2^{k2}: the
 * first product exact, one rounding (subnormal results included). When every lane of the cnt
 * vectors has 2^k normal (k in [KC_KSAFE, bias - 1]) the single product v 2^k is taken instead: it
 * is the same one rounding of the same exact value (v 2^{k1} is exact in both regimes for the
 * kernels' v >= 2^-33), so the values, and the bytes across ISAs whose vectors group the lanes
 * differently, do not depend on the path. */
#define KT_SCALE2_N(cnt, out, v, kin)                                               \
    do {                                                                            \
        V k_[cnt];                                                                  \
        int in_ = 1;                                                                \
        KT_FOR(cnt) {                                                               \
            k_[j_] = VMIN(VSET1(KC_KMAX), VMAX(VSET1(KC_KMIN), (kin)[j_]));         \
            in_ &= VALL_IN(k_[j_], KC_KSAFE, KC_BIAS - 1);                          \
        }                                                                           \
        if (in_) {                                                                  \
            KT_FOR(cnt)(out)[j_] = VMUL((v)[j_], KT_POW2(k_[j_]));                  \
        } else {                                                                    \
            KT_FOR(cnt) {                                                           \
                V k1_ = VSUB(VFMA(k_[j_], VSET1((T)0.5), VSET1(KC_MAGIC)), VSET1(KC_MAGIC)); \
                V k2_ = VSUB(k_[j_], k1_);                                          \
                (out)[j_] = VMUL(VMUL((v)[j_], KT_POW2(k1_)), KT_POW2(k2_));        \
            }                                                                       \
        }                                                                           \
    } while (0)

/* out[j] = e^{xin[j]}, j < cnt */
#define KT_EXP_N(cnt, out, xin)                                                     \
    do {                                                                            \
        V pe_[cnt], ne_[cnt];                                                       \
        KT_EXPPAIR_N(cnt, xin, KC_EXP_LO, KC_EXP_HI, pe_, ne_);                     \
        KT_SCALE2_N(cnt, out, pe_, ne_);                                            \
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

/* A reduction's chunks: full groups of KT_G chunks, then single chunks, then the tail padded with
 * -Inf; STEP(cnt, xp, yp) takes cnt = (chunks) KT_U vectors from xp (yp: where the exps go, or
 * NULL). Vector j of a step is lane vector j mod KT_U, so every lane accumulates in element order. */
#define KT_CHUNKS(STEP, x, n, y)                                                    \
    do {                                                                            \
        size_t i_ = 0;                                                              \
        for (; i_ + KT_G * KC_L <= (n); i_ += KT_G * KC_L)                          \
            STEP(KT_G * KT_U, (x) + i_, (y) ? (y) + i_ : NULL);                     \
        for (; i_ + KC_L <= (n); i_ += KC_L) STEP(KT_U, (x) + i_, (y) ? (y) + i_ : NULL); \
        if (i_ < (n)) {                                                             \
            T buf_[KC_L], *ybuf_ = (y) ? buf_ : NULL;                               \
            KT_TAIL_PAD(buf_, x, i_, n);                                            \
            STEP(KT_U, buf_, ybuf_);                                                \
            if (y) for (size_t j = 0; i_ + j < (n); j++) (y)[i_ + j] = buf_[j];     \
        }                                                                           \
    } while (0)

/* lanes[j] = sum of e^{x_i - a} over i = j mod L (sequential per lane); y: store the exps. */
#define KT_SUMEXP_STEP(cnt, xp, yp)                                                 \
    do {                                                                            \
        V t_[cnt], e_[cnt];                                                         \
        KT_FOR(cnt) t_[j_] = VSUB(VLOAD((xp) + j_ * VL), va);                       \
        KT_EXP_N(cnt, e_, t_);                                                      \
        KT_FOR(cnt) acc[j_ % KT_U] = VADD(acc[j_ % KT_U], e_[j_]);                  \
        if (yp) KT_FOR(cnt) VSTORE((yp) + j_ * VL, e_[j_]);                         \
    } while (0)
KT_TARGET static void KF(sumexp)(T *lanes, const T *x, size_t n, T a, T *y)
{
    V acc[KT_U], va = VSET1(a);
    for (int u = 0; u < KT_U; u++) acc[u] = VSET1(0);
    KT_CHUNKS(KT_SUMEXP_STEP, x, n, y);
    for (int u = 0; u < KT_U; u++) VSTORE(lanes + u * VL, acc[u]);
}
#undef KT_SUMEXP_STEP

/* Per-lane online (m, d): one exp per element (kernels.h). The m sequence first (the exps'
 * arguments need only it), then the exps, then the d updates in element order. */
#define KT_ONLINE_STEP(cnt, xp, yp)                                                 \
    do {                                                                            \
        V v_[cnt], mo_[cnt], t_[cnt], e_[cnt];                                      \
        KT_FOR(cnt) v_[j_] = VLOAD((xp) + j_ * VL);                                 \
        KT_FOR(cnt) {                                                               \
            V mm_ = m[j_ % KT_U];                                                   \
            mo_[j_] = mm_;                                                          \
            t_[j_] = VSUB(VMIN(mm_, v_[j_]), VMAX(mm_, v_[j_]));                    \
            m[j_ % KT_U] = VSEL_GT(v_[j_], mm_, v_[j_], mm_);                       \
        }                                                                           \
        KT_EXP_N(cnt, e_, t_);                                                      \
        KT_FOR(cnt) {                                                               \
            V dd_ = d[j_ % KT_U];                                                   \
            d[j_ % KT_U] = VSEL_GT(v_[j_], mo_[j_], VFMA(dd_, e_[j_], VSET1(1)), VADD(dd_, e_[j_])); \
        }                                                                           \
        (void)(yp);                                                                 \
    } while (0)
KT_TARGET static void KF(online)(T *lm, T *ld, const T *x, size_t n)
{
    V m[KT_U], d[KT_U];
    T *none = NULL;
    for (int u = 0; u < KT_U; u++) { m[u] = VSET1(-KC_MAX); d[u] = VSET1(0); }
    KT_CHUNKS(KT_ONLINE_STEP, x, n, none);
    for (int u = 0; u < KT_U; u++) { VSTORE(lm + u * VL, m[u]); VSTORE(ld + u * VL, d[u]); }
}
#undef KT_ONLINE_STEP

/* Per-lane two-pass (M, N) (kernels.h). The chunks go in groups of KT_PG (the same grouping for
 * every ISA: full groups, then single chunks, then the padded tail): each lane first takes the
 * group's largest exponent Nn = max(N, n_1 .. n_g), rescales M once, M 2^{N - Nn}, then adds its
 * elements in order, M = fma(p_j, 2^{n_j - Nn}, M). Without underflow every product is exact, so
 * the sums are those of the per-element update M 2^{N - Nn_j} + p_j 2^{n_j - Nn_j} (scaling by
 * powers of two commutes with rounding), at 7 vector operations per element instead of 12.
 * x is only clamped below, at -LIM: whenever the pair is used (the driver falls back to
 * three-pass unless max x is in (-LIM + margin, LIM)), such entries have n_j - Nn < -bias, so
 * their factor 2^{n_j - Nn} is +0 and they add exactly 0; entries above LIM (or +Inf) only occur
 * when the driver falls back, so their pair need not be clamped. A NaN x makes M NaN. */
#define KT_PG 4
#define KT_TWOPASS_GROUP(cnt, xp)                                                   \
    do {                                                                            \
        V v_[cnt], p_[cnt], kk_[cnt], Nn_[KT_U];                                    \
        KT_FOR(cnt) v_[j_] = VLOAD((xp) + j_ * VL);                                 \
        KT_FOR(cnt) v_[j_] = VMAX(VSET1(-KC_PLIM), v_[j_]);                         \
        KT_EXPPAIR_RAW_N(cnt, v_, p_, kk_);                                         \
        for (int u_ = 0; u_ < KT_U; u_++) Nn_[u_] = N[u_];                          \
        KT_FOR(cnt) Nn_[j_ % KT_U] = VMAX(Nn_[j_ % KT_U], kk_[j_]);                 \
        for (int u_ = 0; u_ < KT_U; u_++) {                                         \
            M[u_] = VMUL(M[u_], KT_POW2(VMAX(VSET1(-KC_BIAS), VSUB(N[u_], Nn_[u_])))); \
            N[u_] = Nn_[u_];                                                        \
        }                                                                           \
        KT_FOR(cnt) {                                                               \
            const int u_ = j_ % KT_U;                                               \
            M[u_] = VFMA(p_[j_], KT_POW2(VMAX(VSET1(-KC_BIAS), VSUB(kk_[j_], N[u_]))), M[u_]); \
        }                                                                           \
    } while (0)
KT_TARGET static void KF(twopass)(T *lM, T *lN, const T *x, size_t n)
{
    V M[KT_U], N[KT_U];
    for (int u = 0; u < KT_U; u++) { M[u] = VSET1(0); N[u] = VSET1(-4 * KC_PLIM); }
    size_t i = 0;
    for (; i + KT_PG * KC_L <= n; i += KT_PG * KC_L) KT_TWOPASS_GROUP(KT_PG * KT_U, x + i);
    for (; i + KC_L <= n; i += KC_L) KT_TWOPASS_GROUP(KT_U, x + i);
    if (i < n) {
        T buf[KC_L];
        KT_TAIL_PAD(buf, x, i, n);
        KT_TWOPASS_GROUP(KT_U, buf);
    }
    for (int u = 0; u < KT_U; u++) { VSTORE(lM + u * VL, M[u]); VSTORE(lN + u * VL, N[u]); }
}
#undef KT_TWOPASS_GROUP
#undef KT_PG

/* Element-wise output kernels: KT_NV vectors per step (their exps interleaved), then single
 * vectors, partial ones (a head up to the first vector-aligned y when streaming, and the tail)
 * through a zero-padded vector, so every element sees the same operations. BODY(cnt, v, r) maps
 * the cnt vectors v[] to r[]. stream: non-temporal stores (VSTREAM, aligned; kernels.h's
 * threshold, off by default), then a store fence. */
#define KT_PARTIAL(i0, cnt, BODY)                                                   \
    do {                                                                            \
        T b_[VL];                                                                   \
        for (size_t j = 0; j < VL; j++) b_[j] = j < (cnt) ? x[(i0) + j] : 0;        \
        V v[1], r[1];                                                               \
        v[0] = VLOAD(b_);                                                           \
        BODY(1, v, r);                                                              \
        VSTORE(b_, r[0]);                                                           \
        for (size_t j = 0; j < (cnt); j++) y[(i0) + j] = b_[j];                     \
    } while (0)
#define KT_ELEMENTWISE_LOOP(BODY, STORE)                                            \
    for (; i + KT_NV * VL <= n; i += KT_NV * VL) {                                  \
        V v[KT_NV], r[KT_NV];                                                       \
        KT_FOR(KT_NV) v[j_] = VLOAD(x + i + j_ * VL);                               \
        BODY(KT_NV, v, r);                                                          \
        KT_FOR(KT_NV) STORE(y + i + j_ * VL, r[j_]);                                \
    }                                                                               \
    for (; i + VL <= n; i += VL) {                                                  \
        V v[1], r[1];                                                               \
        v[0] = VLOAD(x + i);                                                        \
        BODY(1, v, r);                                                              \
        STORE(y + i, r[0]);                                                         \
    }
#define KT_ELEMENTWISE(BODY)                                                        \
    size_t i = 0;                                                                   \
    if (stream && VL > 1) {                                                         \
        size_t head = (size_t)((VL * sizeof(T) - (uintptr_t)y % (VL * sizeof(T))) % (VL * sizeof(T))) / sizeof(T); \
        if (head > n) head = n;                                                     \
        if (head) KT_PARTIAL(0, head, BODY);                                        \
        i = head;                                                                   \
        KT_ELEMENTWISE_LOOP(BODY, VSTREAM)                                          \
        VSFENCE();                                                                  \
    } else {                                                                        \
        KT_ELEMENTWISE_LOOP(BODY, VSTORE)                                           \
    }                                                                               \
    if (i < n) KT_PARTIAL(i, n - i, BODY);

/* y = e^{x - a} inv */
#define KT_BODY(cnt, v, r)                                                          \
    do {                                                                            \
        V t_[cnt];                                                                  \
        KT_FOR(cnt) t_[j_] = VSUB((v)[j_], va);                                     \
        KT_EXP_N(cnt, r, t_);                                                       \
        KT_FOR(cnt) (r)[j_] = VMUL((r)[j_], vi);                                    \
    } while (0)
KT_TARGET static void KF(out_exp)(T *y, const T *x, size_t n, T a, T inv, int stream)
{
    V va = VSET1(a), vi = VSET1(inv);
    KT_ELEMENTWISE(KT_BODY)
}
#undef KT_BODY

/* y = y inv (reload) */
#define KT_BODY(cnt, v, r) KT_FOR(cnt) (r)[j_] = VMUL((v)[j_], vi)
KT_TARGET static void KF(out_mul)(T *y, size_t n, T inv, int stream)
{
    const T *x = y;
    V vi = VSET1(inv);
    KT_ELEMENTWISE(KT_BODY)
}
#undef KT_BODY

/* y = (x - a) - l */
#define KT_BODY(cnt, v, r) KT_FOR(cnt) (r)[j_] = VSUB(VSUB((v)[j_], va), vl)
KT_TARGET static void KF(out_sub)(T *y, const T *x, size_t n, T a, T l, int stream)
{
    V va = VSET1(a), vl = VSET1(l);
    KT_ELEMENTWISE(KT_BODY)
}
#undef KT_BODY

/* y = (p_i invM) 2^{n_i - N} (two-pass). The driver calls it only with max x in (-LIM + margin,
 * LIM), so x needs no clamp above, and an x below -LIM, clamped to -LIM, has n_i - N < KC_KMIN:
 * its output p invM 2^{KC_KMIN} rounds to +0, as counting it 0 requires (kernels.h). */
#define KT_BODY(cnt, v, r)                                                          \
    do {                                                                            \
        V p_[cnt], kk_[cnt], xc_[cnt];                                              \
        KT_FOR(cnt) xc_[j_] = VMAX(VSET1(-KC_PLIM), (v)[j_]);                       \
        KT_EXPPAIR_RAW_N(cnt, xc_, p_, kk_);                                        \
        KT_FOR(cnt) {                                                               \
            p_[j_] = VMUL(p_[j_], vi);                                              \
            kk_[j_] = VSUB(kk_[j_], vN);                                            \
        }                                                                           \
        KT_SCALE2_N(cnt, r, p_, kk_);                                               \
    } while (0)
KT_TARGET static void KF(out_pair)(T *y, const T *x, size_t n, T invM, T Nt, int stream)
{
    V vi = VSET1(invM), vN = VSET1(Nt);
    KT_ELEMENTWISE(KT_BODY)
}
#undef KT_BODY

/* y = e^x */
#define KT_BODY(cnt, v, r) KT_EXP_N(cnt, r, v)
KT_TARGET static void KF(vexp)(T *y, const T *x, size_t n)
{
    const int stream = 0;
    KT_ELEMENTWISE(KT_BODY)
}
#undef KT_BODY

/* y = alpha x (copy-and-scale) */
#define KT_BODY(cnt, v, r) KT_FOR(cnt) (r)[j_] = VMUL((v)[j_], va)
KT_TARGET static void KF(scale)(T *y, const T *x, size_t n, T alpha, int stream)
{
    V va = VSET1(alpha);
    KT_ELEMENTWISE(KT_BODY)
}
#undef KT_BODY

#undef KT_ELEMENTWISE
#undef KT_ELEMENTWISE_LOOP
#undef KT_CHUNKS
#undef KT_EXP_N
#undef KT_EXPPAIR_N
#undef KT_EXPPAIR_RAW_N
#undef KT_FOR
#undef KT_UNROLL
#undef KT_G
#undef KT_NV
#undef KT_PARTIAL
#undef KT_TAIL_PAD
#undef KT_SCALE2_N
#undef KT_POW2
#undef KT_U
#undef KF
#undef KT_CAT
#undef KT_CAT2
