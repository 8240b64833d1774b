/* model: safetensors write/read round trips (f32, bf16), f16/bf16 conversion,
 * sharded index, and clear errors on truncated or malformed files; config.json
 * parsing; Qwen2 weights save/load; LoRA targets and PEFT save/load. */
#include "tkd/model.h"
#include "tkd/safetensors.h"
#include "tkd_test.h"

#include <stdint.h>
#include <unistd.h>

static char dir[256];

static void path(char *out, const char *name) {
    snprintf(out, 512, "%s/%s", dir, name);
}

static void write_raw(const char *p, const void *b, size_t n) {
    FILE *f = fopen(p, "wb");
    fwrite(b, 1, n, f);
    fclose(f);
}

TEST(conversions) {
    CHECK(tkd_bf16_to_f32(0x3f80) == 1.0f);
    CHECK(tkd_f32_to_bf16(1.0f) == 0x3f80);
    CHECK(tkd_f32_to_bf16(-2.0f) == 0xc000);
    CHECK(tkd_f32_to_bf16(1.00390625f) == 0x3f80); /* halfway: rounds to even */
    CHECK(tkd_f16_to_f32(0x3c00) == 1.0f);
    CHECK(tkd_f16_to_f32(0xc000) == -2.0f);
    CHECK(tkd_f16_to_f32(0x0001) == 5.9604644775390625e-08f); /* smallest subnormal */
    CHECK(tkd_f16_to_f32(0x7bff) == 65504.0f);
    CHECK(isinf(tkd_f16_to_f32(0x7c00)));
}

TEST(roundtrip) {
    char p[512];
    path(p, "a.safetensors");
    float a[6] = {1, 2, 3, 4, 5, 6}, b[3] = {-1.5f, 0.25f, 1e-3f}, got[6];
    tkd_st_entry t[2] = {{"x.weight", a, 2, {2, 3}}, {"y", b, 1, {3}}};
    tkd_err e = {0};
    CHECK_INT(tkd_st_write(p, t, 2, 0, "{\"format\":\"pt\"}", &e), 0);
    tkd_st st;
    CHECK_INT(tkd_st_open(p, &st, &e), 0);
    CHECK_INT(st.n, 2);
    CHECK(st.metadata && strstr(st.metadata, "pt"));
    int64_t s23[2] = {2, 3}, s32[2] = {3, 2}, s3[1] = {3};
    CHECK_INT(tkd_st_read_f32(&st, "x.weight", got, s23, 2, &e), 0);
    CHECK(!memcmp(got, a, sizeof a));
    CHECK_INT(tkd_st_read_f32(&st, "x.weight", got, s32, 2, &e), TKD_EFORMAT);
    CHECK(strstr(e.msg, "x.weight") && strstr(e.msg, "[2,3]") && strstr(e.msg, "a.safetensors"));
    CHECK_INT(tkd_st_read_f32(&st, "nope", got, s3, 1, &e), TKD_ENOTFOUND);
    CHECK(strstr(e.msg, "nope") != NULL);
    tkd_st_close(&st);
    /* bf16 */
    CHECK_INT(tkd_st_write(p, t, 2, 1, NULL, &e), 0);
    CHECK_INT(tkd_st_open(p, &st, &e), 0);
    CHECK_INT(tkd_st_find(&st, "y")->dtype, TKD_ST_BF16);
    CHECK_INT(tkd_st_read_f32(&st, "y", got, s3, 1, &e), 0);
    CHECK(got[0] == -1.5f && got[1] == 0.25f && fabsf(got[2] - 1e-3f) < 1e-5f);
    tkd_st_close(&st);
}

