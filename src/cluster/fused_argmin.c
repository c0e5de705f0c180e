/* Nearest centroid per row with the distance GEMM and the argmin fused:
   labels[i] = argmin_k bias[k] + x_i . ct[:, k].

   Built and loaded by fused_argmin.py (system C compiler, -O3 -march=native, ctypes). Why a kernel: with BLAS the
   distance block of every row goes to memory and an argmin reads it back; here a tile of ROWS rows x TILE
   centroids lives in vector registers while it accumulates over the d dimensions, and is folded into a running
   per-lane minimum before the next tile. The register blocking is the one a BLAS micro-kernel uses (6 rows x 4
   vectors on AVX-512, 6 x 2 on 256-bit or 128-bit vectors), written with GCC/Clang vector extensions, not
   intrinsics, so the compiler picks the instructions for the machine it runs on.

   Layout: x is n x d row-major float32; ct is d x kp (= -2 C^T, padded); bias is kp (= |c|^2, +inf on the
   padding, so a padded centroid never wins); kp is a multiple of fused_tile(). Ties go to the smallest index,
   as np.argmin does. */
#include <math.h>
#include <stdint.h>

#if defined(__AVX512F__)
#define VEC 16 /* floats per vector register */
#define VECS 4 /* vectors per row in a tile */
#elif defined(__AVX__)
#define VEC 8
#define VECS 2
#else /* 128-bit vectors: SSE2, NEON */
#define VEC 4
#define VECS 2
#endif
#define ROWS 6                   /* rows in a tile */
#define TILE (VEC * VECS)        /* centroids in a tile */
#define BLOCK 96                 /* rows whose running minima are kept while every tile of centroids passes */

typedef float vf __attribute__((vector_size(VEC * 4)));
typedef int32_t vi __attribute__((vector_size(VEC * 4)));
typedef float vfu __attribute__((vector_size(VEC * 4), aligned(4))); /* unaligned loads from numpy buffers */

/* One tile: nr rows (a compile-time constant once inlined) against centroids k0 .. k0 + TILE. */
static inline __attribute__((always_inline)) void tile(int nr, const float *x, int64_t d, const float *ct,
                                                       const float *bias, int64_t kp, int64_t k0, vf *best,
                                                       vi *bidx) {
    vf acc[ROWS][VECS];
    for (int r = 0; r < nr; r++)
        for (int v = 0; v < VECS; v++) acc[r][v] = *(const vfu *)(bias + k0 + v * VEC);
    for (int64_t j = 0; j < d; j++) {
        const vfu *c = (const vfu *)(ct + j * kp + k0);
        for (int r = 0; r < nr; r++) {
            float xs = x[r * d + j];
            for (int v = 0; v < VECS; v++) acc[r][v] += xs * c[v];
        }
    }
    vi lane;
    for (int l = 0; l < VEC; l++) lane[l] = l;
    for (int r = 0; r < nr; r++) {
        vf b = best[r];
        vi bi = bidx[r];
        for (int v = 0; v < VECS; v++) {
            vi m = (vi)(acc[r][v] < b); /* strict: an earlier centroid keeps a tie */
            b = (vf)(((vi)acc[r][v] & m) | ((vi)b & ~m));
            bi = ((lane + (int32_t)(k0 + v * VEC)) & m) | (bi & ~m);
        }
        best[r] = b;
        bidx[r] = bi;
    }
}

int fused_tile(void) { return TILE; }

void fused_argmin(const float *x, int64_t n, int64_t d, const float *ct, const float *bias, int64_t kp,
                  int64_t *labels) {
    vf best[BLOCK];
    vi bidx[BLOCK];
    for (int64_t i0 = 0; i0 < n; i0 += BLOCK) {
        int64_t nb = n - i0 < BLOCK ? n - i0 : BLOCK;
        for (int64_t r = 0; r < nb; r++) {
            best[r] = (vf){} + INFINITY;
            bidx[r] = (vi){};
        }
        for (int64_t k0 = 0; k0 < kp; k0 += TILE) {
            int64_t r = 0;
            for (; r + ROWS <= nb; r += ROWS)
                tile(ROWS, x + (i0 + r) * d, d, ct, bias, kp, k0, best + r, bidx + r);
            for (; r < nb; r++) tile(1, x + (i0 + r) * d, d, ct, bias, kp, k0, best + r, bidx + r);
        }
        for (int64_t r = 0; r < nb; r++) { /* across lanes: the smallest value, then the smallest index */
            float bv = best[r][0];
            int32_t bi = bidx[r][0];
            for (int l = 1; l < VEC; l++)
                if (best[r][l] < bv || (best[r][l] == bv && bidx[r][l] < bi)) {
                    bv = best[r][l];
                    bi = bidx[r][l];
                }
            labels[i0 + r] = bi;
        }
    }
}
