/* core: SHA-256 against FIPS test vectors, RNG reproducibility, buffers,
 * \boxed extraction, UTF-8 validation, edit distance. */
#include "tkd/core.h"
#include "tkd_test.h"

TEST(sha256_vectors) {
    char hex[65];
    tkd_sha256_hex("", 0, hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    tkd_sha256_hex("abc", 3, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    tkd_sha256_hex(m, strlen(m), hex);
    CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* one million 'a', fed in odd-sized pieces */
    tkd_sha256 s;
    uint8_t d[32];
    char chunk[997];
    memset(chunk, 'a', sizeof chunk);
    tkd_sha256_init(&s);
    size_t left = 1000000;
    while (left) {
        size_t n = left < sizeof chunk ? left : sizeof chunk;
        tkd_sha256_update(&s, chunk, n);
        left -= n;
    }
    tkd_sha256_final(&s, d);
    CHECK_INT(d[0], 0xcd);
    CHECK_INT(d[1], 0xc7);
    CHECK_INT(d[31], 0xd0);
    CHECK(tkd_hash64("abc", 3) == 0xba7816bf8f01cfeaULL);
    /* a varied 1,000,003-byte message in pieces of 1..200 bytes and in one
     * call (whole blocks straight from the input; SHA-NI where the CPU has
     * it): Python's hashlib gives a79aac...b410 */
    static uint8_t big[1000003];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)((i * 31 + 7) % 251);
    tkd_sha256_hex(big, sizeof big, hex);
    CHECK_STR(hex, "a79aaccf39831e39ad9382f03c515510dcde695830c65a91620160cbe434b410");
    tkd_sha256_init(&s);
    for (size_t at = 0, k = 1; at < sizeof big; k = k % 200 + 1) {
        size_t n = sizeof big - at < k ? sizeof big - at : k;
        tkd_sha256_update(&s, big + at, n);
        at += n;
    }
    tkd_sha256_final(&s, d);
    CHECK_INT(d[0], 0xa7);
    CHECK_INT(d[31], 0x10);
}

TEST(rng) {
    tkd_rng a, b;
    tkd_rng_seed(&a, 42);
    tkd_rng_seed(&b, 42);
    int same = 1, in_range = 1;
    for (int i = 0; i < 1000; i++) {
        same &= tkd_rng_u64(&a) == tkd_rng_u64(&b);
    }
    for (int i = 0; i < 1000; i++) {
        double u = tkd_rng_uniform(&a);
        in_range &= u >= 0 && u < 1;
        in_range &= tkd_rng_below(&a, 7) < 7;
    }
    CHECK(same);
    CHECK(in_range);
    tkd_rng_seed(&b, 43);
    CHECK(tkd_rng_u64(&a) != tkd_rng_u64(&b));
}

TEST(buf) {
    tkd_buf b;
    tkd_buf_init(&b);
    for (int i = 0; i < 1000; i++)
        CHECK_INT(tkd_buf_printf(&b, "%d,", i), 0);
    CHECK(b.len == strlen(b.data));
    CHECK(strncmp(b.data, "0,1,2,", 6) == 0);
    char *s = tkd_buf_steal(&b);
    CHECK(b.data == NULL);
    free(s);
}

TEST(boxed) {
    char *s = tkd_text_last_boxed("so $\\boxed{1}$ and then \\boxed{\\frac{1}{2}} done");
    CHECK_STR(s, "\\frac{1}{2}");
    free(s);
    s = tkd_text_last_boxed("\\fbox{ x^{2} } ");
    CHECK_STR(s, "x^{2}");
    free(s);
    s = tkd_text_last_boxed("answer \\boxed 5$.");
    CHECK_STR(s, "5");
    free(s);
    s = tkd_text_last_boxed("set \\boxed{\\{1,2\\}}");
    CHECK_STR(s, "\\{1,2\\}");
    free(s);
    CHECK(tkd_text_last_boxed("no box here") == NULL);
    CHECK(tkd_text_last_boxed("\\boxed{unclosed") == NULL);
}

TEST(utf8_and_distance) {
    CHECK(tkd_text_utf8_valid("h\xc3\xa9llo \xf0\x9f\x98\x80", 11));
    CHECK(!tkd_text_utf8_valid("\xff", 1));
    CHECK(!tkd_text_utf8_valid("\xc3", 1));
    CHECK(!tkd_text_utf8_valid("\xc0\xaf", 2)); /* overlong */
    CHECK(!tkd_text_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
    CHECK_INT(tkd_text_edit_distance("lease_max", "leese_max", 10), 1);
    CHECK_INT(tkd_text_edit_distance("kitten", "sitting", 10), 3);
}

int main(void) {
    RUN(sha256_vectors);
    RUN(rng);
    RUN(buf);
    RUN(boxed);
    RUN(utf8_and_distance);
    return TEST_END();
}