TEST(f16_file_and_shards) {
    /* a hand-made F16 file */
    const char *h = "{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}";
    unsigned char buf[256];
    uint64_t n = strlen(h);
    memcpy(buf, &n, 8);
    memcpy(buf + 8, h, n);
    uint16_t v[2] = {0x3c00, 0xb800}; /* 1, -0.5 */
    memcpy(buf + 8 + n, v, 4);
    char p[512], q[512], idx[512];
    path(p, "model-00001-of-00002.safetensors");
    write_raw(p, buf, 8 + n + 4);
    float c = 7;
    tkd_st_entry t = {"c", &c, 1, {1}};
    tkd_err e = {0};
    path(q, "model-00002-of-00002.safetensors");
    CHECK_INT(tkd_st_write(q, &t, 1, 0, NULL, &e), 0);
    path(idx, "model.safetensors.index.json");
    const char *ij = "{\"metadata\":{},\"weight_map\":{\"h\":\"model-00001-of-00002.safetensors\","
                     "\"c\":\"model-00002-of-00002.safetensors\"}}";
    write_raw(idx, ij, strlen(ij));
    tkd_st st;
    CHECK_INT(tkd_st_open(dir, &st, &e), 0); /* the folder: finds the index */
    float got[2];
    int64_t s2[1] = {2}, s1[1] = {1};
    CHECK_INT(tkd_st_read_f32(&st, "h", got, s2, 1, &e), 0);
    CHECK(got[0] == 1.0f && got[1] == -0.5f);
    CHECK_INT(tkd_st_read_f32(&st, "c", got, s1, 1, &e), 0);
    CHECK(got[0] == 7.0f);
    tkd_st_close(&st);
    /* an index naming a tensor no shard has */
    const char *bad = "{\"weight_map\":{\"zz\":\"model-00002-of-00002.safetensors\"}}";
    write_raw(idx, bad, strlen(bad));
    CHECK_INT(tkd_st_open(idx, &st, &e), TKD_EFORMAT);
    CHECK(strstr(e.msg, "zz") != NULL);
    unlink(idx);
    unlink(p);
    unlink(q);
}

TEST(malformed) {
    char p[512];
    path(p, "bad.safetensors");
    tkd_err e = {0};
    tkd_st st;
    float a[4] = {1, 2, 3, 4};
    tkd_st_entry t = {"w", a, 1, {4}};
    CHECK_INT(tkd_st_write(p, &t, 1, 0, NULL, &e), 0);
    char *raw;
    size_t len;
    CHECK_INT(tkd_file_read(p, &raw, &len, &e), 0);
    /* truncated data */
    write_raw(p, raw, len - 3);
    CHECK_INT(tkd_st_open(p, &st, &e), TKD_EFORMAT);
    CHECK(strstr(e.msg, "'w'") && strstr(e.msg, "truncated") && strstr(e.msg, "bad.safetensors"));
    /* truncated header */
    write_raw(p, raw, 12);
    CHECK_INT(tkd_st_open(p, &st, &e), TKD_EFORMAT);
    CHECK(strstr(e.msg, "header length") != NULL);
    /* shorter than 8 bytes */
    write_raw(p, raw, 5);
    CHECK_INT(tkd_st_open(p, &st, &e), TKD_EFORMAT);
    /* garbage JSON */
    unsigned char g[32] = {8, 0, 0, 0, 0, 0, 0, 0, '{', '"', 'x', '"', ':', ' ', ' ', ' '};
    write_raw(p, g, 16);
    CHECK_INT(tkd_st_open(p, &st, &e), TKD_EFORMAT);
    /* byte count that disagrees with the shape */
    const char *h = "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}";
    unsigned char buf[256];
    uint64_t n = strlen(h);
    memcpy(buf, &n, 8);
    memcpy(buf + 8, h, n);
    write_raw(p, buf, 8 + n + 8);
    CHECK_INT(tkd_st_open(p, &st, &e), TKD_EFORMAT);
    CHECK(strstr(e.msg, "'w'") && strstr(e.msg, "need 12"));
    /* unknown dtype */
    h = "{\"w\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,1]}}";
    n = strlen(h);
    memcpy(buf, &n, 8);
    memcpy(buf + 8, h, n);
    write_raw(p, buf, 8 + n + 1);
    CHECK_INT(tkd_st_open(p, &st, &e), TKD_EFORMAT);
    CHECK(strstr(e.msg, "Q4") != NULL);
    CHECK_INT(tkd_st_open("/nonexistent/x.safetensors", &st, &e), TKD_ENOTFOUND);
    free(raw);
    unlink(p);
}

static const char *cfg_json =
    "{\"hidden_size\":32,\"num_hidden_layers\":2,\"num_attention_heads\":4,\"num_key_value_heads\":2,"
    "\"intermediate_size\":48,\"vocab_size\":50,\"rope_theta\":1000000.0,\"rms_norm_eps\":1e-6,"
    "\"tie_word_embeddings\":false,\"max_position_embeddings\":128}";

