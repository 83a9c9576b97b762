"""What a compiled optimizer costs in memory and time: resident set size, and seconds, after each
step of loading one.

Each measurement runs in a fresh interpreter and reads ``VmRSS`` from ``/proc/self/status``
(Linux), in MiB above NumPy alone, and the wall-clock seconds since NumPy was imported:

- ``numba``: ``import numba``, then loading (or compiling, the first time) unafraid's Adam
  kernels from ``unafraid/optimizers_numba.py``, then the largest mappings (``/proc/self/smaps``);
- ``llvmlite``: llvmlite alone (the LLVM binding numba is built on), compiling a one-loop
  kernel from LLVM IR: the least a JIT compiler can cost.

    python benchmarks/accelerator_memory.py
"""

from __future__ import annotations

import subprocess
import sys

PRELUDE = r'''
import re
import time
def rss():
    return int(re.search(r"VmRSS:\s+(\d+)", open("/proc/self/status").read()).group(1)) / 1024
import numpy as np
base, start = rss(), time.perf_counter()
def show(what):
    print(f"| {what} | {rss() - base:.1f} | {time.perf_counter() - start:.2f} |", flush=True)
'''

NUMBA = PRELUDE + r'''
import numba
show("`import numba`")
from unafraid import optimizers_fast
optimizers_fast.warm_up()
show("and unafraid's Adam kernels loaded")
import collections
sizes, name = collections.Counter(), "[anon]"
for line in open("/proc/self/smaps"):
    parts = line.split()
    if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
        name = parts[5].rsplit("/", 1)[-1] if len(parts) > 5 else "[anon]"
    elif parts[0] == "Rss:":
        sizes[name] += int(parts[1])
print("largest mappings, MiB: " + ", ".join(f"{n} {kb / 1024:.1f}" for n, kb in sizes.most_common(4)))
'''

LLVMLITE = PRELUDE + r'''
import ctypes
import llvmlite.binding as llvm
show("`import llvmlite.binding`")
llvm.initialize_native_target()
llvm.initialize_native_asmprinter()
IR = """
define void @scale(float* %x, i64 %n, float %a) {
entry:
  br label %loop
loop:
  %i = phi i64 [0, %entry], [%next, %loop]
  %p = getelementptr float, float* %x, i64 %i
  %v = load float, float* %p
  %r = fmul float %v, %a
  store float %r, float* %p
  %next = add i64 %i, 1
  %more = icmp slt i64 %next, %n
  br i1 %more, label %loop, label %exit
exit:
  ret void
}
"""
module = llvm.parse_assembly(IR)
engine = llvm.create_mcjit_compiler(module, llvm.Target.from_default_triple().create_target_machine(opt=3))
engine.finalize_object()
scale = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64, ctypes.c_float)(
    engine.get_function_address("scale"))
x = np.ones(4, np.float32)
scale(x.ctypes.data, 4, 2.0)
assert x[0] == 2.0
show("and a one-loop kernel compiled and run")
'''


def main() -> None:
    notes: list[str] = []
    print("| step | MiB above NumPy | s since NumPy |")
    print("| --- | ---: | ---: |")
    for name, code in (("numba", NUMBA), ("llvmlite", LLVMLITE)):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if done.returncode:
            last = done.stderr.strip().splitlines()[-1:] or ["failed"]
            print(f"| {name} | not measured: {last[0]} | |")
        else:
            lines = done.stdout.splitlines()
            print("\n".join(line for line in lines if line.startswith("|")))
            notes += [f"{name}: {line}" for line in lines if not line.startswith("|")]
    print("\n".join(notes))


if __name__ == "__main__":
    main()
