/* core: job-file validation errors name the file, the key path and what was
 * expected; defaults are filled; --set overrides apply before validation. */
#include "tkd/job.h"
#include "tkd_test.h"

static int load(const char *text, const char **sets, int n, tkd_job *job, tkd_err *e) {
    tkd_err_clear(e);
    return tkd_job_load_text("job.json", text, sets, n, job, e);
}

TEST(defaults_and_getters) {
    tkd_job job;
    tkd_err e;
    CHECK_INT(load("{\"output_dir\": \"runs/x\"}", NULL, 0, &job, &e), 0);
    CHECK_STR(tkd_job_str(&job, "output_dir"), "runs/x");
    CHECK_STR(tkd_job_str(&job, "name"), "tkd-run");
    CHECK_INT(tkd_job_int(&job, "dist.lease_max"), 256);
    CHECK(tkd_job_bool(&job, "store.file_locking"));
    CHECK_STR(tkd_job_str(&job, "data.on_bad_line"), "skip");
    tkd_job_free(&job);
}

TEST(array_items) {
    tkd_job job;
    tkd_err e;
    CHECK_INT(load("{\"output_dir\":\"o\",\"data\":{\"sources\":[{\"path\":\"a.jsonl\"}]}}", NULL, 0, &job, &e), 0);
    CHECK_STR(tkd_job_str(&job, "data.sources.0.format"), "auto");
    CHECK_INT(tkd_job_int(&job, "data.sources.0.limit"), 0);
    tkd_job_free(&job);
    CHECK(load("{\"output_dir\":\"o\",\"data\":{\"sources\":[{\"name\":\"x\"}]}}", NULL, 0, &job, &e) != 0);
    CHECK(strstr(e.msg, "missing required key 'data.sources[0].path'") != NULL);
    CHECK(load("{\"output_dir\":\"o\",\"data\":{\"sources\":[{\"path\":\"a\",\"fromat\":\"math\"}]}}", NULL, 0, &job,
               &e) != 0);
    CHECK(strstr(e.msg, "unknown key 'data.sources[0].fromat' (did you mean 'data.sources[].format'?)") != NULL);
}

TEST(errors) {
    tkd_job job;
    tkd_err e;
    CHECK_INT(load("{\"output_dir\": \"o\", \"dist\": {\"leese_max\": 3}}", NULL, 0, &job, &e), TKD_EINVAL);
    CHECK(strstr(e.msg, "job.json: unknown key 'dist.leese_max' (did you mean 'dist.lease_max'?)") != NULL);
    CHECK_INT(load("{\"output_dir\": \"o\", \"dist\": {\"lease_max\": \"3\"}}", NULL, 0, &job, &e), TKD_EINVAL);
    CHECK(strstr(e.msg, "key 'dist.lease_max': expected an integer, got a string") != NULL);
    CHECK_INT(load("{\"name\": \"x\"}", NULL, 0, &job, &e), TKD_EINVAL);
    CHECK(strstr(e.msg, "missing required key 'output_dir'") != NULL);
    CHECK_INT(load("{\"output_dir\": \"o\", \"data\": {\"on_bad_line\": \"skp\"}}", NULL, 0, &job, &e), TKD_EINVAL);
    CHECK(strstr(e.msg, "'skp' is not one of skip|fail") != NULL);
    CHECK_INT(load("{\"output_dir\": \"o\", \"dist\": {\"lease_max\": 0}}", NULL, 0, &job, &e), TKD_EINVAL);
    CHECK(strstr(e.msg, "out of range") != NULL);
    CHECK_INT(load("{\"output_dir\": \"o\",\n \"seed\": }", NULL, 0, &job, &e), TKD_EINVAL);
    CHECK(strstr(e.msg, "job.json:2:") != NULL);
    CHECK_INT(load("[1,2]", NULL, 0, &job, &e), TKD_EINVAL);
    CHECK_INT(load("{\"output_dir\": \"o\", \"output_dir\": \"p\"}", NULL, 0, &job, &e), TKD_EINVAL);
}

