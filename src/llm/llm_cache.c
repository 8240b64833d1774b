/*
 * llm_cache: the teacher's response cache on disk, one file per entry at
 * DIR/ab/abcdef... (the hex key). An entry is
 *
 *   TKDLLM-CACHE 1\n
 *   <payload bytes> <sha256 of payload>\n
 *   <payload: JSON {"http_code", "status", "latency_s", "attempts", "endpoint", "body"}>
 *
 * written to a temporary name and renamed, so a crash of tkd leaves either the
 * whole entry or none; a read checks the length and the checksum, so an entry
 * torn by a crash of the machine (there is no fsync: it cost ~7 ms per entry,
 * which the event loop cannot afford) or damaged otherwise is a miss (logged),
 * never a wrong answer. Entries hold the response only: no request headers,
 * hence never the API key.
 */
#include "tkd/llm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "TKDLLM-CACHE 1\n"

static int entry_path(const char *dir, const char key[65], tkd_buf *p) {
    for (int i = 0; i < 64; i++)
        if (!((key[i] >= '0' && key[i] <= '9') || (key[i] >= 'a' && key[i] <= 'f')))
            return TKD_EINVAL;
    if (key[64])
        return TKD_EINVAL;
    return tkd_buf_printf(p, "%s/%.2s/%s", dir, key, key) ? TKD_ENOMEM : 0;
}

void tkd_llm_cache_entry_free(tkd_llm_cache_entry *ent) {
    free(ent->body);
    ent->body = NULL;
    ent->body_len = 0;
}

int tkd_llm_cache_get(const char *dir, const char key[65], tkd_llm_cache_entry *out, tkd_err *e) {
    memset(out, 0, sizeof *out);
    tkd_buf p;
    tkd_buf_init(&p);
    int rc = entry_path(dir, key, &p);
    if (rc) {
        tkd_buf_free(&p);
        return tkd_err_set(e, rc, "llm cache: bad key");
    }
    struct stat st;
    if (stat(p.data, &st) != 0) {
        int er = errno;
        tkd_buf_free(&p);
        if (er == ENOENT || er == ENOTDIR)
            return TKD_ENOTFOUND;
        return tkd_err_set(e, TKD_EIO, "llm cache: cannot read entry %.12s...: %s", key, strerror(er));
    }
    char *text = NULL;
    size_t len = 0;
    tkd_err fe = {0};
    if (tkd_file_read(p.data, &text, &len, &fe)) {
        tkd_buf_free(&p);
        return tkd_err_set(e, TKD_EIO, "llm cache: %s", fe.msg);
    }
    const char *why = NULL;
    size_t ml = sizeof MAGIC - 1, plen = 0;
    char sum[65] = "", got[65];
    char *nl = NULL;
    json_t *j = NULL;
    if (len < ml || memcmp(text, MAGIC, ml) != 0) {
        why = "bad header";
    } else if (!(nl = memchr(text + ml, '\n', len - ml)) || sscanf(text + ml, "%zu %64s", &plen, sum) != 2) {
        why = "bad length line";
    } else if ((size_t)(text + len - (nl + 1)) != plen) {
        why = "torn (length differs)";
    } else {
        tkd_sha256_hex(nl + 1, plen, got);
        if (strcmp(got, sum) != 0)
            why = "checksum differs";
        else if (!(j = json_loadb(nl + 1, plen, 0, NULL)))
            why = "payload is not JSON";
    }
    json_t *body = j ? json_object_get(j, "body") : NULL;
    if (!why && !json_is_string(body))
        why = "payload has no body";
    if (why) {
        tkd_log_warn("llm cache: entry %s is unusable (%s); treated as a miss", p.data, why);
        json_decref(j);
        free(text);
        tkd_buf_free(&p);
        return TKD_ENOTFOUND;
    }
    out->http_code = (int)json_integer_value(json_object_get(j, "http_code"));
    const char *st_name = json_string_value(json_object_get(j, "status"));
    out->status = st_name && !strcmp(st_name, "context_length") ? TKD_LLM_CONTEXT_LENGTH : TKD_LLM_OK;
    out->latency_s = json_number_value(json_object_get(j, "latency_s"));
    out->attempts = (int)json_integer_value(json_object_get(j, "attempts"));
    out->endpoint = (int)json_integer_value(json_object_get(j, "endpoint"));
    out->body_len = json_string_length(body);
    out->body = malloc(out->body_len + 1);
    rc = 0;
    if (!out->body) {
        rc = tkd_err_set(e, TKD_ENOMEM, "llm cache: out of memory");
    } else {
        memcpy(out->body, json_string_value(body), out->body_len);
        out->body[out->body_len] = 0;
    }
    json_decref(j);
    free(text);
    tkd_buf_free(&p);
    return rc;
}

/* temp name, write, rename (see the top of the file for why no fsync). With
 * keep, the temp file is hard-linked to the entry's name instead: link fails
 * if the name exists, so the first writer's entry stays (atomic, NFS too). */
