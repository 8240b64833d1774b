/*
 * The job-file schema: every key a job file may hold, its type, default,
 * bounds and a one-line help. Parents come before their children; keys of
 * the objects inside an array are written "array[].key". Each module owns
 * its section below; `tkd config keys` prints this table.
 */
#include "tkd/job.h"

#define NOB 1, 0 /* no bounds */

const tkd_job_key tkd_job_schema[] = {
    /* ---- run ---- */
    {"name", TKD_JT_STRING, "\"tkd-run\"", NOB, NULL, "a name for the run, shown in logs and stores"},
    {"output_dir", TKD_JT_STRING, NULL, NOB, NULL, "folder that receives the store, shards and results"},
    {"seed", TKD_JT_INT, "1234", 0, 9.007199254740992e15, NULL, "base seed for every random choice of the run"},
    {"log_level", TKD_JT_STRING, "\"info\"", NOB, "debug|info|warn|error", "stderr verbosity"},

    /* ---- data: problems to import ---- */
    {"data", TKD_JT_OBJECT, "{}", NOB, NULL, "problem sources"},
    {"data.sources", TKD_JT_ARRAY, "[]", NOB, NULL, "JSONL files of problems"},
    {"data.sources[].path", TKD_JT_STRING, NULL, NOB, NULL, "path of a JSONL file (or a folder of them)"},
    {"data.sources[].name", TKD_JT_STRING, "\"\"", NOB, NULL,
     "source name used in problem ids (default: from the file name)"},
    {"data.sources[].format", TKD_JT_STRING, "\"auto\"", NOB, "auto|math|bench|gsm8k",
     "record shape: MATH (problem, solution, level, type), bench (problem, solution, source), GSM8K (question, answer)"},
    {"data.sources[].limit", TKD_JT_INT, "0", 0, 1e12, NULL, "import at most this many problems (0: all)"},
    {"data.on_bad_line", TKD_JT_STRING, "\"skip\"", NOB, "skip|fail",
     "a malformed line is reported with file:line, then skipped or fatal"},

    /* ---- store: the HDF5 trace store ---- */
    {"store", TKD_JT_OBJECT, "{}", NOB, NULL, "trace store settings"},
    {"store.file_locking", TKD_JT_BOOL, "true", NOB, NULL,
     "HDF5 file locking; set false on network file systems (Lustre, NFS, GPFS)"},
    {"store.flush_every", TKD_JT_INT, "64", 1, 1e9, NULL, "flush shard records to disk after this many rows"},
    {"store.lock_stale_s", TKD_JT_NUMBER, "120", 1, 1e7, NULL,
     "a run holds OUTPUT_DIR/tkd.lock and refreshes it every lock_stale_s/6 s; a lock from another host not "
     "refreshed for this long is taken over (on the same host: as soon as its process is gone)"},

    /* ---- dist: MPI work distribution ---- */
    {"dist", TKD_JT_OBJECT, "{}", NOB, NULL, "work distribution over MPI ranks"},
    {"dist.lease_max", TKD_JT_INT, "256", 1, 1e7, NULL, "largest batch of problem ids handed to a rank at once"},
    {"dist.lease_min", TKD_JT_INT, "1", 1, 1e7, NULL,
     "smallest batch, used near the end of the queue; also the least a rank may always hold"},
    {"dist.max_share", TKD_JT_NUMBER, "1", 0.01, 1e6, NULL,
     "a rank holds at most this multiple of its equal share of the unfinished problems (unfinished / live ranks, "
     "at least lease_min): 1 spreads every job evenly from the first round; 0.5 keeps half in the queue for "
     "whichever rank is free first; a value at or above the rank count turns the cap off"},
    {"dist.lease_timeout_s", TKD_JT_NUMBER, "600", 1, 1e7, NULL,
     "a rank silent for this long is presumed dead and its leases are re-issued when the queue is empty"},
    {"dist.progress_every_s", TKD_JT_NUMBER, "10", 0.1, 1e6, NULL, "seconds between progress lines on stderr"},
    {"dist.grace_s", TKD_JT_NUMBER, "30", 0, 1e6, NULL,
     "after SIGTERM/SIGUSR1: seconds to finish work in flight before flushing and exiting 3"},

    /* ---- testwork: a synthetic work function that exercises dist and store ---- */
    {"testwork", TKD_JT_OBJECT, "{}", NOB, NULL, "synthetic phase for platform tests (tkd testwork)"},
    {"testwork.min_ms", TKD_JT_NUMBER, "0", 0, 1e7, NULL, "shortest simulated work per problem"},
    {"testwork.max_ms", TKD_JT_NUMBER, "0", 0, 1e7, NULL, "longest simulated work per problem"},
    {"testwork.text_bytes", TKD_JT_INT, "256", 0, 1e9, NULL, "bytes of text written per record"},
    {"testwork.crash_rank", TKD_JT_INT, "-1", -1, 1e6, NULL, "rank that kills itself (SIGKILL) mid-run; -1 none"},
    {"testwork.crash_after", TKD_JT_INT, "0", 0, 1e12, NULL, "records the crashing rank writes before it dies"},
    {"testwork.items", TKD_JT_INT, "100", 0, 1e9, NULL,
     "synthetic items when OUT/problems.h5 does not exist (pid = hash of \"test/<i>\")"},
    {"testwork.concurrency", TKD_JT_INT, "8", 1, 1e6, NULL, "items in flight at once per rank"},

    /* ---- grade: answer extraction and equivalence ---- */
    {"grade", TKD_JT_OBJECT, "{}", NOB, NULL, "answer extraction and grading"},
    {"grade.extract", TKD_JT_STRING, "\"auto\"", NOB, "auto|boxed|final|gsm8k|last_number",
     "how a prediction is pulled out of a response (a source's data.sources[].extract overrides it)"},
    {"grade.timeout_ms", TKD_JT_NUMBER, "1000", 1, 3.6e6, NULL,
     "time budget per comparison; past it the verdict is undecided (counted as different)"},
    {"data.sources[].extract", TKD_JT_STRING, "\"\"", NOB, "|auto|boxed|final|gsm8k|last_number",
     "extraction mode for this source's predictions (empty: grade.extract)"},

    /* ---- train: LoRA / full fine-tuning of the student (tkd train) ---- */
    {"train", TKD_JT_OBJECT, "{}", NOB, NULL, "fine-tuning of the Qwen2 student"},
    {"train.model_dir", TKD_JT_STRING, "\"\"", NOB, NULL, "base model folder (config.json, model.safetensors, tokenizer)"},
    {"train.data", TKD_JT_STRING, "\"\"", NOB, NULL,
     "SFT JSONL: {\"messages\": [...]} per line (or pre-tokenized {\"input_ids\", \"loss_mask\"})"},
    {"train.out_dir", TKD_JT_STRING, "\"\"", NOB, NULL, "adapter, checkpoints and log (default: OUTPUT_DIR/train)"},
    {"train.lora", TKD_JT_OBJECT, "{}", NOB, NULL, "LoRA adapter settings"},
    {"train.lora.r", TKD_JT_INT, "16", 1, 4096, NULL, "LoRA rank"},
    {"train.lora.alpha", TKD_JT_NUMBER, "32", 1e-9, 1e9, NULL, "LoRA alpha (the update is scaled by alpha/r)"},
    {"train.lora.dropout", TKD_JT_NUMBER, "0.05", 0, 0.99, NULL, "dropout on the adapter input"},
    {"train.lora.targets", TKD_JT_STRING, "\"q,k,v,o,gate,up,down\"", NOB, NULL, "projections that get adapters"},
    {"train.full_finetune", TKD_JT_BOOL, "false", NOB, NULL, "train every weight instead of an adapter (small models)"},
    {"train.recompute", TKD_JT_BOOL, "false", NOB, NULL, "recompute activations in backward to save memory"},
    {"train.lr", TKD_JT_NUMBER, "2e-4", 0, 10, NULL, "peak learning rate"},
    {"train.warmup_steps", TKD_JT_INT, "0", 0, 1e12, NULL, "linear warmup from 0 over this many steps"},
    {"train.schedule", TKD_JT_STRING, "\"cosine\"", NOB, "cosine|linear|constant", "decay after warmup"},
    {"train.weight_decay", TKD_JT_NUMBER, "0", 0, 10, NULL, "AdamW decoupled weight decay"},
    {"train.beta1", TKD_JT_NUMBER, "0.9", 0, 0.999999, NULL, "AdamW beta1"},
    {"train.beta2", TKD_JT_NUMBER, "0.999", 0, 0.9999999, NULL, "AdamW beta2"},
    {"train.clip", TKD_JT_NUMBER, "1.0", 0, 1e9, NULL, "clip the gradient norm to this (0: off)"},
    {"train.batch", TKD_JT_INT, "1", 1, 1e6, NULL, "rows per micro-batch per rank"},
    {"train.grad_accum", TKD_JT_INT, "1", 1, 1e6, NULL, "micro-batches per optimizer step"},
    {"train.seq_len", TKD_JT_INT, "1024", 2, 1e6, NULL, "tokens per row; longer examples are truncated"},
    {"train.packing", TKD_JT_BOOL, "false", NOB, NULL, "pack several short examples into a row (separate documents)"},
    {"train.steps", TKD_JT_INT, "0", 0, 1e12, NULL, "optimizer steps (0: from epochs)"},
    {"train.epochs", TKD_JT_NUMBER, "1", 0, 1e6, NULL, "passes over the data when steps is 0"},
    {"train.checkpoint_every", TKD_JT_INT, "100", 0, 1e12, NULL, "steps between checkpoints (0: only at the end)"},
    {"train.log_every", TKD_JT_INT, "1", 0, 1e12, NULL, "steps between progress lines"},
    /* ---- teacher: the OpenAI-compatible LLM endpoint (module llm) ---- */
    {"teacher", TKD_JT_OBJECT, "{}", NOB, NULL, "the teacher LLM: endpoints, limits, sampling, response cache"},
    {"teacher.model", TKD_JT_STRING, "\"\"", NOB, NULL, "model name sent in every request (required by phases that call the teacher)"},
    {"teacher.base_urls", TKD_JT_STRINGS, "[]", NOB, NULL,
     "OpenAI-compatible base URLs ending in /v1, one per server; requests go to the least loaded"},
    {"teacher.api_key_env", TKD_JT_STRING, "\"OPENAI_API_KEY\"", NOB, NULL,
     "name of the environment variable holding the API key (never logged, stored or cached)"},
    {"teacher.max_in_flight", TKD_JT_INT, "256", 1, 1e6, NULL, "requests on the wire per rank (upper bound of the adaptive limit)"},
    {"teacher.max_connections_per_endpoint", TKD_JT_INT, "256", 1, 1e6, NULL,
     "open connections per base URL and rank (HTTP/1.1: also the requests in flight per base URL)"},
    {"teacher.connect_timeout_s", TKD_JT_NUMBER, "10", 0.001, 1e5, NULL, "connect timeout per attempt"},
    {"teacher.timeout_s", TKD_JT_NUMBER, "600", 0.001, 1e6, NULL, "total timeout per attempt"},
    {"teacher.max_retries", TKD_JT_INT, "8", 0, 1000, NULL, "retries per request after the first attempt"},
    {"teacher.retry_budget", TKD_JT_NUMBER, "1", 0, 1e6, NULL,
     "retries earned per submitted request, run-wide (a token bucket starting at 10); 0 disables retries past the first 10"},
    {"teacher.wait_for_endpoint_s", TKD_JT_NUMBER, "1800", 0, 1e7, NULL,
     "when every endpoint is down: wait this long for one to answer (checks with back-off; requests held, "
     "not failed), then stop with exit 3 (resumable)"},
    {"teacher.backoff_base_s", TKD_JT_NUMBER, "0.5", 0, 1e5, NULL, "back-off base: retry n waits uniform(0, min(max, base*2^(n-1)))"},
    {"teacher.backoff_max_s", TKD_JT_NUMBER, "30", 0, 1e5, NULL, "back-off cap (Retry-After may ask for longer)"},
    {"teacher.http2", TKD_JT_BOOL, "true", NOB, NULL, "use HTTP/2 where the server offers it (https)"},
    {"teacher.ca_file", TKD_JT_STRING, "\"\"", NOB, NULL,
     "PEM file of CA certificates to trust for https base URLs (empty: the system's)"},
    {"teacher.temperature", TKD_JT_NUMBER, "0.7", 0, 10, NULL, "sampling temperature"},
    {"teacher.top_p", TKD_JT_NUMBER, "1", 0, 1, NULL, "nucleus sampling"},
    {"teacher.max_tokens", TKD_JT_INT, "4096", 1, 1e7, NULL, "largest completion per request"},
    {"teacher.cache", TKD_JT_STRING, "\"off\"", NOB, "off|read-write|replay-only",
     "response cache: off, read-write (hits are reused, misses are asked and stored) or replay-only (a miss is an error)"},
    {"teacher.cache_dir", TKD_JT_STRING, "\"llm-cache\"", NOB, NULL, "folder of the response cache"},
    {"teacher.tool_call_format", TKD_JT_STRING, "\"auto\"", NOB, "auto|native|hermes",
     "where tool calls are read: native tool_calls, <tool_call> blocks in the content, or native then blocks"},

    /* ---- solve: the solver agent and the distributed solve phase (tkd solve) ---- */
    {"solve", TKD_JT_OBJECT, "{}", NOB, NULL, "the solver agent: teacher + toolkit on every problem"},
    {"solve.samples_per_problem", TKD_JT_INT, "1", 1, 1e6, NULL, "samples (n) per problem, each with its own seed"},
    {"solve.max_turns", TKD_JT_INT, "15", 1, 1000, NULL, "LLM requests per sample, the planning turn included"},
    {"solve.planning", TKD_JT_BOOL, "true", NOB, NULL, "a first turn with tools disabled that asks for a plan"},
    {"solve.single_step", TKD_JT_BOOL, "false", NOB, NULL,
     "one tool call per turn, and a next-action prompt after each result"},
    {"solve.wrap_up_turns_before_limit", TKD_JT_INT, "1", 0, 1000, NULL,
     "send the wrap-up prompt (best answer in \\boxed{} now) with this many turns left; 0: never"},
    {"solve.max_tool_errors", TKD_JT_INT, "5", 0, 1e6, NULL,
     "failed tool calls in a row that end a sample with status tool_errors (0: no limit)"},
    {"solve.prompts", TKD_JT_OBJECT, "{}", NOB, NULL, "prompt files (UTF-8 text); empty: the built-in prompt"},
    {"solve.prompts.system", TKD_JT_STRING, "\"\"", NOB, NULL, "system prompt file (e.g. jobs/prompts/solver_system.txt)"},
    {"solve.prompts.user", TKD_JT_STRING, "\"\"", NOB, NULL, "first user message file; {problem} is replaced"},
    {"solve.prompts.planning", TKD_JT_STRING, "\"\"", NOB, NULL, "planning request, appended to the first user message"},
    {"solve.prompts.execute", TKD_JT_STRING, "\"\"", NOB, NULL, "sent after the plan: carry it out with the tools"},
    {"solve.prompts.next_action", TKD_JT_STRING, "\"\"", NOB, NULL,
     "sent when a reply neither calls a tool nor gives a boxed answer"},
    {"solve.prompts.wrap_up", TKD_JT_STRING, "\"\"", NOB, NULL, "sent near max_turns: the best answer in \\boxed{} now"},
    {"solve.max_in_flight", TKD_JT_INT, "2048", 1, 1e7, NULL,
     "samples in flight per rank (requests on the wire are further limited by teacher.max_in_flight)"},
    {"solve.tools", TKD_JT_STRINGS, "[]", NOB, NULL, "names of the tools offered to the teacher (empty: all)"},
    {"solve.tool_workers", TKD_JT_INT, "2", 1, 64, NULL, "tool worker processes per rank"},
    {"solve.tool_timeout_s", TKD_JT_NUMBER, "10", 0.01, 3600, NULL, "wall-time limit per tool call"},
    {"solve.tool_cache", TKD_JT_BOOL, "true", NOB, NULL,
     "keep tool results (and their times) in teacher.cache_dir/tools when the teacher cache is on, so a replay reproduces them"},

    /* ---- student: the prompt the student is trained and evaluated with (export, train, eval) ---- */
    {"student", TKD_JT_OBJECT, "{}", NOB, NULL, "the student's prompt, shared by export, train and eval"},
    {"student.system_prompt", TKD_JT_STRING, "\"\"", NOB, NULL,
     "system message file; \"\": Qwen2.5-Math's (jobs/prompts/student_system.txt); an empty file: no system message"},
    {"student.user_template", TKD_JT_STRING, "\"\"", NOB, NULL,
     "user message file; {problem} is replaced by the problem text verbatim (\"\": the problem alone)"},

    /* ---- slurm: resources per phase for slurm/submit.sh ---- */
    {"slurm", TKD_JT_ANY, "{}", NOB, NULL,
     "sbatch options per phase: {PHASE: {partition, nodes, ntasks, ntasks_per_node, cpus_per_task, gpus_per_task, "
     "gpus_per_node, mem, time, account, qos, extra}} (see `tkd config sbatch`)"},

    /* ---- report: tkd report ---- */
    {"report", TKD_JT_OBJECT, "{}", NOB, NULL, "the run's report (OUT/report/report.md)"},
    {"report.prompt_usd_per_mtok", TKD_JT_NUMBER, "0", 0, 1e6, NULL,
     "teacher price per million prompt tokens, for the cost line (0: no cost shown)"},
    {"report.completion_usd_per_mtok", TKD_JT_NUMBER, "0", 0, 1e6, NULL,
     "teacher price per million completion tokens, for the cost line"},

    /* ---- module sections are added below this line ---- */

    /* ---- eval: the benchmarks the student is evaluated on (read by export's decontamination too) ---- */
    {"eval", TKD_JT_OBJECT, "{}", NOB, NULL, "evaluation of the student"},
    {"eval.benchmarks", TKD_JT_ARRAY, "[]", NOB, NULL, "benchmark JSONL files (export decontaminates against each)"},
    {"eval.benchmarks[].name", TKD_JT_STRING, "\"\"", NOB, NULL, "the benchmark's name (default: from the file name)"},
    {"eval.benchmarks[].path", TKD_JT_STRING, NULL, NOB, NULL, "a JSONL file (or a folder of them)"},
    {"eval.benchmarks[].format", TKD_JT_STRING, "\"auto\"", NOB, "auto|math|bench|gsm8k", "record shape, as data.sources[].format"},
    {"eval.benchmarks[].extract", TKD_JT_STRING, "\"\"", NOB, "|auto|boxed|final|gsm8k|last_number",
     "answer extraction for this benchmark (empty: grade.extract)"},

    /* ---- export: SFT datasets from the stores (tkd export) ---- */
    {"export", TKD_JT_OBJECT, "{}", NOB, NULL, "SFT export: variants, filters, deduplication, decontamination"},
    {"export.variants", TKD_JT_STRINGS, "[\"nl\", \"tir\", \"gold\"]", NOB, NULL,
     "datasets to write: nl (back-translated), tir (tool-integrated traces), gold (the datasets' own solutions)"},
    {"export.out_dir", TKD_JT_STRING, "\"\"", NOB, NULL, "folder of the variants (default: OUTPUT_DIR/sft)"},
    {"export.solve_store", TKD_JT_STRING, "\"\"", NOB, NULL, "merged solve store (default: OUTPUT_DIR/solve.h5)"},
    {"export.backtranslate_store", TKD_JT_STRING, "\"\"", NOB, NULL,
     "merged back-translation store (default: OUTPUT_DIR/backtranslate.h5)"},
    {"export.tokenizer", TKD_JT_STRING, "\"\"", NOB, NULL,
     "the student's tokenizer.json or model folder for the length filter (default: train.model_dir; none: no length filter)"},
    {"export.max_tokens", TKD_JT_INT, "4096", 0, 1e9, NULL, "drop examples longer than this many tokens, chat template included (0: no limit)"},
    {"export.per_problem", TKD_JT_INT, "4", 0, 1e9, NULL, "at most this many examples per problem (0: no limit)"},
    {"export.valid_fraction", TKD_JT_NUMBER, "0.05", 0, 1, NULL, "share of problems held out in valid.jsonl (seeded, by problem)"},
    {"export.allow_partial", TKD_JT_BOOL, "false", NOB, NULL, "nl: keep back-translations with status partial too"},
    {"export.check_answer", TKD_JT_BOOL, "true", NOB, NULL, "drop examples whose boxed answer is missing or not the gold answer"},
    {"export.tir_statuses", TKD_JT_STRINGS, "[\"correct\"]", NOB, NULL, "tir: solve statuses exported"},
    {"export.tir_follow_ups", TKD_JT_STRING, "\"merge\"", NOB, "merge|keep",
     "tir: drop the solver's follow-up prompts and merge the plan into the next reply, or keep them as user turns"},
    {"export.tir_tools", TKD_JT_STRING, "\"offered\"", NOB, "offered|used",
     "tir: the tool specs on each line: all offered to the teacher (solve.tools), or only those the trace calls"},
    {"export.dedup", TKD_JT_OBJECT, "{}", NOB, NULL, "deduplication of solutions"},
    {"export.dedup.exact", TKD_JT_BOOL, "true", NOB, NULL, "drop an example whose normalized problem and solution were seen"},
    {"export.dedup.near", TKD_JT_BOOL, "true", NOB, NULL, "drop near-duplicate solutions of the same problem (MinHash)"},
    {"export.dedup.threshold", TKD_JT_NUMBER, "0.8", 0, 1, NULL, "estimated Jaccard similarity at which a solution is a near duplicate"},
    {"export.dedup.shingle", TKD_JT_INT, "5", 1, 64, NULL, "words per shingle"},
    {"export.decontaminate", TKD_JT_STRINGS, "[]", NOB, NULL,
     "extra JSONL files (or folders) of problems to decontaminate against, besides eval.benchmarks[]"},
    {"export.ngram", TKD_JT_INT, "8", 1, 32, NULL, "words per n-gram for decontamination (open-r1 uses 8)"},
    {"export.decontaminate_overlap", TKD_JT_NUMBER, "0.5", 0, 1, NULL,
     "share of a benchmark problem's n-grams a training problem must hold to be dropped (0: any one n-gram)"},

    /* ---- tools: the math toolkit's executor (worker pool) ---- */
    {"tools", TKD_JT_OBJECT, "{}", NOB, NULL, "limits of the tool executor"},
    {"tools.workers", TKD_JT_INT, "2", 1, 64, NULL, "tool worker processes per rank"},
    {"tools.cpu_seconds", TKD_JT_NUMBER, "2", 0.01, 3600, NULL, "CPU time of one tool call"},
    {"tools.memory_mb", TKD_JT_INT, "1024", 64, 1e6, NULL, "address-space limit of a tool worker (MiB)"},
    {"tools.wall_seconds", TKD_JT_NUMBER, "10", 0.1, 3600, NULL, "wall-time watchdog of one tool call"},
    {"tools.output_max", TKD_JT_INT, "8192", 256, 1e7, NULL, "bytes of a tool answer before it is cut with a note"},

    {NULL, 0, NULL, 0, 0, NULL, NULL}};
