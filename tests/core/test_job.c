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

int main(void) {
    RUN(defaults_and_getters);
    RUN(array_items);
    RUN(errors);
    RUN(overrides);
    return TEST_END();
}
