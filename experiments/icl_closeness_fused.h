/* icl_closeness_fused.h - the closeness layer's fused forward / backward, written once for both dtypes and
 * included twice by icl_closeness.c: with CL_T double, CL_SFX f64, CL_MODEL cl_model_t, CL_GEMM / CL_GEMV /
 * CL_GER cblas_d*, CL_SOFTMAX_ROW the kernels' double softmax, CL_SOFTMAX smx_softmax_f64 (what training and the
 * metrics ran before --dtype f32: same operations, same bytes), and with CL_T float, CL_SFX f32, ... (--dtype f32,
 * compared like for like with PyTorch's float32). CL_MODEL has the fields n, d, D, np, w, g, WQ, WK, WV, wO,
 * at.scale and the work buffers Z, Q (P), K (Y), Al, E, O (ds), s, bh, M, G, vw, tz, u, r of element type CL_T.
 * The tasks (A, b) stay double; the loss is returned in double. Formulas: icl_closeness.c above cl_forward. */
#define CL_CAT2(a, b) a##_##b
#define CL_CAT(a, b) CL_CAT2(a, b)
#define CLN(name) CL_CAT(name, CL_SFX)

/* Z = the tokens (a_i, n b_i) of (A, b) */
static void CLN(cl_tokens)(CL_MODEL *m, const double *A, const double *b)
{
    size_t n = m->n, d = m->d, D = m->D;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < d; k++) m->Z[i * D + k] = (CL_T)A[i * d + k];
        m->Z[i * D + d] = (CL_T)((double)n * b[i]);
    }
}

/* The softmax unit: m->bh = softmax(m->s); returns 0.5 ||bh - b||^2 */
static double CLN(cl_readout)(CL_MODEL *m, const double *b)
{
    size_t n = m->n;
    CL_SOFTMAX(m->bh, m->s, n);
    double l = 0;
    for (size_t i = 0; i < n; i++) l += (m->bh[i] - b[i]) * (m->bh[i] - b[i]);
    return 0.5 * l;
}

/* ds = dL/ds of scale * 0.5 ||bh - b||^2 through the softmax unit: ds = (diag(bh) - bh bh^T) scale (bh - b) */
static void CLN(cl_readout_bwd)(CL_T *ds, const CL_MODEL *m, const double *b, double scale)
{
    size_t n = m->n;
    for (size_t i = 0; i < n; i++) ds[i] = (CL_T)(scale * (m->bh[i] - b[i]));
    CL_T dot = 0; /* smx_attn_softmax_vjp's order */
    for (size_t i = 0; i < n; i++) dot += m->bh[i] * ds[i];
    for (size_t i = 0; i < n; i++) ds[i] = m->bh[i] * (ds[i] - dot);
}

static double CLN(cl_forward)(CL_MODEL *m, const double *A, const double *b)
{
    size_t n = m->n, D = m->D;
    int in = (int)n, iD = (int)D;
    CLN(cl_tokens)(m, A, b);
    /* M = scale WQ^T WK, vw = WV^T wO, P = Z M, E = P Z^T (in Al) */
    CL_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, iD, iD, iD, (CL_T)m->at.scale, m->WQ, iD, m->WK, iD, 0, m->M, iD);
    CL_GEMV(CblasRowMajor, CblasTrans, iD, iD, 1, m->WV, iD, m->wO, 1, 0, m->vw, 1);
    CL_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, in, iD, iD, 1, m->Z, iD, m->M, iD, 0, m->Q, iD);
    CL_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, in, in, iD, 1, m->Q, iD, m->Z, iD, 0, m->Al, in);
    for (size_t i = 0; i < n; i++) /* finite scores: cannot fail */
        CL_SOFTMAX_ROW(m->Al + i * n, m->Al + i * n, n, SMX_KERNELS_RELOAD, SMX_KERNELS_AUTO, 1);
    /* u = Z vw, s = Al u */
    CL_GEMV(CblasRowMajor, CblasNoTrans, in, iD, 1, m->Z, iD, m->vw, 1, 0, m->u, 1);
    CL_GEMV(CblasRowMajor, CblasNoTrans, in, in, 1, m->Al, in, m->u, 1, 0, m->s, 1);
    return CLN(cl_readout)(m, b);
}

/* TF backward of scale * 0.5 ||bh - b||^2 (after cl_forward on the same task), accumulated into m->g */
static void CLN(cl_backward)(CL_MODEL *m, const double *b, double scale)
{
    size_t n = m->n, D = m->D;
    int in = (int)n, iD = (int)D;
    CL_T *ds = m->O, *gQ = m->g, *gK = m->g + D * D, *gV = m->g + 2 * D * D, *gO = m->g + 3 * D * D;
    CL_T sc = (CL_T)m->at.scale;
    CLN(cl_readout_bwd)(ds, m, b, scale);
    /* r = Al^T ds, t = Z^T r; dE (in E) */
    CL_GEMV(CblasRowMajor, CblasTrans, in, in, 1, m->Al, in, ds, 1, 0, m->r, 1);
    CL_GEMV(CblasRowMajor, CblasTrans, in, iD, 1, m->Z, iD, m->r, 1, 0, m->tz, 1);
    for (size_t i = 0; i < n; i++) {
        const CL_T *a = m->Al + i * n;
        CL_T *e = m->E + i * n, dsi = ds[i], si = m->s[i];
        const CL_T *u = m->u;
#pragma omp simd /* elementwise: the same values vectorised */
        for (size_t j = 0; j < n; j++) e[j] = dsi * (a[j] * (u[j] - si));
    }
    /* Y = dE Z (in K), G = Z^T Y */
    CL_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, in, iD, in, 1, m->E, in, m->Z, iD, 0, m->K, iD);
    CL_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, iD, iD, in, 1, m->Z, iD, m->K, iD, 0, m->G, iD);
    /* dWQ += scale WK G^T, dWK += scale WQ G, dWV += wO t^T, dwO += WV t */
    CL_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, iD, iD, iD, sc, m->WK, iD, m->G, iD, 1, gQ, iD);
    CL_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, iD, iD, iD, sc, m->WQ, iD, m->G, iD, 1, gK, iD);
    CL_GER(CblasRowMajor, iD, iD, 1, m->wO, 1, m->tz, 1, gV, iD);
    CL_GEMV(CblasRowMajor, CblasNoTrans, iD, iD, 1, m->WV, iD, m->tz, 1, 1, gO, 1);
}

#undef CLN
#undef CL_CAT
#undef CL_CAT2