TEST(overrides) {
    tkd_job job;
    tkd_err e;
    const char *sets[] = {"dist.lease_max=64", "name=hello world", "data.sources=[{\"path\":\"p\"}]",
                          "data.sources.0.limit=5"};
    CHECK_INT(load("{\"output_dir\": \"o\"}", sets, 4, &job, &e), 0);
    CHECK_INT(tkd_job_int(&job, "dist.lease_max"), 64);
    CHECK_STR(tkd_job_str(&job, "name"), "hello world");
    CHECK_INT(tkd_job_int(&job, "data.sources.0.limit"), 5);
    tkd_job_free(&job);
    const char *bad[] = {"dist.lease_max=many"};
    CHECK(load("{\"output_dir\": \"o\"}", bad, 1, &job, &e) != 0);
    CHECK(strstr(e.msg, "expected an integer, got a string") != NULL);
    const char *noeq[] = {"dist.lease_max"};
    CHECK_INT(load("{\"output_dir\": \"o\"}", noeq, 1, &job, &e), TKD_EUSAGE);
}

/* An error in a value given with --set names that option, not the file. */
TEST(override_errors_name_the_option) {
    tkd_job job;
    tkd_err e;
    struct {
        const char *set, *want;
    } cases[] = {
        {"dist.lease_max=many", "--set 'dist.lease_max=many': key 'dist.lease_max': expected an integer"},
        {"dist.leese_max=3", "--set 'dist.leese_max=3': unknown key 'dist.leese_max' (did you mean"},
        {"dist.lease_max=0", "--set 'dist.lease_max=0': key 'dist.lease_max': 0 is out of range"},
        {"data.sources.0.format=xx", "--set 'data.sources.0.format=xx': key 'data.sources[0].format': 'xx' is not"},
        {"teacher={\"modle\": \"m\"}", "--set 'teacher={\"modle\": \"m\"}': unknown key 'teacher.modle'"},
        {"data.sources.4.path=a", "--set 'data.sources.4.path=a': index 4 is past the end of the array (1 items)"},
        {"output_dir.x=1", "--set 'output_dir.x=1': 'output_dir' is a string, not an object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *sets[] = {cases[i].set};
        CHECK(load("{\"output_dir\": \"o\", \"data\": {\"sources\": [{\"path\": \"a\"}]}}", sets, 1, &job, &e) != 0);
        if (!strstr(e.msg, cases[i].want))
            fprintf(stderr, "case %zu: %s\n", i, e.msg);
        CHECK(strstr(e.msg, cases[i].want) != NULL);
        CHECK(strstr(e.msg, "job.json") == NULL);
    }
    /* a bad key in the file is still the file's, whatever else --set sets */
    const char *ok[] = {"dist.lease_min=2"};
    CHECK(load("{\"output_dir\": \"o\", \"dist\": {\"lease_max\": \"x\"}}", ok, 1, &job, &e) != 0);
    CHECK(strstr(e.msg, "job.json: key 'dist.lease_max'") != NULL);
}

/* config show prints numbers as written: the shortest text that reads back. */
TEST(dump_numbers) {
    tkd_job job;
    tkd_err e;
    const char *sets[] = {"train.lr=0.0003"};
    CHECK_INT(load("{\"output_dir\": \"o\", \"teacher\": {\"top_p\": 0.95, \"temperature\": 0.1},"
                   " \"train\": {\"epochs\": 2.0}, \"name\": \"a \\\"b\\\"\\n\"}",
                   sets, 1, &job, &e),
              0);
    char *s = tkd_job_dump(&job);
    CHECK(s != NULL);
    if (s) {
        CHECK(strstr(s, "\"top_p\": 0.95,") != NULL);
        CHECK(strstr(s, "\"temperature\": 0.1,") != NULL);
        CHECK(strstr(s, "\"dropout\": 0.05,") != NULL); /* a default */
        CHECK(strstr(s, "\"lr\": 0.0003,") != NULL);
        CHECK(strstr(s, "\"epochs\": 2.0,") != NULL); /* still a real */
        CHECK(strstr(s, "\"lease_max\": 256,") != NULL);
        CHECK(strstr(s, "\"name\": \"a \\\"b\\\"\\n\"") != NULL);
        CHECK(strstr(s, "000000") == NULL);
        /* and it is the same job: it loads back to the same tree */
        tkd_job back;
        CHECK_INT(load(s, NULL, 0, &back, &e), 0);
        CHECK(json_equal(back.root, job.root));
        tkd_job_free(&back);
    }
    free(s);
    tkd_job_free(&job);
}

int main(void) {
    RUN(defaults_and_getters);
    RUN(array_items);
    RUN(errors);
    RUN(overrides);
    RUN(override_errors_name_the_option);
    RUN(dump_numbers);
    return TEST_END();
}
