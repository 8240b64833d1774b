/*
 * Every subcommand's usage text, written once: `tkd CMD --help` (or -h)
 * prints it on stdout with exit 0, and a command given wrong arguments
 * prints it on stderr with exit 2.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    const char *text; /* every line ends in \n */
} usage_entry;

#define PHASE_USAGE(name) "usage: tkd " name " JOB.json [--set KEY=VALUE ...] [-v|-q]\n"

static const usage_entry usages[] = {
    {"config", "usage: tkd config check JOB.json [--phase PHASE[,PHASE...] ...] [--set KEY=VALUE ...]\n"
               "       tkd config show JOB.json [--set KEY=VALUE ...]\n"
               "       tkd config keys\n"
               "       tkd config sbatch JOB.json PHASE   (the phase's sbatch options from the job's slurm section)\n"
               "  check --phase: also what each phase checks when it starts (input files, prompt files,\n"
               "  tool names, endpoint URLs), for the phases in the order they will run\n"},
    {"data", "usage: tkd data import JOB.json [PATH ...] [--set KEY=VALUE ...]\n"
             "  reads data.sources[] (and the extra JSONL files or folders) into OUTPUT_DIR/problems.h5\n"},
    {"store", "usage: tkd store info PATH\n"
              "       tkd store merge DIR OUT [--force] [--skip-damaged]\n"
              "       tkd store export PATH --what problems|traces|all --jsonl OUT|-\n"
              "       tkd store verify PATH\n"},
    {"testwork", PHASE_USAGE("testwork") "  synthetic work over MPI ranks (platform tests of dist and store)\n"},
    {"solve", PHASE_USAGE("solve") "  the teacher solves every problem with the toolkit, over MPI ranks\n"},
    {"backtranslate", PHASE_USAGE("backtranslate") "  the solve traces' tool calls derived by hand (translator), judged (exact "
                                                   "grader, then the LLM judge)\n"
                                                   "  and rephrased as one solution without tools, over MPI ranks\n"},
    {"eval", "usage: tkd eval JOB.json [--metrics-only] [--set KEY=VALUE ...] [-v|-q]\n"
             "  the student arms (eval.arms[]) on the benchmarks (eval.benchmarks[]), over MPI ranks;\n"
             "  --metrics-only: recompute OUTPUT_DIR/eval/results.json from the records, as one process\n"},
    {"train", PHASE_USAGE("train") "  fine-tune the student on train.data (`tkd config keys | grep train`)\n"},
    {"tool", "usage: tkd tool list [--json]\n"
             "       tkd tool call NAME 'JSON-ARGS' [--cpu SECONDS] [--mem MIB] [--direct]\n"
             "       tkd tool call --jsonl FILE [--workers N] [--cpu SECONDS] [--mem MIB]\n"
             "         (FILE lines: {\"tool\": NAME, \"args\": {...}}; '-' reads stdin)\n"},
    {"expr", "usage: tkd expr print|latex|eval|expand|cancel|factor|simplify|iszero EXPR\n"
             "       tkd expr diff|coeffs|roots EXPR VAR\n"
             "       tkd expr subs EXPR VAR VALUE\n"
             "       tkd expr n EXPR [DIGITS]\n"
             "       tkd expr from-latex FILE|-   (one LaTeX text per line -> SymPy text per line)\n"},
    {"grade", "usage: tkd grade GOLD PRED [--timeout-ms N] [--reason]\n"
              "       tkd grade --jsonl IN.jsonl [--out OUT.jsonl] [--extract MODE] [--timeout-ms N]\n"
              "  IN lines: {\"gold\": ..., \"pred\": ...} or {\"gold\": ..., \"response\": ...}\n"
              "  MODE: auto|boxed|final|gsm8k|last_number (default auto)\n"},
    {"extract", "usage: tkd extract [--mode auto|boxed|final|gsm8k|last_number] < RESPONSE\n"},
    {"llm", "usage: tkd llm chat JOB.json --prompt TEXT [--system TEXT]\n"
            "       tkd llm batch JOB.json --requests N [--out FILE.jsonl] [--system TEXT]\n"
            "the teacher is the job file's `teacher` section (tkd config keys | grep teacher)\n"},
    {"tokenize", "usage: tkd tokenize MODEL_DIR|tokenizer.json [--decode] [--jsonl] [--split-special]\n"
                 "                    [--skip-special] [--chat [--gen] [--render]]  < input\n"},
    {"model", "usage: tkd model init CONFIG.json OUT_DIR [--seed N] [--bf16] [--tokenizer PATH|--no-tokenizer]\n"
              "       tkd model info MODEL_DIR\n"},
    {"generate",
     "usage: tkd generate MODEL_DIR [--adapter DIR] (--prompt TEXT | --chat JSON | --chat-file F | --ids 1,2)\n"
     "       [--max-new N] [--temperature T] [--top-p P] [--seed S] [--stop STR] [--stop-id ID] [--json]\n"
     "  --chat takes a JSON array of messages (or {\"messages\": [...], \"tools\": [...]}), rendered with\n"
     "  the generation prompt; --chat-file FILE.jsonl holds one such chat per line; prompts given\n"
     "  several times are generated as one batch (of one kind: text, chats or ids); every kind stops at\n"
     "  the config's eos and the chat end tokens (<|im_end|>, <|endoftext|>; for --ids when MODEL_DIR has a\n"
     "  tokenizer)\n"},
    {"merge-adapter", "usage: tkd merge-adapter MODEL_DIR ADAPTER_DIR OUT_DIR [--bf16]\n"},
    {"version", "usage: tkd version\n"},
    {NULL, NULL}};

void tkd_cli_usage(const char *name, const char *help, FILE *f) {
    for (const usage_entry *u = usages; u->name; u++)
        if (!strcmp(u->name, name)) {
            fputs(u->text, f);
            return;
        }
    /* a command without its own text is a phase: JOB.json and options */
    fprintf(f, "usage: tkd %s JOB.json [--set KEY=VALUE ...] [-v|-q]\n", name);
    if (help)
        fprintf(f, "  %s\n", help);
}

int tkd_cli_wants_help(const char *name, int argc, char **argv) {
    /* expr and grade take operands that may start with '-' ("-h" is minus h):
     * there -h asks for help only as the first argument */
    int operands = !strcmp(name, "expr") || !strcmp(name, "grade");
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || (!strcmp(argv[i], "-h") && (i == 0 || !operands)))
            return 1;
    return 0;
}
