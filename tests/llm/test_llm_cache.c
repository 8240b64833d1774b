/*
 * Unit tests of the response cache: round trip, layout (dir/ab/abcd...),
 * crash safety (a truncated, extended or bit-flipped entry is a miss, never
 * a wrong answer), bad keys, and the client's replay-only mode (hits are
 * served without a network, a miss is the status cache_miss), and add: the
 * first writer's entry stays, also when 8 processes race on one key.
 */
#include "tkd/llm.h"
#include "tkd_test.h"

#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[256];

static void key_of(const char *s, char key[65]) {
    tkd_llm_cache_key(s, strlen(s), 0, key);
}

static const char *body = "{\"choices\":[{\"message\":{\"content\":\"x = \\\"5\\\" \\u00e9\"},\"finish_reason\":"
                          "\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}";

TEST(roundtrip) {
    char key[65];
    key_of("req-1", key);
    tkd_llm_cache_entry in = {200, TKD_LLM_OK, 1.25, 3, 1, (char *)body, strlen(body)}, out;
    tkd_err e = {0};
    CHECK_INT(tkd_llm_cache_get(dir, key, &out, &e), TKD_ENOTFOUND);
    CHECK_INT(tkd_llm_cache_put(dir, key, &in, &e), 0);
    CHECK_INT(tkd_llm_cache_get(dir, key, &out, &e), 0);
    CHECK_INT(out.body_len, strlen(body));
    CHECK(out.body && memcmp(out.body, body, out.body_len) == 0);
    CHECK_INT(out.http_code, 200);
    CHECK_INT(out.status, TKD_LLM_OK);
    CHECK_NEAR(out.latency_s, 1.25, 0);
    CHECK_INT(out.attempts, 3);
    CHECK_INT(out.endpoint, 1);
    tkd_llm_cache_entry_free(&out);
    /* layout: dir/ab/abcdef... and no temporary files left behind */
    char path[512];
    snprintf(path, sizeof path, "%s/%.2s/%s", dir, key, key);
    struct stat st;
    CHECK_INT(stat(path, &st), 0);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "test -z \"$(find %s -name '*.tmp.*')\"", dir);
    CHECK_INT(system(cmd), 0);
    /* a context-length outcome is cached too */
    key_of("req-ctx", key);
    tkd_llm_cache_entry ctx = {400, TKD_LLM_CONTEXT_LENGTH, 0.5, 1, 0, (char *)"{\"error\":{}}", 12};
    CHECK_INT(tkd_llm_cache_put(dir, key, &ctx, &e), 0);
    CHECK_INT(tkd_llm_cache_get(dir, key, &out, &e), 0);
    CHECK_INT(out.status, TKD_LLM_CONTEXT_LENGTH);
    CHECK_INT(out.http_code, 400);
    tkd_llm_cache_entry_free(&out);
    /* bad keys are refused, never turned into paths */
    char bad[65];
    memset(bad, 'a', 64);
    bad[64] = 0;
    bad[3] = '/';
    CHECK_INT(tkd_llm_cache_get(dir, bad, &out, &e), TKD_EINVAL);
    CHECK_INT(tkd_llm_cache_put(dir, bad, &in, &e), TKD_EINVAL);
}

/* Damage an entry's file in place and check it reads as a miss. */
static void damage(const char *key, int how) {
    char path[512];
    snprintf(path, sizeof path, "%s/%.2s/%s", dir, key, key);
    char *text = NULL;
    size_t len = 0;
    tkd_err e = {0};
    if (tkd_file_read(path, &text, &len, &e))
        return;
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(text);
        return;
    }
    if (how == 0) /* torn: a crash half-way (what rename() prevents, simulated) */
        fwrite(text, 1, len / 2, f);
    else if (how == 1) { /* a flipped byte inside the payload */
        text[len - 5] ^= 0x01;
        fwrite(text, 1, len, f);
    } else if (how == 2) { /* trailing garbage */
        fwrite(text, 1, len, f);
        fputs("xx", f);
    } else if (how == 3) { /* empty file */
    } else {               /* only the header */
        fwrite(text, 1, 15, f);
    }
    fclose(f);
    free(text);
}

TEST(crash_safety) {
    tkd_err e = {0};
    for (int how = 0; how < 5; how++) {
        char key[65], name[32];
        snprintf(name, sizeof name, "dmg-%d", how);
        key_of(name, key);
        tkd_llm_cache_entry in = {200, TKD_LLM_OK, 0.1, 1, 0, (char *)body, strlen(body)}, out;
        CHECK_INT(tkd_llm_cache_put(dir, key, &in, &e), 0);
        damage(key, how);
        CHECK_INT(tkd_llm_cache_get(dir, key, &out, &e), TKD_ENOTFOUND);
        CHECK(out.body == NULL);
        /* a later write repairs it */
        CHECK_INT(tkd_llm_cache_put(dir, key, &in, &e), 0);
        CHECK_INT(tkd_llm_cache_get(dir, key, &out, &e), 0);
        tkd_llm_cache_entry_free(&out);
    }
}

