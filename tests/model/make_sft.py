"""Write N SFT examples as JSONL for test_train.sh: pre-tokenized
({"input_ids", "loss_mask"}: prompt tokens not trained on, a reply that is,
ending in EOS id 1) or chat ({"messages": [system, user, assistant]}).
  make_sft.py ids N VOCAB OUT | make_sft.py chat N OUT"""
import json
import random
import sys

rng = random.Random(7)
mode = sys.argv[1]
if mode == "ids":
    n, vocab, out = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    with open(out, "w") as f:
        for i in range(n):
            prompt = [2] + [rng.randrange(3, vocab) for _ in range(rng.randrange(3, 8))]
            reply = [rng.randrange(3, vocab) for _ in range(rng.randrange(4, 12))] + [1]
            f.write(json.dumps({"input_ids": prompt + reply,
                                "loss_mask": [0] * len(prompt) + [1] * len(reply)}) + "\n")
else:
    n, out = int(sys.argv[2]), sys.argv[3]
    words = ["sum", "root", "prime", "x", "y", "is", "the", "=", "so", "then", "\\frac{1}{2}", "\\sqrt{3}"]
    with open(out, "w") as f:
        for i in range(n):
            a, b = rng.randrange(2, 99), rng.randrange(2, 99)
            reply = " ".join(rng.choice(words) for _ in range(3)) + f" {a}*{b} = \\boxed{{{a * b}}}"
            msgs = [{"role": "system", "content": "Be brief."},
                    {"role": "user", "content": f"Problem {i}: what is {a} times {b}?"},
                    {"role": "assistant", "content": reply}]
            f.write(json.dumps({"messages": msgs}) + "\n")
