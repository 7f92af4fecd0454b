// One llama.cpp (ggml) matrix-vector product, timed: the kernel decode spends its time in.
//
//   gemv K N THREADS TYPE REPACK REPS
//
// Builds a K x N weight matrix of TYPE (q4_0, q4_k, q8_0, f16) filled with random blocks,
// optionally placed in ggml's CPU_REPACK buffer (what llama.cpp does at load time on AVX2),
// multiplies it by a vector REPS times and prints one line: "bytes best_seconds buffer".
// A small N keeps the matrix in cache; a large one streams it from memory. Comparing the two
// says whether the kernel waits on memory or on arithmetic. Built by bench/kernels.py against
// llama-cpp-python's own libraries and the headers of its source distribution.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ggml.h"
#include "ggml-alloc.h"
#include "ggml-backend.h"
#include "ggml-cpu.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static unsigned long long rng = 88172645463325252ULL;
static unsigned char next_byte(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (unsigned char)(rng >> 24);
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: gemv K N THREADS TYPE(q4_0|q4_k|q8_0|f16) REPACK(0|1) REPS\n");
        return 2;
    }
    const int K = atoi(argv[1]);
    const long N = atol(argv[2]);
    const int nth = atoi(argv[3]);
    const char *ty = argv[4];
    const int want_repack = atoi(argv[5]);
    const int reps = atoi(argv[6]);

    enum ggml_type t;
    if (!strcmp(ty, "q4_0")) t = GGML_TYPE_Q4_0;
    else if (!strcmp(ty, "q4_k")) t = GGML_TYPE_Q4_K;
    else if (!strcmp(ty, "q8_0")) t = GGML_TYPE_Q8_0;
    else if (!strcmp(ty, "f16")) t = GGML_TYPE_F16;
    else { fprintf(stderr, "unknown type %s\n", ty); return 2; }

    ggml_backend_t be = ggml_backend_cpu_init();
    ggml_backend_cpu_set_n_threads(be, nth);

    // The weight's buffer: CPU_REPACK when asked (and offered for this type), else plain CPU.
    ggml_backend_buffer_type_t wbuft = ggml_backend_cpu_buffer_type();
    if (want_repack) {
        ggml_backend_dev_t dev = ggml_backend_get_device(be);
        ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(dev);
        ggml_backend_dev_get_extra_bufts_t get =
            (ggml_backend_dev_get_extra_bufts_t)ggml_backend_reg_get_proc_address(reg, "ggml_backend_dev_get_extra_bufts");
        for (ggml_backend_buffer_type_t *b = get ? get(dev) : NULL; b && *b; b++)
            if (strstr(ggml_backend_buft_name(*b), "REPACK")) wbuft = *b;
    }

    struct ggml_init_params wp = {ggml_tensor_overhead() * 4, NULL, true};
    struct ggml_context *wctx = ggml_init(wp);
    struct ggml_tensor *W = ggml_new_tensor_2d(wctx, t, K, N);
    ggml_backend_buffer_t wbuf = ggml_backend_alloc_ctx_tensors_from_buft(wctx, wbuft);
    if (!wbuf) { fprintf(stderr, "could not allocate the weights\n"); return 1; }

    const size_t wbytes = ggml_nbytes(W);
    unsigned char *host = malloc(wbytes);
    for (size_t i = 0; i < wbytes; i++) host[i] = next_byte();
    // keep block scales finite and small: patch every fp16 scale to ~0.01 (0x211f)
    if (t == GGML_TYPE_Q4_0 || t == GGML_TYPE_Q8_0) {
        const size_t bs = ggml_type_size(t);
        for (size_t o = 0; o < wbytes; o += bs) { host[o] = 0x1f; host[o + 1] = 0x21; }
    } else if (t == GGML_TYPE_Q4_K) {
        const size_t bs = ggml_type_size(t);  // d, dmin (fp16) lead each 256-value block
        for (size_t o = 0; o < wbytes; o += bs) { host[o] = 0x1f; host[o + 1] = 0x21; host[o + 2] = 0x1f; host[o + 3] = 0x21; }
    } else {
        unsigned short *h = (unsigned short *)host;
        for (size_t i = 0; i < wbytes / 2; i++) h[i] = (unsigned short)(0x2000 | (h[i] & 0x3ff));
    }
    ggml_backend_tensor_set(W, host, 0, wbytes);  // a REPACK buffer reorders the blocks here
    free(host);

    struct ggml_init_params gp = {ggml_tensor_overhead() * 16 + ggml_graph_overhead(), NULL, true};
    struct ggml_context *gctx = ggml_init(gp);
    struct ggml_tensor *x = ggml_new_tensor_2d(gctx, GGML_TYPE_F32, K, 1);
    struct ggml_tensor *y = ggml_mul_mat(gctx, W, x);
    struct ggml_cgraph *gf = ggml_new_graph(gctx);
    ggml_build_forward_expand(gf, y);
    ggml_backend_buffer_t gbuf = ggml_backend_alloc_ctx_tensors_from_buft(gctx, ggml_backend_cpu_buffer_type());
    if (!gbuf) { fprintf(stderr, "could not allocate the activations\n"); return 1; }
    float *xv = malloc(sizeof(float) * K);
    for (int i = 0; i < K; i++) xv[i] = (float)(next_byte() % 100) / 100.0f;
    ggml_backend_tensor_set(x, xv, 0, sizeof(float) * K);
    free(xv);

    ggml_backend_graph_compute(be, gf);  // warm-up
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        ggml_backend_graph_compute(be, gf);
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    printf("%zu %.9f %s\n", wbytes, best, ggml_backend_buft_name(wbuft));

    ggml_backend_buffer_free(gbuf);
    ggml_backend_buffer_free(wbuf);
    ggml_free(gctx);
    ggml_free(wctx);
    ggml_backend_free(be);
    return 0;
}
