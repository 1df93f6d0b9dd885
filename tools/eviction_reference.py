#!/usr/bin/env python3
"""Reference replay of kvsim's eviction policies, written separately from the C++ code.

The golden hit-count tables of tests/golden/eviction_hits.csv come from here, never from
kvsim's own output: each policy below is written from its paper (and from the adaptations
documented in models/kvcache/eviction/README.md), with plain Python containers and linear
scans, so it shares no code or data structure with the C++ policies.

Replay semantics (models/kvcache/cache_replay.hpp): requests in arrival order; a request
hits the longest resident prefix of its blocks; then every block of it is made resident,
touched from tail to head; then blocks are evicted until at most `capacity` are resident
(the request's own blocks are candidates too).

Usage:
  tools/eviction_reference.py traces            # (re)writes the two fixture traces
  tools/eviction_reference.py table             # prints the golden table (CSV) on stdout
  tools/eviction_reference.py table --write     # re-baselines tests/golden/eviction_hits.csv

Re-baseline only after changing a policy's definition on purpose, here and in C++ alike.
"""
import json
import math
import os
import random
import sys
from collections import OrderedDict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "tests", "golden")
TRACES = {
    "plain": os.path.join(GOLDEN, "eviction_plain.jsonl"),
    "prefix": os.path.join(GOLDEN, "eviction_prefix.jsonl"),
}
CAPACITIES = {"plain": [4, 16, 64, 200], "prefix": [8, 32, 128, 400]}
POLICIES = ["lru", "fifo", "sieve", "s3fifo", "arc", "lfu", "gdsf", "opt"]
BLOCK = 512  # Mooncake block size: the fixtures are Mooncake-format traces


# ---------------------------------------------------------------- fixture traces
def zipf_pick(rng, n, s):
    weights = [1.0 / (k + 1) ** s for k in range(n)]
    total = sum(weights)
    x = rng.random() * total
    for k, w in enumerate(weights):
        x -= w
        if x <= 0:
            return k
    return n - 1


def write_traces():
    rng = random.Random(20261201)
    # Plain: 3,000 one-block requests over 400 identities, Zipf(0.8) popularity with a
    # slow drift (a scan now and then) so recency and frequency disagree.
    with open(TRACES["plain"], "w") as out:
        for i in range(3000):
            if i % 500 >= 450:
                ident = 1000 + i  # a scan of one-off blocks
            else:
                ident = zipf_pick(rng, 400, 0.8)
            out.write(json.dumps({"timestamp": i * 10, "input_length": BLOCK, "output_length": 1,
                                  "hash_ids": [ident]}) + "\n")
    # Prefix: 600 requests; each starts with one of 12 templates (Zipf 1.0) of 1-6 blocks,
    # half continue one of 40 conversations (its previous prompt plus new blocks), the rest
    # add 1-4 unique blocks; the last block is partial (its tokens matter to gdsf).
    templates = [[10_000 + 100 * t + b for b in range(1 + t % 6)] for t in range(12)]
    conversations = {}
    next_id = 1_000_000
    with open(TRACES["prefix"], "w") as out:
        for i in range(600):
            t = zipf_pick(rng, 12, 1.0)
            if rng.random() < 0.5:
                c = rng.randrange(40)
                prompt = conversations.get(c, list(templates[t]))
            else:
                c = None
                prompt = list(templates[t])
            extra = rng.randint(1, 4)
            prompt = prompt + list(range(next_id, next_id + extra))
            next_id += extra
            if len(prompt) > 40:  # conversations restart once long
                prompt = list(templates[t]) + prompt[-extra:]
            if c is not None:
                conversations[c] = prompt
            tokens = BLOCK * (len(prompt) - 1) + rng.randint(1, BLOCK)
            out.write(json.dumps({"timestamp": i * 250, "input_length": tokens, "output_length": 8,
                                  "hash_ids": prompt}) + "\n")