TEST(replay_only) {
    tkd_llm_config cfg;
    tkd_llm_config_defaults(&cfg);
    cfg.model = "m";
    cfg.base_urls[0] = "http://127.0.0.1:9/v1"; /* never contacted */
    cfg.n_base_urls = 1;
    cfg.cache = TKD_LLM_CACHE_REPLAY;
    cfg.cache_dir = dir;
    tkd_llm *c = NULL;
    tkd_err e = {0};
    CHECK_INT(tkd_llm_create(&cfg, &c, &e), 0);
    if (!c)
        return;
    /* store an entry under the key of request 0 */
    tkd_llm_request r;
    tkd_llm_request_init(&r);
    r.messages = json_pack("[{s:s, s:s}]", "role", "user", "content", "q0");
    char *b = tkd_llm_build_body(&cfg, &r, &e);
    char key[65];
    tkd_llm_cache_key(b, strlen(b), 0, key);
    free(b);
    tkd_llm_cache_entry in = {200, TKD_LLM_OK, 2.5, 2, 0, (char *)body, strlen(body)};
    CHECK_INT(tkd_llm_cache_put(dir, key, &in, &e), 0);
    CHECK_INT(tkd_llm_submit(c, &r, (void *)1, &e), 0); /* hit */
    r.sample = 1;
    CHECK_INT(tkd_llm_submit(c, &r, (void *)2, &e), 0); /* other sample: miss */
    json_decref(r.messages);
    CHECK_INT(tkd_llm_pending(c), 2);
    int got = 0;
    for (int i = 0; i < 10 && got < 2; i++) {
        tkd_llm_poll(c, 10);
        tkd_llm_response *resp;
        void *ck;
        while (tkd_llm_next_done(c, &resp, &ck)) {
            got++;
            if (ck == (void *)1) {
                CHECK_INT(resp->status, TKD_LLM_OK);
                CHECK_INT(resp->from_cache, 1);
                CHECK_STR(resp->content, "x = \"5\" \xc3\xa9");
                CHECK_NEAR(resp->latency_s, 2.5, 0);
                CHECK_INT(resp->attempts, 2);
                CHECK_INT(resp->prompt_tokens, 3);
                CHECK_INT(resp->raw_len, strlen(body));
                CHECK_STR(resp->key, key);
            } else {
                CHECK_INT(resp->status, TKD_LLM_CACHE_MISS);
                CHECK_INT(resp->attempts, 0);
                CHECK(resp->error && strstr(resp->error, "replay-only"));
            }
            tkd_llm_response_free(resp);
        }
    }
    CHECK_INT(got, 2);
    tkd_llm_stats st;
    tkd_llm_get_stats(c, &st);
    CHECK_INT(st.cache_hits, 1);
    CHECK_INT(st.cache_misses, 1);
    CHECK_INT(st.attempts, 0);
    CHECK_INT(tkd_llm_pending(c), 0);
    tkd_llm_free(c);
}

/* latency_s of the entry at key (-1 on a miss) */
static double latency_at(const char key[65]) {
    tkd_llm_cache_entry out;
    tkd_err e = {0};
    if (tkd_llm_cache_get(dir, key, &out, &e))
        return -1;
    double l = out.latency_s;
    tkd_llm_cache_entry_free(&out);
    return l;
}

TEST(first_writer_wins) {
    char key[65];
    key_of("tool-call-1", key);
    tkd_llm_cache_entry a = {200, TKD_LLM_OK, 1.0, 1, -1, (char *)"first", 5};
    tkd_llm_cache_entry b = {200, TKD_LLM_OK, 2.0, 1, -1, (char *)"second", 6};
    tkd_err e = {0};
    CHECK_INT(tkd_llm_cache_add(dir, key, &a, &e), 0);
    CHECK_INT(tkd_llm_cache_add(dir, key, &b, &e), 0);
    CHECK_NEAR(latency_at(key), 1.0, 0);
    CHECK_INT(tkd_llm_cache_put(dir, key, &b, &e), 0); /* put replaces */
    CHECK_NEAR(latency_at(key), 2.0, 0);
    /* 8 processes add to a fresh key at once: all read back one and the same entry */
    for (int round = 0; round < 20; round++) {
        char req[32];
        snprintf(req, sizeof req, "race-%d", round);
        key_of(req, key);
        int fds[8][2];
        pid_t pids[8];
        for (int k = 0; k < 8; k++) {
            if (pipe(fds[k]) != 0 || (pids[k] = fork()) < 0)
                abort();
            if (pids[k] == 0) {
                tkd_llm_cache_entry mine = {200, TKD_LLM_OK, (double)(k + 1), 1, -1, (char *)"x", 1};
                tkd_err ce = {0};
                double got = tkd_llm_cache_add(dir, key, &mine, &ce) ? -2 : latency_at(key);
                ssize_t w = write(fds[k][1], &got, sizeof got);
                _exit(w == sizeof got ? 0 : 1);
            }
            close(fds[k][1]);
        }
        double seen[8];
        for (int k = 0; k < 8; k++) {
            int st;
            CHECK_INT(read(fds[k][0], &seen[k], sizeof seen[k]), (ssize_t)sizeof seen[k]);
            close(fds[k][0]);
            CHECK_INT(waitpid(pids[k], &st, 0), pids[k]);
        }
        for (int k = 0; k < 8; k++)
            CHECK_NEAR(seen[k], latency_at(key), 0);
        CHECK(seen[0] >= 1 && seen[0] <= 8);
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "test -z \"$(find %s -name '*.tmp.*')\"", dir);
    CHECK_INT(system(cmd), 0);
}

int main(void) {
    tkd_log_set_level(TKD_LOG_QUIET);
    snprintf(dir, sizeof dir, "/tmp/tkd_llm_cache_test.%ld", (long)getpid());
    RUN(roundtrip);
    RUN(crash_safety);
    RUN(replay_only);
    RUN(first_writer_wins);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return TEST_END();
}
