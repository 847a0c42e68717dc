#!/usr/bin/env python3
"""Checks that every reference to a section of the docs names a file and a heading that exist.

A reference is written `docs/X.md, "Section"` — any Markdown file by its path from the root, e.g.
bench/RESULTS.md; the comma may be missing, or be a colon; in code it may wrap after the comma onto
the next comment line — or `README "Section"` / `README, "Section"` for README.md. It matches a
heading of that file (any level, outside code blocks) whose text, backticks removed, is the
section's name, or the name followed by " (", ":" or "?" — so "Create runs" names "Create runs
(feature `push-runs`)" and "GET /v1/pull" names "`GET /v1/pull?since=…`". A bare path to a
Markdown file (`docs/X.md`) must name a file that exists.

Scans the files git knows (tracked, or new and not ignored) under the repository root: sources,
scripts, CMake files, SQL migrations and Markdown. Prints every broken reference as
FILE:LINE: REFERENCE: WHAT IS WRONG and exits 1; prints nothing and exits 0 when all hold.
Python 3 standard library only: run by scripts/test.sh before the tests.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCANNED = re.compile(r"(\.(cc|h|cpp|md|sh|py|sql|cmake|txt)|CMakeLists\.txt|/run)$")
# Between the file and the quoted section: a comma or colon and spaces, or a comma, a line break
# and the next line's comment marker (//, #, --, *).
SEPARATOR = r'(?:[,:]?[ \t]*|,[ \t]*\n[ \t]*(?://|#|--|\*)?[ \t]*)'
DOC = r'(?<![\w./-])(?:[a-z_]+/)+[A-Za-z0-9_-]+\.md'  # a Markdown file by its path from the root
SECTION_REF = re.compile('(' + DOC + r'|README(?:\.md)?)' + SEPARATOR + r'"([^"\n]+)"')
FILE_REF = re.compile(DOC)
HEADING = re.compile(r'^#{1,6}[ \t]+(.*?)[ \t#]*$')


def repository_files():
    try:
        out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                             cwd=ROOT, check=True, capture_output=True, text=True).stdout
        files = out.splitlines()
    except (OSError, subprocess.CalledProcessError):
        files = [os.path.relpath(os.path.join(d, f), ROOT)
                 for d, _, names in os.walk(ROOT) for f in names]
    skip = ("build", ".git", "tests/fuzz/corpus")
    this = os.path.relpath(os.path.abspath(__file__), ROOT)  # its examples are not references
    return sorted(f for f in files if SCANNED.search(f) and not f.startswith(skip) and f != this and
                  os.path.isfile(os.path.join(ROOT, f)))


def headings(path, cache={}):
    """The headings of a Markdown file, backticks removed; None when the file does not exist."""
    if path not in cache:
        full = os.path.join(ROOT, path)
        if not os.path.isfile(full):
            cache[path] = None
        else:
            found, fenced = [], False
            with open(full, encoding="utf-8") as f:
                for line in f:
                    if line.lstrip().startswith("```"):
                        fenced = not fenced
                        continue
                    m = None if fenced else HEADING.match(line)
                    if m:
                        found.append(m.group(1).replace("`", "").strip())
            cache[path] = found
    return cache[path]


def names_heading(section, heads):
    section = section.replace("`", "").strip()
    return any(h == section or any(h.startswith(section + tail) for tail in (" (", "?", ":")) for h in heads)


def main():
    problems = []
    for rel in repository_files():
        try:
            with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
                text = f.read()
        except UnicodeDecodeError:
            continue
        line_of = lambda pos: text.count("\n", 0, pos) + 1
        for m in SECTION_REF.finditer(text):
            target = "README.md" if m.group(1).startswith("README") else m.group(1)
            section = m.group(2)
            heads = headings(target)
            ref = '%s, "%s"' % (m.group(1), section)
            if heads is None:
                problems.append("%s:%d: %s: no file %s" % (rel, line_of(m.start()), ref, target))
            elif not names_heading(section, heads):
                problems.append("%s:%d: %s: %s has no heading \"%s\"" %
                                (rel, line_of(m.start()), ref, target, section))
        for m in FILE_REF.finditer(text):
            if headings(m.group(0)) is None:
                problems.append("%s:%d: %s: no such file" % (rel, line_of(m.start()), m.group(0)))
    if problems:
        print("Broken references to the docs (%d):" % len(problems), file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
