/*
 * llm_writer (private to module llm): writes response-cache entries on a
 * background thread, so a slow file system (a network one: ~ms per file
 * created) never stalls the rank's event loop. Entries are copied in; a
 * queue longer than TKD_LLM_WRITER_MAX_QUEUE is written by the caller
 * instead (back-pressure). Stopping drains the queue first.
 */
#ifndef TKD_LLM_WRITER_H
#define TKD_LLM_WRITER_H

#include "tkd/llm.h"

#define TKD_LLM_WRITER_MAX_QUEUE 10000

typedef struct tkd_llm_writer tkd_llm_writer;

int tkd_llm_writer_start(const char *dir, tkd_llm_writer **out, tkd_err *e);
/* Queue a copy of ent under key (or write it now when the queue is full). */
int tkd_llm_writer_put(tkd_llm_writer *w, const char key[65], const tkd_llm_cache_entry *ent);
/* Entries written so far. */
long long tkd_llm_writer_written(tkd_llm_writer *w);
/* Wait until every queued entry is on disk. */
void tkd_llm_writer_flush(tkd_llm_writer *w);
/* Drain, join the thread, free (NULL is fine). */
void tkd_llm_writer_stop(tkd_llm_writer *w);

#endif