TEST(config) {
    tkd_model_config c;
    tkd_err e = {0};
    CHECK_INT(tkd_model_config_parse("c.json", cfg_json, &c, &e), 0);
    CHECK_INT(c.head_dim, 8);
    CHECK_INT(c.n_kv_heads, 2);
    CHECK(c.rope_theta == 1e6 && c.rms_eps == 1e-6 && !c.tie && c.max_pos == 128);
    char *js = tkd_model_config_json(&c);
    tkd_model_config c2;
    CHECK_INT(tkd_model_config_parse("out", js, &c2, &e), 0);
    CHECK(!memcmp(&c, &c2, sizeof c));
    free(js);
    CHECK_INT(tkd_model_config_parse("c.json", "{\"hidden_size\":32}", &c, &e), TKD_EFORMAT);
    CHECK(strstr(e.msg, "c.json") && strstr(e.msg, "num_hidden_layers"));
    CHECK_INT(tkd_model_config_parse("c.json",
                                     "{\"hidden_size\":30,\"num_hidden_layers\":1,\"num_attention_heads\":4,"
                                     "\"intermediate_size\":8,\"vocab_size\":9}",
                                     &c, &e),
              TKD_EFORMAT);
    CHECK_INT(tkd_model_config_parse("c.json", "[1]", &c, &e), TKD_EFORMAT);
}

TEST(weights_and_adapter) {
    tkd_model_config c;
    tkd_err e = {0};
    CHECK_INT(tkd_model_config_parse("c", cfg_json, &c, &e), 0);
    tkd_model m, m2;
    CHECK_INT(tkd_model_init_random(&m, &c, 5, &e), 0);
    char md[512];
    path(md, "m");
    CHECK_INT(tkd_model_save(&m, md, 0, &e), 0);
    CHECK_INT(tkd_model_load(&m2, md, &e), 0);
    CHECK(m2.n_params == m.n_params && !memcmp(m.mem, m2.mem, m.n_params * 4));
    tkd_model_free(&m2);
    /* a missing tensor is named */
    char p[512];
    path(p, "m/model.safetensors");
    float z = 0;
    tkd_st_entry t = {"model.norm.weight", &z, 1, {1}};
    CHECK_INT(tkd_st_write(p, &t, 1, 0, NULL, &e), 0);
    CHECK(tkd_model_load(&m2, md, &e) < 0);
    CHECK(strstr(e.msg, "model.embed_tokens.weight") != NULL);

    unsigned mask;
    CHECK_INT(tkd_lora_parse_targets("q,v_proj, down", &mask, &e), 0);
    CHECK_INT(mask, (1u << TKD_LORA_Q) | (1u << TKD_LORA_V) | (1u << TKD_LORA_DOWN));
    CHECK_INT(tkd_lora_parse_targets("q,xx", &mask, &e), TKD_EINVAL);
    tkd_lora a, b;
    tkd_lora_config lc = {4, 8, 0.05, mask};
    CHECK_INT(tkd_lora_alloc(&a, &c, &lc, &e), 0);
    tkd_lora_init(&a, 3);
    for (size_t i = 0; i < a.n_params; i++)
        a.mem[i] += 0.01f * (float)(i % 7);
    char ad[512];
    path(ad, "adapter");
    CHECK_INT(tkd_lora_save(&a, ad, "base", &e), 0);
    CHECK_INT(tkd_lora_load(&b, ad, &c, &e), 0);
    CHECK(b.n_params == a.n_params && !memcmp(a.mem, b.mem, a.n_params * 4));
    CHECK(b.cfg.r == 4 && b.cfg.alpha == 8 && b.cfg.targets == mask && fabs(b.cfg.dropout - 0.05) < 1e-12);
    /* merge: W' x == W x + s B A x, checked on one row of q_proj */
    float *W = m.p[TKD_P_WQ] + (size_t)1 * c.hidden * c.hidden;
    float before = W[5];
    const float *A = tkd_lora_A(&a, 1, TKD_LORA_Q), *Bm = tkd_lora_B(&a, 1, TKD_LORA_Q);
    double want = before;
    for (int k = 0; k < 4; k++)
        want += 2.0 * Bm[0 * 4 + k] * A[k * c.hidden + 5];
    CHECK_INT(tkd_lora_merge(&m, &a, &e), 0);
    CHECK_NEAR(W[5], want, 1e-6);
    tkd_lora_free(&a);
    tkd_lora_free(&b);
    tkd_model_free(&m);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/tkd_test_st_%d", (int)getpid());
    tkd_err e = {0};
    tkd_mkdirs(dir, &e);
    RUN(conversions);
    RUN(roundtrip);
    RUN(f16_file_and_shards);
    RUN(malformed);
    RUN(config);
    RUN(weights_and_adapter);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {
    }
    return TEST_END();
}