def read_trace(path):
    requests = []
    with open(path) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                requests.append((r["timestamp"] / 1000.0, r["input_length"], r["hash_ids"]))
    requests.sort(key=lambda r: r[0])  # stable: ties keep file order
    return requests


# ---------------------------------------------------------------- policies
class Block:
    def __init__(self, ident, position, tokens):
        self.id = ident
        self.position = position
        self.tokens = tokens
        self.accesses = 1
        self.next_use = math.inf


class Lru:
    def __init__(self):
        self.order = OrderedDict()

    def insert(self, b):
        self.order[b.id] = b

    def touch(self, b):
        self.order.move_to_end(b.id)

    def victim(self):
        return self.order.popitem(last=False)[1]


class Fifo(Lru):
    def touch(self, b):
        pass


class Sieve:
    """NSDI'24: queue old -> new, visited bits, a hand that keeps its place."""

    def __init__(self):
        self.queue = []  # index 0 = oldest
        self.visited = {}
        self.hand = None  # index into queue, None = start at the oldest

    def insert(self, b):
        self.queue.append(b)
        self.visited[b.id] = False

    def touch(self, b):
        self.visited[b.id] = True

    def victim(self):
        h = 0 if self.hand is None else self.hand
        while self.visited[self.queue[h].id]:
            self.visited[self.queue[h].id] = False
            h = h + 1 if h + 1 < len(self.queue) else 0
        b = self.queue.pop(h)
        del self.visited[b.id]
        # The next sweep starts at the block that followed the victim.
        self.hand = h if h < len(self.queue) else None
        return b


class S3Fifo:
    """SOSP'23 with kvsim's sizing: S holds >= 10 % of the candidates, G at most |M|."""

    def __init__(self, small_fraction=0.1):
        self.small, self.main = [], []
        self.ghost = []  # oldest first
        self.freq = {}
        self.fraction = small_fraction

    def insert(self, b):
        self.freq[b.id] = 0
        if b.id in self.ghost:
            self.ghost.remove(b.id)
            self.main.append(b)
        else:
            self.small.append(b)

    def touch(self, b):
        self.freq[b.id] = min(3, self.freq[b.id] + 1)

    def victim(self):
        while True:
            n = len(self.small) + len(self.main)
            if self.small and (not self.main or len(self.small) >= self.fraction * n):
                b = self.small.pop(0)
                if self.freq[b.id] > 0:
                    self.freq[b.id] = 0
                    self.main.append(b)
                    continue
                if b.id in self.ghost:
                    self.ghost.remove(b.id)
                self.ghost.append(b.id)
                while len(self.ghost) > max(len(self.main), 1):
                    self.ghost.pop(0)
                del self.freq[b.id]
                return b
            b = self.main.pop(0)
            if self.freq[b.id] > 0:
                self.freq[b.id] -= 1
                self.main.append(b)
                continue
            del self.freq[b.id]
            return b


class Arc:
    """FAST'03 with c = the most candidates left after an eviction so far."""

    def __init__(self):
        self.t1, self.t2 = OrderedDict(), OrderedDict()
        self.b1, self.b2 = [], []
        self.p = 0.0
        self.c = 1.0
        self.b2_hit = False

    def insert(self, b):
        self.b2_hit = False
        if b.id in self.b1:
            self.p = min(self.c, self.p + max(1.0, len(self.b2) / len(self.b1)))
            self.b1.remove(b.id)
            self.t2[b.id] = b
        elif b.id in self.b2:
            self.p = max(0.0, self.p - max(1.0, len(self.b1) / len(self.b2)))
            self.b2.remove(b.id)
            self.b2_hit = True
            self.t2[b.id] = b
        else:
            self.t1[b.id] = b

    def touch(self, b):
        if b.id in self.t2:
            self.t2.move_to_end(b.id)
        else:
            del self.t1[b.id]
            self.t2[b.id] = b

    def victim(self):
        n1 = len(self.t1)
        if self.t1 and (not self.t2 or n1 > self.p or (self.b2_hit and n1 == self.p)):
            b = self.t1.popitem(last=False)[1]
            ghosts = self.b1
        else:
            b = self.t2.popitem(last=False)[1]
            ghosts = self.b2
        if b.id in ghosts:
            ghosts.remove(b.id)
        ghosts.append(b.id)
        self.c = max(self.c, len(self.t1) + len(self.t2))
        total = lambda: len(self.t1) + len(self.t2) + len(self.b1) + len(self.b2)
        while self.b1 and len(self.t1) + len(self.b1) > self.c:
            self.b1.pop(0)
        while self.b2 and total() > 2 * self.c:
            self.b2.pop(0)
        while total() > 2 * self.c and self.b1:
            self.b1.pop(0)
        return b