static int write_renamed(const char *path, const char *subdir, const char *data, size_t len, int keep, tkd_err *e) {
    tkd_buf tmp;
    tkd_buf_init(&tmp);
    char host[64] = ""; /* ranks on other nodes share the folder, and may share a pid */
    gethostname(host, sizeof host - 1);
    if (tkd_buf_printf(&tmp, "%s.tmp.%s.%ld", path, host, (long)getpid()))
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = 0;
    if (fd < 0 && errno == ENOENT) { /* first entry under this prefix */
        if ((rc = tkd_mkdirs(subdir, e))) {
            tkd_buf_free(&tmp);
            return rc;
        }
        fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    }
    if (fd < 0) {
        rc = tkd_err_set(e, TKD_EIO, "cannot create '%s': %s", tmp.data, strerror(errno));
        tkd_buf_free(&tmp);
        return rc;
    }
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = tkd_err_set(e, TKD_EIO, "cannot write '%s': %s", tmp.data, strerror(errno));
            break;
        }
        data += w;
        len -= (size_t)w;
    }
    if (close(fd) != 0 && !rc)
        rc = tkd_err_set(e, TKD_EIO, "cannot write '%s': %s", tmp.data, strerror(errno));
    int linked = 0; /* keep: linked, or an entry was there first */
    if (!rc && keep) {
        if (link(tmp.data, path) == 0 || errno == EEXIST)
            linked = 1;
        else if (errno != EPERM && errno != ENOTSUP && errno != ENOSYS) /* no hard links here: rename */
            rc = tkd_err_set(e, TKD_EIO, "cannot link '%s' to '%s': %s", tmp.data, path, strerror(errno));
    }
    if (!rc && !linked && rename(tmp.data, path) != 0)
        rc = tkd_err_set(e, TKD_EIO, "cannot rename '%s': %s", tmp.data, strerror(errno));
    if (rc || linked)
        unlink(tmp.data);
    tkd_buf_free(&tmp);
    return rc;
}

static int put(const char *dir, const char key[65], const tkd_llm_cache_entry *ent, int keep, tkd_err *e) {
    tkd_buf p, sub, file;
    tkd_buf_init(&p);
    tkd_buf_init(&sub);
    tkd_buf_init(&file);
    int rc = entry_path(dir, key, &p);
    if (rc) {
        tkd_buf_free(&p);
        return tkd_err_set(e, rc, "llm cache: bad key");
    }
    char *payload = NULL;
    json_t *j = json_pack("{s:i, s:s, s:f, s:i, s:i, s:s%}", "http_code", ent->http_code, "status",
                          tkd_llm_status_name(ent->status), "latency_s", ent->latency_s, "attempts", ent->attempts,
                          "endpoint", ent->endpoint, "body", ent->body ? ent->body : "", ent->body_len);
    if (j)
        payload = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    if (!payload) {
        rc = tkd_err_set(e, TKD_ENOMEM, "llm cache: cannot encode entry (out of memory or a body that is not UTF-8)");
        goto out;
    }
    size_t plen = strlen(payload);
    char sum[65];
    tkd_sha256_hex(payload, plen, sum);
    if (tkd_buf_printf(&sub, "%s/%.2s", dir, key) || tkd_buf_printf(&file, MAGIC "%zu %s\n", plen, sum) ||
        tkd_buf_append(&file, payload, plen)) {
        rc = tkd_err_set(e, TKD_ENOMEM, "llm cache: out of memory");
        goto out;
    }
    rc = write_renamed(p.data, sub.data, file.data, file.len, keep, e);
    if (rc)
        tkd_err_wrap(e, "llm cache");
out:
    free(payload);
    tkd_buf_free(&p);
    tkd_buf_free(&sub);
    tkd_buf_free(&file);
    return rc;
}

int tkd_llm_cache_put(const char *dir, const char key[65], const tkd_llm_cache_entry *ent, tkd_err *e) {
    return put(dir, key, ent, 0, e);
}

int tkd_llm_cache_add(const char *dir, const char key[65], const tkd_llm_cache_entry *ent, tkd_err *e) {
    return put(dir, key, ent, 1, e);
}

int tkd_llm_cache_lookup(const char *dir, const char key[65], tkd_llm_tool_format fmt, tkd_llm_response **out) {
    *out = NULL;
    tkd_llm_cache_entry ent;
    tkd_err ce = {0};
    int rc = tkd_llm_cache_get(dir, key, &ent, &ce);
    if (rc) {
        if (rc != TKD_ENOTFOUND)
            tkd_log_warn("%s", ce.msg);
        return TKD_ENOTFOUND;
    }
    tkd_llm_response *r = calloc(1, sizeof *r);
    tkd_err pe = {0};
    if (!r || (ent.status != TKD_LLM_CONTEXT_LENGTH && tkd_llm_parse_response(ent.body, ent.body_len, fmt, r, &pe))) {
        tkd_log_warn("llm cache: entry %.16s... does not parse (%s); treated as a miss", key,
                     r ? pe.msg : "out of memory");
        tkd_llm_response_free(r);
        tkd_llm_cache_entry_free(&ent);
        return TKD_ENOTFOUND;
    }
    r->status = ent.status;
    r->http_code = ent.http_code;
    r->latency_s = ent.latency_s;
    r->attempts = ent.attempts;
    r->endpoint = ent.endpoint;
    r->from_cache = 1;
    r->raw = ent.body;
    r->raw_len = ent.body_len;
    if (ent.status == TKD_LLM_CONTEXT_LENGTH)
        r->error = strdup(TKD_LLM_CONTEXT_LENGTH_MSG);
    memcpy(r->key, key, 65);
    *out = r;
    return 0;
}
