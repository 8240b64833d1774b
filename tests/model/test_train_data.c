/* model: the training data stream. One example per row or packed rows with
 * per-document docstart, targets shifted by one, the mask taken from the
 * predicted token, truncation at T, a per-epoch shuffle fixed by the seed,
 * and steps derived from epochs. */
#include "../../src/model/train_priv.h"
#include "tkd_test.h"

static tkd_sft_example mk(int n, int base) {
    tkd_sft_example x = {malloc(sizeof(int) * (size_t)n), malloc((size_t)n), n};
    for (int i = 0; i < n; i++) {
        x.ids[i] = base + i;
        x.mask[i] = i >= n / 2;
    }
    return x;
}

TEST(rows) {
    tkd_sft_example ex[4] = {mk(4, 100), mk(3, 200), mk(12, 300), mk(1, 400)}; /* the last gives no prediction */
    tkd_err e = {0};
    tkd_stream s;
    long steps;
    enum { T = 8 };
    int tok[T], tgt[T], ds[T];
    uint8_t mask[T];
    /* no packing: one row per usable example, 1 epoch, global batch 2 -> 2 steps */
    CHECK_INT(tkd_stream_build(&s, ex, 4, T, 0, 42, 0, 1.0, 2, &steps, &e), 0);
    CHECK_INT(s.rows_per_epoch, 3);
    CHECK_INT(steps, 2);
    CHECK(s.n_rows >= 4);
    int seen[3] = {0, 0, 0};
    for (size_t r = 0; r < 3; r++) {
        long fill = tkd_stream_fill(&s, ex, r, T, tok, tgt, mask, ds);
        int which = tok[0] / 100 - 1;
        seen[which]++;
        if (which == 0) { /* ids 100..103: inputs 100..102, targets 101..103, mask of the targets */
            CHECK_INT(fill, 3);
            CHECK(tok[2] == 102 && tgt[2] == 103 && mask[0] == 0 && mask[1] == 1 && mask[2] == 1 && mask[3] == 0);
        }
        if (which == 2) { /* 12 tokens truncated to T predictions */
            CHECK_INT(fill, T);
            CHECK(tgt[T - 1] == 300 + T);
        }
        CHECK_INT(ds[0], 0);
    }
    CHECK(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
    tkd_stream_free(&s);
    /* packing (greedy, in shuffled order): 3 + 2 positions share a row when
     * adjacent; the long one fills its own. Over 10 epochs some order packs. */
    CHECK_INT(tkd_stream_build(&s, ex, 4, T, 1, 42, 30, 0, 1, &steps, &e), 0);
    CHECK_INT(steps, 30);
    int packed = 0;
    for (size_t r = 0; r < 30; r++) {
        long fill = tkd_stream_fill(&s, ex, r, T, tok, tgt, mask, ds);
        if (fill == 5) {
            packed = 1;
            int second = tok[0] == 100 ? 3 : 2; /* where the second document starts */
            CHECK_INT(ds[second - 1], 0);
            CHECK_INT(ds[second], second);
            CHECK_INT(ds[T - 1], 5); /* padding */
            CHECK_INT(mask[T - 1], 0);
        }
    }
    CHECK(packed);
    tkd_stream_free(&s);
    /* the shuffle depends on the seed and the epoch, and only on them */
    tkd_stream a, b;
    CHECK_INT(tkd_stream_build(&a, ex, 4, T, 0, 7, 30, 0, 1, &steps, &e), 0);
    CHECK_INT(tkd_stream_build(&b, ex, 4, T, 0, 7, 30, 0, 1, &steps, &e), 0);
    int same = a.n_rows == b.n_rows, differs = 0;
    for (size_t r = 0; same && r < a.n_rows; r++)
        same &= a.segs[a.row_first[r]].ex == b.segs[b.row_first[r]].ex;
    for (int ep = 1; ep < 10; ep++)
        for (int k = 0; k < 3; k++)
            differs |= a.segs[a.row_first[ep * 3 + k]].ex != a.segs[a.row_first[k]].ex;
    CHECK(same);
    CHECK(differs);
    tkd_stream_free(&a);
    tkd_stream_free(&b);
    tkd_sft_example none[1] = {mk(1, 0)};
    CHECK_INT(tkd_stream_build(&s, none, 1, T, 0, 1, 1, 0, 1, &steps, &e), TKD_EINVAL);
    tkd_stream_free(&s);
    free(none[0].ids);
    free(none[0].mask);
    for (int i = 0; i < 4; i++) {
        free(ex[i].ids);
        free(ex[i].mask);
    }
}

int main(void) {
    RUN(rows);
    return TEST_END();
}
