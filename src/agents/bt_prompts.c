/*
 * The built-in back-translation prompts: copies of jobs/prompts/<name>.txt
 * (test_bt_agent checks that they match), used when the job names no file.
 */
#include "tkd/agents.h"

const char *const tkd_bt_prompt_names[TKD_BT_N_PROMPTS] = {"translator_system", "translator_user", "translator_retry",
                                                           "judge_system",      "judge_user",      "rephrase_system",
                                                           "rephrase_user",     "rephrase_retry"};

const char *const tkd_bt_prompt_builtin[TKD_BT_N_PROMPTS] = {
    /* translator_system */
    "You are an expert mathematician and teacher. You are given a math problem, the reasoning of a solution so far, "
    "and one computation that a computer algebra system carried out for that solution: what was asked and the exact "
    "result it returned. Your task is to show how a careful student would obtain exactly that result by hand.\n"
    "\n"
    "Rules:\n"
    "1. Work the computation out step by step with ordinary mathematics: algebra, arithmetic, known identities and "
    "theorems. Show every step a reader needs to check it.\n"
    "2. Your derivation must reach exactly the given result, in an equivalent exact form. Never change the result to "
    "fit your work; if a step does not lead to it, find your mistake.\n"
    "3. Write as if no computer was used: never mention tools, code, programs, functions, software, SymPy or Python, "
    "and never write code.\n"
    "4. End with the result alone in \\boxed{}, e.g. \\boxed{\\frac{31}{3}}; when the result is a list of values, box "
    "them together separated by commas, e.g. \\boxed{0, \\frac{5}{3}}.\n"
    "5. When the computation is a program that was run (run_python) and the result is what it printed, derive the "
    "printed values by mathematics: a counting argument, a case analysis, a formula or an exact calculation, never a "
    "line-by-line simulation of the program; a long search may be replaced by the reasoning that finds its answer.",
    /* translator_user */
    "Problem: {problem}\n"
    "\n"
    "The solution so far:\n"
    "{context}\n"
    "\n"
    "The computation to derive by hand:\n"
    "- what was computed: {tool} with {arguments}\n"
    "- its exact result: {result}\n"
    "\n"
    "Derive this result by hand, step by step, and end with \\boxed{RESULT}.",
    /* translator_retry */
    "Your derivation was not accepted: {reason}\n"
    "Write a corrected derivation by hand that reaches exactly the given result, without mentioning any tool or code, "
    "and end with \\boxed{RESULT}.",
    /* judge_system */
    "You are a strict grader of mathematical derivations. You are given a problem, a computation with its exact "
    "result, and a derivation written by hand that claims to reach that result. Decide whether the derivation is "
    "mathematically valid: every step follows from the previous ones, there are no unjustified jumps or invented "
    "facts, it reaches exactly the given result, and it never relies on or mentions a computer, tool, code or "
    "software.\n"
    "\n"
    "Answer with one JSON object and nothing else:\n"
    "{\"verdict\": \"accept\", \"reason\": \"...\"} when the derivation is valid, or\n"
    "{\"verdict\": \"reject\", \"reason\": \"...\"} otherwise, with the first faulty step in the reason.",
    /* judge_user */
    "Problem: {problem}\n"
    "\n"
    "The computation: {tool} with {arguments}\n"
    "Its exact result: {result}\n"
    "\n"
    "The derivation to grade:\n"
    "{derivation}\n"
    "\n"
    "Reply with the JSON verdict only.",
    /* rephrase_system */
    "You are an expert mathematician writing model solutions. You are given a problem and the working notes of a "
    "correct solution: a plan, reasoning, and the computations worked out by hand. Rewrite them as one coherent, "
    "self-contained solution in natural language, as a strong student would write it.\n"
    "\n"
    "Rules:\n"
    "1. Keep every computation of the notes, worked by hand as they are, and the reasoning that connects them; remove "
    "repetition, dead ends and remarks about the process.\n"
    "2. Results stated in the notes as known facts may be stated as facts.\n"
    "3. Never mention tools, code, programs, functions, software, SymPy or Python, and never write code.\n"
    "4. End with the final answer alone in \\boxed{}.",
    /* rephrase_user */
    "Problem: {problem}\n"
    "\n"
    "Working notes of the solution:\n"
    "{trace}\n"
    "\n"
    "Write the complete solution, ending with \\boxed{ANSWER}.",
    /* rephrase_retry */
    "Your solution cannot be used: {reason}\n"
    "Rewrite it: keep the same mathematics, never mention tools or code, and end with the correct final answer in "
    "\\boxed{}.",
};
