"""An independent reference of tkd's eval metrics (src/phases/eval_metrics.c
states the definitions), written from those definitions in plain Python.

samples: list of dicts {arm, benchmark, id, sample, subject, level, status,
answer, correct, tokens}, at most one per (arm, id, sample) (the first final
record); problems: {benchmark: [ids]}; equal(rep, ans): the answer
equivalence used for maj@k clustering.
"""
import hashlib
import math
from fractions import Fraction

M64 = (1 << 64) - 1


def hash64(b):
    return int.from_bytes(hashlib.sha256(b).digest()[:8], "big")


class Rng:  # xoshiro256** seeded by splitmix64, as tkd_rng
    def __init__(self, seed):
        self.s = []
        x = seed & M64
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & M64
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
            self.s.append(z ^ (z >> 31))

    def u64(self):
        s = self.s
        rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & M64
        r = (rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return r

    def below(self, n):
        limit = M64 - M64 % n
        while True:
            x = self.u64()
            if x < limit:
                return x % n


def quantile(srt, q):
    pos = q * (len(srt) - 1)
    i = math.floor(pos)
    f = pos - i
    return srt[i] + (srt[i + 1] - srt[i]) * f if i + 1 < len(srt) else srt[i]


def bootstrap(v, w, B, seed):
    n = len(v)
    if n == 0:
        return [0.0, 0.0]
    r = Rng(seed)
    means = []
    for _ in range(B):
        s = 0.0
        for _ in range(n):
            j = r.below(n)
            s += w[j] - v[j] if w is not None else v[j]
        means.append(s / n)
    means.sort()
    return [quantile(means, 0.025), quantile(means, 0.975)]


def label_seed(run_seed, *parts):
    return run_seed ^ hash64("\n".join(parts).encode())


def pass_at_k(n, c, k):
    if n - c < k:
        return 1.0
    p = 1.0
    for i in range(n - c + 1, n + 1):
        p *= 1.0 - k / i
    return 1.0 - p


def mcnemar(b, c):
    m = b + c
    if m == 0:
        return 1.0
    s = sum(Fraction(math.comb(m, i), 2 ** m) for i in range(min(b, c) + 1))
    return float(min(Fraction(1), 2 * s))


def majority(smps, kk, equal):
    reps, cnt = [], []
    for s in smps[:kk]:
        if s["answer"] is None:
            continue
        for j, r in enumerate(reps):
            if r["answer"] == s["answer"] or equal(r["answer"], s["answer"]):
                cnt[j] += 1
                break
        else:
            reps.append(s)
            cnt.append(1)
    if not reps:
        return 0
    best = 0
    for j in range(len(reps)):
        if cnt[j] > cnt[best]:
            best = j
    return int(reps[best]["correct"])


def ks_of(k):
    ks, v = [], 1
    while v < k:
        ks.append(v)
        v *= 2
    return ks + [k]


def group(by, arm, ids, k, B, run_seed, bench, label, equal):
    g = {"n": 0, "missing": 0, "samples": k}
    v, tok, cut, noans, right0 = [], 0, 0, 0, 0
    ks = ks_of(k)
    pas, maj = [0.0] * len(ks), [0.0] * len(ks)
    for pid in ids:
        smps = [by.get((arm, pid, s)) for s in range(k)]
        if any(s is None for s in smps):
            g["missing"] += 1
            continue
        c = sum(int(s["correct"]) for s in smps)
        tok += sum(s["tokens"] for s in smps)
        cut += sum(s["status"] == "length" for s in smps)
        noans += sum(s["status"] == "no_answer" for s in smps)
        v.append(float(smps[0]["correct"]))
        right0 += int(smps[0]["correct"])
        g["n"] += 1
        for q, kk in enumerate(ks):
            pas[q] += pass_at_k(k, c, kk)
            maj[q] += majority(smps, kk, equal)
    n = g["n"]
    ns = n * k
    g["accuracy"] = right0 / n if n else 0.0
    g["mean_response_tokens"] = tok / ns if n else 0.0
    g["length_share"] = cut / ns if n else 0.0
    g["no_answer_share"] = noans / ns if n else 0.0
    g["pass@k"] = {str(kk): (pas[q] / n if n else 0.0) for q, kk in enumerate(ks)}
    g["maj@k"] = {str(kk): (maj[q] / n if n else 0.0) for q, kk in enumerate(ks)}
    g["ci95"] = bootstrap(v, None, B, label_seed(run_seed, "tkd-eval-ci", arm, bench, label))
    return g


def results(samples, problems, arms, k, B, run_seed, equal, meta=None):
    """problems: {bench: [(id, subject, level)]} in job order; arms in job order."""
    by = {}
    for s in samples:
        by.setdefault((s["arm"], s["id"], s["sample"]), s)
    res = {"arms": {}, "pairs": []}
    for bench, plist in problems.items():
        plist = sorted(plist)  # by id, byte order
        ids = [p[0] for p in plist]
        for a in arms:
            arm = res["arms"].setdefault(a, {"benchmarks": {}})
            g = group(by, a, ids, k, B, run_seed, bench, "", equal)
            for key, col, valid in (("by_subject", 1, lambda x: x != ""), ("by_level", 2, lambda x: x > 0)):
                sub = {}
                for p in plist:
                    if valid(p[col]) and str(p[col]) not in sub:
                        members = [q[0] for q in plist if q[col] == p[col]]
                        sub[str(p[col])] = group(by, a, members, k, B, run_seed, bench,
                                                 f"{key[3:]}={p[col]}", equal)
                if sub:
                    g[key] = sub
            arm["benchmarks"][bench] = g
        for i, a in enumerate(arms):
            for b in arms[i + 1:]:
                va, vb = [], []
                for pid in ids:
                    sa = [by.get((a, pid, s)) for s in range(k)]
                    sb = [by.get((b, pid, s)) for s in range(k)]
                    if any(x is None for x in sa + sb):
                        continue
                    va.append(float(sa[0]["correct"]))
                    vb.append(float(sb[0]["correct"]))
                n = len(va)
                n10 = sum(1 for x, y in zip(va, vb) if x and not y)
                n01 = sum(1 for x, y in zip(va, vb) if y and not x)
                res["pairs"].append({
                    "a": a, "b": b, "benchmark": bench, "n": n,
                    "accuracy_a": sum(va) / n if n else 0.0, "accuracy_b": sum(vb) / n if n else 0.0,
                    "diff": (int(sum(vb)) - int(sum(va))) / n if n else 0.0,
                    "ci95": bootstrap(va, vb, B, label_seed(run_seed, "tkd-eval-pair", a, b, bench)),
                    "a_only": n10, "b_only": n01, "mcnemar_p": mcnemar(n10, n01)})
    return res


def compare(got, want, path="", tol_keys=("mcnemar_p",)):
    """Every number of want equal in got (exactly; p-values to 1e-12 relative). Returns a list of differences."""
    diffs = []
    if isinstance(want, dict):
        for key, w in want.items():
            if key not in got:
                diffs.append(f"{path}/{key}: missing")
            else:
                diffs += compare(got[key], w, f"{path}/{key}", tol_keys)
    elif isinstance(want, list):
        if len(got) != len(want):
            diffs.append(f"{path}: {len(got)} items, want {len(want)}")
        for i, (g, w) in enumerate(zip(got, want)):
            diffs += compare(g, w, f"{path}[{i}]", tol_keys)
    elif isinstance(want, float) and path.rsplit("/", 1)[-1] in tol_keys:
        if not math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-300):
            diffs.append(f"{path}: {got!r} != {want!r}")
    elif got != want:
        diffs.append(f"{path}: {got!r} != {want!r}")
    return diffs