class KeyedPolicy:
    """Smallest (key, stamp) leaves; the stamp counts inserts and touches (LRU ties)."""

    def __init__(self):
        self.entries = {}  # id -> (key, stamp, block)
        self.stamp = 0
        self.inflation = 0.0

    def key(self, b):
        raise NotImplementedError

    def insert(self, b):
        self.entries[b.id] = (self.key(b), self.stamp, b)
        self.stamp += 1

    touch = insert

    def victim(self):
        ident = min(self.entries, key=lambda i: self.entries[i][:2])
        k, _, b = self.entries.pop(ident)
        self.evicted(k)
        return b

    def evicted(self, k):
        pass


class Lfu(KeyedPolicy):
    def key(self, b):
        return self.inflation + float(b.accesses)

    def evicted(self, k):
        self.inflation = k


class Gdsf(Lfu):
    def key(self, b):
        return self.inflation + float(b.accesses) * (float(b.position) + 1.0) / float(b.tokens)


class Opt(KeyedPolicy):
    def key(self, b):
        return -b.next_use


MAKERS = {"lru": Lru, "fifo": Fifo, "sieve": Sieve, "s3fifo": S3Fifo, "arc": Arc,
          "lfu": Lfu, "gdsf": Gdsf, "opt": Opt}


def replay(requests, policy_name, capacity):
    # Next use of each access: the index of the identity's next access, in replay order.
    flat = [ident for _, _, ids in requests for ident in ids]
    nxt = [math.inf] * len(flat)
    later = {}
    for k in range(len(flat) - 1, -1, -1):
        if flat[k] in later:
            nxt[k] = float(later[flat[k]])
        later[flat[k]] = k
    policy = MAKERS[policy_name]()
    resident = {}
    hit_blocks = hit_tokens = 0
    k0 = 0
    for _, tokens, ids in requests:
        n = len(ids)
        hits = 0
        while hits < n and ids[hits] in resident:
            hits += 1
        hit_blocks += hits
        hit_tokens += tokens if hits == n else BLOCK * hits
        for j in range(n - 1, -1, -1):
            ident = ids[j]
            if ident in resident:
                b = resident[ident]
                b.accesses += 1
                b.next_use = nxt[k0 + j]
                policy.touch(b)
            else:
                last = tokens - BLOCK * (n - 1)
                b = Block(ident, j, last if j == n - 1 else BLOCK)
                b.next_use = nxt[k0 + j]
                resident[ident] = b
                policy.insert(b)
        while len(resident) > capacity:
            del resident[policy.victim().id]
        k0 += n
    return hit_blocks, hit_tokens


def table():
    rows = ["trace,policy,capacity_blocks,hit_blocks,hit_tokens"]
    for trace, path in TRACES.items():
        requests = read_trace(path)
        for policy in POLICIES:
            for capacity in CAPACITIES[trace]:
                hb, ht = replay(requests, policy, capacity)
                rows.append(f"{trace},{policy},{capacity},{hb},{ht}")
    return "\n".join(rows) + "\n"


def main(argv):
    if argv[1:2] == ["traces"]:
        write_traces()
    elif argv[1:2] == ["table"]:
        text = table()
        if "--write" in argv:
            with open(os.path.join(GOLDEN, "eviction_hits.csv"), "w") as f:
                f.write(text)
        else:
            sys.stdout.write(text)
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
