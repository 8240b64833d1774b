/*
 * dist internals shared by dist.c (the worker side and the MPI transport)
 * and coord.c (the coordinator's lease table on rank 0).
 */
#ifndef TKD_DIST_INT_H
#define TKD_DIST_INT_H

#include "tkd/dist.h"

#include <stddef.h>
#include <stdint.h>

/* Message tags on the private communicator. */
enum {
    TAG_REQ = 101,      /* worker -> 0: [want, n, items...] */
    TAG_WSTOP = 102,    /* worker -> 0: [] */
    TAG_BYE = 103,      /* worker -> 0: [n, items...] */
    TAG_GRANT = 201,    /* 0 -> worker: [items...] */
    TAG_FINISHED = 202, /* 0 -> worker: [] */
    TAG_CSTOP = 203,    /* 0 -> worker: [] */
    TAG_BYEACK = 204    /* 0 -> worker: [all items done: 0|1] */
};

/* Item states in the coordinator's table. */
enum { IT_QUEUED = 0, IT_LEASED = 1, IT_DONE = 2 };

typedef struct u64vec {
    uint64_t *v;
    size_t head, len, cap; /* live items are v[head..len) */
} u64vec;

int u64vec_push(u64vec *q, uint64_t x);
int u64vec_push_n(u64vec *q, const uint64_t *x, size_t n);
static inline size_t u64vec_size(const u64vec *q) {
    return q->len - q->head;
}
static inline void u64vec_clear(u64vec *q) {
    q->head = q->len = 0;
}

typedef struct pending_send {
    MPI_Request req;
    uint64_t *buf;
} pending_send;

typedef struct rank_state {
    double last_heard;    /* tkd_now() of its last message */
    uint64_t outstanding; /* items leased to it and not yet done */
    uint64_t parked_want; /* > 0: a request waits for items (queue empty, or the rank at its cap) */
    uint64_t completed;   /* items this rank did first (duplicates not counted) */
    int dead;             /* presumed dead (silent); its leases were re-issued */
    int bye;              /* said goodbye */
} rank_state;

struct tkd_dist {
    MPI_Comm comm;
    int rank, size;
    tkd_dist_cfg cfg;
    uint64_t n;
    double t0;
    int err; /* sticky: an MPI call failed */

    /* worker side (every rank) */
    u64vec q;    /* leased items not yet handed out */
    u64vec pend; /* completions not yet reported */
    int req_out, finished, stopping, bye_acked, all_done_acked;
    int room_set;  /* tkd_dist_room was called */
    uint64_t room; /* items the phase can still start this turn */
    double stop_t, last_send;
    pending_send *sends;
    size_t n_sends, cap_sends;
    uint64_t *rbuf;
    size_t rbuf_cap;
    tkd_dist_stats st;

    /* coordinator side (rank 0) */
    uint8_t *state; /* per item: IT_* */
    int32_t *owner; /* per item: rank holding its lease, -1 none */
    u64vec cq;      /* queued items (may hold items done meanwhile: skipped) */
    rank_state *rs;
    uint64_t done, done_before, dups, reissued;
    double last_progress, last_check, end_t;
    int all_done, stop_sent;
};

/* transport (dist.c) */
int dist_send(tkd_dist *d, int dest, int tag, const uint64_t *hdr, size_t n_hdr, const uint64_t *items, size_t n_items);
void dist_take_grant(tkd_dist *d, const uint64_t *items, size_t n);
void dist_begin_stop_local(tkd_dist *d, const char *why);

/* coordinator (coord.c) */
int coord_init(tkd_dist *d, const uint8_t *done, tkd_err *e);
void coord_free(tkd_dist *d);
void coord_request(tkd_dist *d, int src, uint64_t want, const uint64_t *done, size_t n_done);
void coord_bye(tkd_dist *d, int src, const uint64_t *done, size_t n_done);
void coord_stop(tkd_dist *d, int src);
void coord_poll(tkd_dist *d);
int coord_all_bye(const tkd_dist *d);
void coord_final_line(tkd_dist *d);

#endif
