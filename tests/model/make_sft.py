"""Write N pre-tokenized SFT examples (prompt tokens not trained on, a reply
that is, ending in EOS id 1) as JSONL; used by test_train.sh."""
import json
import random
import sys

n, vocab, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = random.Random(7)
with open(out, "w") as f:
    for i in range(n):
        prompt = [2] + [rng.randrange(3, vocab) for _ in range(rng.randrange(3, 8))]
        reply = [rng.randrange(3, vocab) for _ in range(rng.randrange(4, 12))] + [1]
        f.write(json.dumps({"input_ids": prompt + reply, "loss_mask": [0] * len(prompt) + [1] * len(reply)}) + "\n")
