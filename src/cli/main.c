/*
 * tkd: the command line. A thin layer over libtkd: it parses arguments,
 * dispatches to a subcommand and decides the exit code; everything else
 * lives in the library so tests can call it directly.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} command;

static const command commands[] = {
    {"run", tkd_cmd_run, "JOB.json [--from P] [--to P] [-n RANKS]: the whole chain, skipping complete phases"},
    {"sweep", tkd_cmd_sweep, "BASE.json SWEEP.json [--run]: ablation arms sharing the phases whose keys agree"},
    {"config", tkd_cmd_config, "check | show | keys: validate a job file, print it resolved, list its keys"},
    {"data", tkd_cmd_data, "import: read problem files (MATH, MATH500/AIME, GSM8K) into the store"},
    /* store */
    {"store", tkd_cmd_store, "info | merge | export | verify: look into, merge, export and check trace stores"},
    /* dist / phases */
    {"testwork", tkd_cmd_testwork, "JOB.json: synthetic work over MPI ranks (platform tests of dist and store)"},
    /* tools */
    {"tool", tkd_cmd_tool, "list | call: the math toolkit (list it, or call a tool with JSON arguments)"},
    {"expr", tkd_cmd_expr, "eval | expand | simplify | diff | latex ...: the expression core on one expression"},
    /* grade */
    {"grade", tkd_cmd_grade, "GOLD PRED | --jsonl IN [--out OUT]: answer equivalence (equal/different)"},
    {"extract", tkd_cmd_extract, "[--mode MODE] < RESPONSE: print the final answer of a model response"},
    /* llm / solve */
    {"llm", tkd_cmd_llm, "chat | batch: send a prompt (or N numbered requests) to the job's teacher"},
    {"solve", tkd_cmd_solve, "JOB.json: the teacher solves every problem with the toolkit, over MPI ranks"},
    {"backtranslate", tkd_cmd_backtranslate,
     "JOB.json: the solve traces' tool calls derived by hand, judged and rephrased, over MPI ranks"},
    {"export", tkd_cmd_export, "JOB.json: SFT datasets (nl, tir, gold) from the stores: filtered, deduplicated, decontaminated"},
    /* model */
    {"tokenize", tkd_cmd_tokenize, "encode text (or --decode ids, --chat messages) with a model's tokenizer"},
    {"model", tkd_cmd_model, "init | info: a random Qwen2 of any shape (tests, benchmarks); a model's shape"},
    {"train", tkd_cmd_train, "fine-tune the student (LoRA or full) on SFT JSONL, data-parallel over MPI ranks"},
    {"generate", tkd_cmd_generate, "continue prompts with a model (and adapter): KV cache, greedy or top-p"},
    {"report", tkd_cmd_report, "JOB.json: the run's report (OUT/report/report.md, plots, report.json)"},
    {"merge-adapter", tkd_cmd_merge_adapter, "merge a PEFT LoRA adapter into its base model's weights"},
    /* eval */
    {"eval", tkd_cmd_eval, "JOB.json [--metrics-only]: the student arms on the benchmarks, over MPI ranks; metrics"},
    {NULL, NULL, NULL}};

static void usage(FILE *f) {
    fprintf(f, "tkd %s (%s): distill tool knowledge into small language models\n\n"
               "usage: tkd COMMAND [ARGS] [--set KEY=VALUE ...] [-v|-q]\n\ncommands:\n",
            TKD_VERSION, TKD_GIT_COMMIT);
    for (const command *c = commands; c->name; c++)
        fprintf(f, "  %-14s %s\n", c->name, c->help);
    fprintf(f, "  %-14s %s\n", "version", "print the version and git commit");
    fprintf(f, "\nexit codes: 0 done, 1 failure, 2 bad usage or bad input, 3 stopped early (resumable)\n");
}

/* The command named name, or NULL. */
static const command *find(const char *name) {
    for (const command *c = commands; c->name; c++)
        if (!strcmp(name, c->name))
            return c;
    return NULL;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "help") && (find(argv[2]) || !strcmp(argv[2], "version"))) {
        const command *c = find(argv[2]); /* tkd help COMMAND */
        tkd_cli_usage(argv[2], c ? c->help : NULL, stdout);
        return TKD_EXIT_OK;
    }
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? TKD_EXIT_USAGE : TKD_EXIT_OK;
    }
    /* every command answers --help (and -h) with its usage, exit 0, before
     * it reads a job file or starts MPI */
    const command *c = find(argv[1]);
    if ((c || !strcmp(argv[1], "version")) && tkd_cli_wants_help(argv[1], argc - 2, argv + 2)) {
        tkd_cli_usage(argv[1], c ? c->help : NULL, stdout);
        return TKD_EXIT_OK;
    }
    if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
        printf("tkd %s (%s)\n", TKD_VERSION, TKD_GIT_COMMIT);
        return 0;
    }
    if (c)
        return c->fn(argc - 2, argv + 2);
    fprintf(stderr, "tkd: unknown command '%s'; `tkd --help` lists the commands\n", argv[1]);
    return TKD_EXIT_USAGE;
}
