"""Run by the bench as `python3.9 -I -S -B -c <this file's text> ROOT EVENT CONTEXT MODE`: one function's
built folder (ROOT) is all the interpreter sees beside the standard library, as in SCF; it imports
`index`, invokes `main_handler` once on the event file, and exits.

MODE `time` only writes `BENCHTIME {json}` to stderr: how long reading the event, importing `index` and
the invocation took (the bench times the whole process). MODE `report` prints one line, `BENCH {json}`:
those times, the modules loaded, which of the heavy packages among them, the peak RSS, the handler's
answer, and any module loaded from outside ROOT and the standard library (there should be none).
Standard library only, and Python 3.9 syntax: it runs under SCF's oldest runtime.
"""

import json
import sys
import time

STARTED = time.perf_counter()

HEAVY = ("requests", "urllib3", "tencentcloud", "charset_normalizer", "idna", "certifi")


def _peak_rss_mb() -> float:
    # VmHWM starts afresh at exec: the process's own peak, not the bench's.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    root, event_path, context_text, mode = sys.argv[1:5]
    sys.path[:] = [root] + [p for p in sys.path if p.startswith(sys.base_prefix)]
    with open(event_path, encoding="utf-8") as handle:
        event = json.load(handle)
    loaded = time.perf_counter()
    import index

    imported = time.perf_counter()
    result = index.main_handler(event, json.loads(context_text))
    done = time.perf_counter()
    timings = {
        "event_ms": (loaded - STARTED) * 1000,
        "import_ms": (imported - loaded) * 1000,
        "invoke_ms": (done - imported) * 1000,
    }
    if mode != "report":
        sys.stderr.write("BENCHTIME " + json.dumps(timings) + "\n")
        return
    names = {name.split(".")[0] for name in sys.modules}
    files = {name: getattr(module, "__file__", None) or "" for name, module in list(sys.modules.items())}
    outside = sorted(
        name for name, file in files.items() if file and not file.startswith((root, sys.base_prefix))
    )
    report = {
        "modules": len(sys.modules),
        "heavy": sorted(names & set(HEAVY)),
        "peak_rss_mb": _peak_rss_mb(),
        **timings,
        "result": result,
        "outside": outside,
    }
    sys.stdout.write("BENCH " + json.dumps(report, default=str) + "\n")


if __name__ == "__main__":
    main()
