#!/usr/bin/env python3
"""Line and branch coverage of some source folders from a gcc --coverage build,
as a gcovr JSON tracefile (gcovr --add-tracefile reads it: summary, HTML).

    coverage_report.py ROOT BUILD OUT.json DIR...

Every .gcno under BUILD (with its .gcda when the run wrote one, else as never
run) goes through `gcov --json-format`; the lines of the sources under
ROOT/DIR/ are merged over every object that compiled them (the impl twice:
mv_impl and its hooks build mv_impl_sched; a header in every file that
includes it). scripts/coverage.sh uses this instead of gcovr's own gcov
reading for one reason: gcovr 5.2 reads gcov's text output, which marks a
branch as an exception edge ("(throw)", what --exclude-throw-branches drops)
only in a block that ran. In a function one object never ran (the hooks
build's copy of a function the campaign only runs in mv_impl, an inline
function of a header in a test that never calls it) each call's exception
edge was then counted as a branch never taken, on lines whose branches the
other object had taken: 252 branches that are no decision of the models.
gcov's JSON flags exception edges from the notes file, run or not.

Per line, as gcovr does: the execution counts add up; branches (exception
edges left out) merge by their index on the line; a line of braces only has
no branches (--exclude-unreachable-branches: a scope's end, where the
compiler puts destructor calls).
"""
import concurrent.futures
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile


def gcov_json(note, workdir):
    """gcov's JSON report of one object (its notes file, and its data file if any)."""
    data = note[: -len(".gcno")] + ".gcda"
    target = data if os.path.exists(data) else note
    out = subprocess.run(
        ["gcov", "--json-format", "--stdout", "--branch-probabilities", "--object-directory",
         os.path.dirname(note), target],
        cwd=workdir, capture_output=True, text=True, check=False)
    reports = []
    for text in out.stdout.splitlines():
        text = text.strip()
        if text.startswith("{"):
            reports.append(json.loads(text))
    return reports


def decisions(branches):
    """The branches of one line that are a decision: no exception edge, and not
    the normal return of a call that may throw either (the pair is one block's
    two ways out: gcov lists the fallthrough, then the exception edge). The
    hooks build's empty-in-the-plain-build wrappers (impl/sync.h) are such
    calls there and not in mv_impl: only the pair's removal gives each line
    the same decisions in every object that compiled it."""
    kept = list(branches)
    for i in range(len(kept) - 1, -1, -1):
        if kept[i] is not None and kept[i]["throw"]:
            kept[i] = None
            if i > 0 and kept[i - 1] is not None and kept[i - 1]["fallthrough"] and \
                    not kept[i - 1]["throw"]:
                kept[i - 1] = None
    return [b for b in kept if b is not None]


def code_of(text):
    return re.sub(r"/\*.*?\*/", "", re.sub(r"//.*?$", "", text)).strip()


def no_branches_here(text):  # gcovr's --exclude-unreachable-branches
    return code_of(text).replace(" ", "") in ("", "{", "}", "{}")


def not_code_unless_run(text):  # gcovr: such a line that never ran is no line of code
    return code_of(text) in ("", "{", "}", "else")


def main(argv):
    if len(argv) < 5:
        sys.stderr.write(__doc__)
        return 2
    root, build, out_path, dirs = os.path.realpath(argv[1]), os.path.abspath(argv[2]), argv[3], argv[4:]
    prefixes = [os.path.join(root, d.strip("/")) + "/" for d in dirs]
    notes = []
    for folder, _, names in os.walk(build):
        if "CompilerId" in folder:  # CMake's compiler probe
            continue
        notes += [os.path.join(folder, n) for n in names if n.endswith(".gcno")]
    lines = {}  # (file, line) -> [count, {branch index: count}, source text]
    functions = {}  # (file, demangled name) -> [line, count]
    source_cache = {}

    def source_line(path, number):
        if path not in source_cache:
            with open(path, errors="replace") as f:
                source_cache[path] = f.read().splitlines()
        text = source_cache[path]
        return text[number - 1] if 0 < number <= len(text) else ""

    with tempfile.TemporaryDirectory() as workdir, \
            concurrent.futures.ThreadPoolExecutor(int(os.environ.get("MV_JOBS", "2"))) as pool:
        for reports in pool.map(lambda n: gcov_json(n, workdir), sorted(notes)):
            for report in reports:
                cwd = report.get("current_working_directory", "")
                for f in report["files"]:
                    path = os.path.realpath(os.path.join(cwd, f["file"]))
                    if not any(path.startswith(p) for p in prefixes):
                        continue
                    rel = os.path.relpath(path, root)
                    for fn in f.get("functions", []):
                        key = (rel, fn.get("demangled_name", fn["name"]))
                        entry = functions.setdefault(key, [fn["start_line"], 0])
                        entry[1] += fn["execution_count"]
                    for line in f["lines"]:
                        entry = lines.setdefault((rel, line["line_number"]),
                                                 [0, {}, source_line(path, line["line_number"])])
                        entry[0] += line["count"]
                        if no_branches_here(source_line(path, line["line_number"])):
                            continue
                        kept = decisions(line["branches"])
                        for i, b in enumerate(kept):
                            entry[1][i] = entry[1].get(i, 0) + b["count"]

    files = {}
    for (rel, number), (count, branches, text) in lines.items():
        files.setdefault(rel, {"lines": [], "functions": []})["lines"].append({
            "line_number": number, "count": count,
            "gcovr/noncode": count == 0 and not_code_unless_run(text), "gcovr/excluded": False,
            "branches": [{"count": c, "fallthrough": False, "throw": False}
                         for _, c in sorted(branches.items())]})
    for (rel, name), (number, count) in functions.items():
        files.setdefault(rel, {"lines": [], "functions": []})["functions"].append(
            {"name": name, "lineno": number, "execution_count": count})
    doc = {"gcovr/format_version": "0.3", "files": [
        {"file": rel, "lines": sorted(v["lines"], key=lambda l: l["line_number"]),
         "functions": sorted(v["functions"], key=lambda fn: (fn["lineno"], fn["name"]))}
        for rel, v in sorted(files.items())]}
    with open(out_path, "w") as f:
        json.dump(doc, f)
    if not files:
        sys.stderr.write(f"coverage_report.py: no object of {build} compiled a file under {dirs}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
