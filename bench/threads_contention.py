"""Decoding speed when something else wants a core: llama.cpp threads against other work.

    .venv/bin/python bench/threads_contention.py [--threads 1 2] [--busy 0 1] [--nice 0 10]

For each thread count, each number of busy processes beside it (a plain Python loop per
process) and each niceness of those processes, one answer of --tokens tokens from raw
llama-cpp-python on the bundled model, in a fresh subprocess. Prints tokens/s and the ratio
to the anchor measured in the same run: the most threads with nothing beside them. llama.cpp's
threads meet at a barrier after every step of every layer, so one thread that loses its core
holds back all.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

DECODE = """
import sys, time
from llama_cpp import Llama
from meatlizard.core.settings import bundled_model_path
llm = Llama(str(bundled_model_path()), n_ctx=1024, n_threads=int(sys.argv[1]), verbose=False)
llm.create_completion("Once upon a time", max_tokens=8)
start = time.perf_counter()
out = llm.create_completion(
    "Once upon a time", max_tokens=int(sys.argv[2]), temperature=0.7, seed=1
)
print(out["usage"]["completion_tokens"] / (time.perf_counter() - start))
"""
BUSY = "import os, sys\nos.nice(int(sys.argv[1]))\nwhile True: pass"


def decode(threads: int, tokens: int) -> float:
    done = subprocess.run(
        [sys.executable, "-c", DECODE, str(threads), str(tokens)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def measure(threads: int, busy: int, tokens: int, nice: int = 0) -> float:
    loops = [subprocess.Popen([sys.executable, "-c", BUSY, str(nice)]) for _ in range(busy)]
    try:
        time.sleep(0.3 if busy else 0)
        return decode(threads, tokens)
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--busy", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--nice", type=int, nargs="+", default=[0, 10])
    parser.add_argument("--tokens", type=int, default=150)
    args = parser.parse_args()
    anchor = measure(max(args.threads), 0, args.tokens)
    print(f"anchor: {max(args.threads)} threads, nothing beside: {anchor:.1f} tok/s")
    for busy in args.busy:
        for nice in args.nice if busy else [0]:
            for threads in args.threads:
                speed = measure(threads, busy, args.tokens, nice)
                beside = f"busy processes={busy} at nice {nice}" if busy else "nothing beside"
                print(
                    f"threads={threads} {beside}: {speed:6.1f} tok/s"
                    f"  (x{speed / anchor:.2f} of the anchor)"
                )


if __name__ == "__main__":
    main()
