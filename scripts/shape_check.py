#!/usr/bin/env python3
"""Shape check of Steward's Rust sources (issue 12, "Done when"): fails on

* a source file (crates/*/src, bench/src, tools/*/src) with more than 800
  lines of code outside its `#[cfg(test)]` modules. A line of code is a line
  that holds a token: blank lines and comment-only lines (doc comments too)
  do not count. Files that are one data table may be longer when listed in
  the allow-list (scripts/shape_allow.txt, `PATH  REASON`, a reason is
  required);
* a function with more than 150 lines of code (signature to closing brace;
  test modules are exempt, like the file rule);
* a module import circle inside a crate. The graph is built from paths that
  start with `crate::`, `super::` or `self::` (in `use` items and inline in
  code) outside test modules, resolved against the crate's module files. A
  reference between a module and its own ancestor or descendant is the
  module tree, not an import; every other reference A -> B is lifted to the
  two sibling modules under their closest common ancestor, so the siblings
  of every folder must form an acyclic graph (`sqlite -> copy -> append ->
  sqlite` is a circle; `postgres::records -> postgres` is not). A path
  through a re-export at the crate root (`crate::Item`) counts as a use of
  the root, which is every module's ancestor: name the defining module to
  make the dependency visible.

Every violation is printed with file:line and how to fix it; the exit code is
1 when any violation is not covered by the baseline.

`--baseline FILE` (temporary, while the splits of issue 12 land) lists
today's known violations, one per line: `file PATH LINES`, `fn PATH NAME
LINES`, `circle CRATE[::MODULE] {A,B,...}`. A known violation passes as long
as it is no worse than its entry (a file or function may not grow; a circle
may only lose members); entries that no longer match are reported so the list
can shrink. `--write-baseline FILE` writes today's violations.

Only the Python standard library is used. Tests: scripts/test_shape_check.py.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass, field

MAX_FILE_LINES = 800
MAX_FN_LINES = 150

# ---------------------------------------------------------------- lexing


@dataclass
class Tok:
    kind: str  # ident, punct, str, char, life, num
    text: str
    line: int  # first line (1-based)
    end: int  # last line


_IDENT = re.compile(r"[A-Za-z_\u0080-\U0010ffff][0-9A-Za-z_\u0080-\U0010ffff]*")
_RAW_STR = re.compile(r'(?:b|c)?r(#*)"')
_STR = re.compile(r'(?:b|c)?"')
_NUM = re.compile(r"[0-9][0-9A-Za-z_]*(?:\.[0-9][0-9A-Za-z_]*)?")


def lex(text: str) -> list[Tok]:
    """Tokens of Rust source `text`, comments dropped; `::` is one token."""
    toks: list[Tok] = []
    i, n, line = 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
            continue
        if c.isspace():
            i += 1
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            line += text.count("\n", i, j)
            i = j
            continue
        m = _RAW_STR.match(text, i)
        if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            close = '"' + m.group(1)
            j = text.find(close, m.end())
            j = n if j < 0 else j + len(close)
            toks.append(Tok("str", text[i:j], line, line + text.count("\n", i, j)))
            line += text.count("\n", i, j)
            i = j
            continue
        m = _STR.match(text, i)
        if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            j = m.end()
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            toks.append(Tok("str", text[i:j], line, line + text.count("\n", i, j)))
            line += text.count("\n", i, j)
            i = j
            continue
        if text.startswith("r#", i) and _IDENT.match(text, i + 2):
            m = _IDENT.match(text, i + 2)
            toks.append(Tok("ident", m.group(0), line, line))
            i = m.end()
            continue
        if c == "b" and text.startswith("b'", i):
            i += 1
            c = "'"
        if c == "'":
            # A char literal ('x', '\n', '\u{1F600}') or a lifetime/label ('a).
            if i + 1 < n and text[i + 1] == "\\":
                j = i + 1
                while j < n and text[j] != "'":
                    j += 2 if text[j] == "\\" else 1
                toks.append(Tok("char", text[i : j + 1], line, line))
                i = j + 1
                continue
            if i + 2 < n and text[i + 2] == "'":
                toks.append(Tok("char", text[i : i + 3], line, line))
                i += 3
                continue
            m = _IDENT.match(text, i + 1)
            if m:
                toks.append(Tok("life", "'" + m.group(0), line, line))
                i = m.end()
                continue
            toks.append(Tok("punct", "'", line, line))
            i += 1
            continue
        m = _IDENT.match(text, i)
        if m:
            toks.append(Tok("ident", m.group(0), line, line))
            i = m.end()
            continue
        m = _NUM.match(text, i)
        if m:
            toks.append(Tok("num", m.group(0), line, line))
            i = m.end()
            continue
        if text.startswith("::", i):
            toks.append(Tok("punct", "::", line, line))
            i += 2
            continue
        toks.append(Tok("punct", c, line, line))
        i += 1
    return toks


def matching(toks: list[Tok], i: int) -> int:
    """Index of the bracket closing the one at `i` (or the last token)."""
    pairs = {"{": "}", "(": ")", "[": "]"}
    open_, close = toks[i].text, pairs[toks[i].text]
    depth = 0
    for j in range(i, len(toks)):
        t = toks[j]
        if t.kind == "punct":
            if t.text == open_:
                depth += 1
            elif t.text == close:
                depth -= 1
                if depth == 0:
                    return j
    return len(toks) - 1


# ---------------------------------------------------------------- one file


@dataclass
class FnInfo:
    name: str
    line: int
    code_lines: int


@dataclass
class Ref:
    path: list[str]  # e.g. ["crate", "copy", "import_plan"]
    line: int


@dataclass
class FileInfo:
    code_lines: int  # outside test modules
    fns: list[FnInfo]
    refs: list[Ref]
    test_children: list[str]  # `#[cfg(test)] mod NAME;`


def _is_cfg_test(toks: list[Tok], i: int) -> int:
    """If `#[cfg(...test...)]` starts at `i` (and is not `not(test)`), the
    index after its `]`; else -1."""
    if not (
        toks[i].text == "#"
        and i + 3 < len(toks)
        and toks[i + 1].text == "["
        and toks[i + 2].text == "cfg"
    ):
        return -1
    end = matching(toks, i + 1)
    inner = [t.text for t in toks[i + 3 : end]]
    if "test" in inner and "not" not in inner:
        return end + 1
    return -1


def _use_paths(toks: list[Tok], i: int, prefix: list[str], out: list[list[str]]) -> int:
    """Parses a path or use tree at `i` (after `prefix`), appending complete
    paths to `out`; returns the index after it."""
    segs = list(prefix)
    n = len(toks)
    while i < n:
        t = toks[i]
        if t.kind == "ident" or t.text == "*":
            segs.append(t.text)
            i += 1
            if i < n and toks[i].text == "::":
                i += 1
                continue
            if i + 1 < n and toks[i].text == "as" and toks[i + 1].kind == "ident":
                i += 2
            out.append(segs)
            return i
        if t.text == "{":
            end = matching(toks, i)
            i += 1
            while i < end:
                if toks[i].text == ",":
                    i += 1
                    continue
                i = _use_paths(toks, i, segs, out)
                while i < end and toks[i].text != ",":
                    i += 1
            return end + 1
        break
    if len(segs) > len(prefix) or segs:
        out.append(segs)
    return i


def analyse(text: str) -> FileInfo:
    toks = lex(text)
    n = len(toks)
    test_ranges: list[tuple[int, int]] = []  # token index ranges, inclusive
    test_children: list[str] = []
    i = 0
    while i < n:
        after = _is_cfg_test(toks, i)
        if after < 0:
            i += 1
            continue
        j = after
        while j < n and toks[j].text == "#" and j + 1 < n and toks[j + 1].text == "[":
            j = matching(toks, j + 1) + 1
        if j < n and toks[j].text == "pub":
            j += 1
            if j < n and toks[j].text == "(":
                j = matching(toks, j) + 1
        if j + 2 < n and toks[j].text == "mod" and toks[j + 1].kind == "ident":
            if toks[j + 2].text == "{":
                end = matching(toks, j + 2)
                test_ranges.append((i, end))
                i = end + 1
                continue
            if toks[j + 2].text == ";":
                test_children.append(toks[j + 1].text)
        i = after

    in_test = [False] * n
    for a, b in test_ranges:
        for k in range(a, b + 1):
            in_test[k] = True

    code = set()
    for k, t in enumerate(toks):
        if not in_test[k]:
            code.update(range(t.line, t.end + 1))

    fns: list[FnInfo] = []
    for k, t in enumerate(toks):
        if in_test[k] or t.text != "fn" or t.kind != "ident":
            continue
        if k + 1 >= n or toks[k + 1].kind != "ident":
            continue  # `fn(u8) -> u8`, a function pointer type
        depth = 0
        j = k + 2
        body = -1
        while j < n:
            x = toks[j]
            if x.kind == "punct":
                if x.text in "([":
                    depth += 1
                elif x.text in ")]":
                    depth -= 1
                elif x.text == ";" and depth == 0:
                    break
                elif x.text == "{" and depth == 0:
                    body = j
                    break
            j += 1
        if body < 0:
            continue
        end = matching(toks, body)
        lines = set()
        for x in toks[k : end + 1]:
            lines.update(range(x.line, x.end + 1))
        fns.append(FnInfo(toks[k + 1].text, t.line, len(lines)))

    refs: list[Ref] = []
    k = 0
    while k < n:
        t = toks[k]
        if (
            not in_test[k]
            and t.kind == "ident"
            and t.text in ("crate", "super", "self")
            and k + 1 < n
            and toks[k + 1].text == "::"
            and not (k > 0 and toks[k - 1].text in ("$", "::"))
        ):
            paths: list[list[str]] = []
            end = _use_paths(toks, k, [], paths)
            for p in paths:
                refs.append(Ref(p, t.line))
            k = max(end, k + 1)
            continue
        k += 1
    return FileInfo(len(code), fns, refs, test_children)


# ---------------------------------------------------------------- the tree


@dataclass
class Crate:
    name: str
    src: str  # the src directory, relative to the root
    modules: dict[tuple[str, ...], str] = field(default_factory=dict)  # module -> file
    test_files: set[str] = field(default_factory=set)


def module_of(rel: str) -> tuple[str, ...]:
    """Module path of a file relative to its `src` directory."""
    parts = rel[: -len(".rs")].split("/")
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def discover(root: str) -> list[Crate]:
    crates: list[Crate] = []
    srcs: list[tuple[str, str]] = []
    for parent in ("crates", "tools"):
        d = os.path.join(root, parent)
        if os.path.isdir(d):
            for name in sorted(os.listdir(d)):
                if os.path.isdir(os.path.join(d, name, "src")):
                    srcs.append((name, f"{parent}/{name}/src"))
    if os.path.isdir(os.path.join(root, "bench", "src")):
        srcs.append(("bench", "bench/src"))
    for name, src in srcs:
        crate = Crate(name, src)
        base = os.path.join(root, src)
        for dirpath, _dirs, files in os.walk(base):
            for f in sorted(files):
                if f.endswith(".rs"):
                    rel = os.path.relpath(os.path.join(dirpath, f), base).replace(os.sep, "/")
                    if rel.startswith("bin/") or (
                        rel == "main.rs" and os.path.exists(os.path.join(base, "lib.rs"))
                    ):
                        continue  # separate binaries: sizes still checked below
                    crate.modules[module_of(rel)] = f"{src}/{rel}"
        crates.append(crate)
    return crates


def bin_files(root: str, crate: Crate) -> list[str]:
    """The crate's binaries beside its library: src/bin/**, and src/main.rs
    when src/lib.rs exists (their `crate::` is another crate)."""
    base = os.path.join(root, crate.src, "bin")
    out = []
    src = os.path.join(root, crate.src)
    if os.path.exists(os.path.join(src, "main.rs")) and os.path.exists(os.path.join(src, "lib.rs")):
        out.append(f"{crate.src}/main.rs")
    if os.path.isdir(base):
        for dirpath, _dirs, files in os.walk(base):
            for f in sorted(files):
                if f.endswith(".rs"):
                    rel = os.path.relpath(os.path.join(dirpath, f), os.path.join(root, crate.src))
                    out.append(f"{crate.src}/{rel.replace(os.sep, '/')}")
    return out


# ---------------------------------------------------------------- checks


@dataclass
class Violation:
    key: str  # baseline identity without the measure
    measure: int | frozenset | None
    text: str  # file:line: message, how to fix

    def baseline_line(self) -> str:
        if isinstance(self.measure, frozenset):
            return f"{self.key} {{{','.join(sorted(self.measure))}}}"
        return f"{self.key} {self.measure}"


def resolve(crate: Crate, here: tuple[str, ...], path: list[str]) -> tuple[str, ...] | None:
    """The module a path points into, or None (another crate, a macro)."""
    if not path:
        return None
    if path[0] == "crate":
        base: tuple[str, ...] = ()
        rest = path[1:]
    elif path[0] == "self":
        base, rest = here, path[1:]
    elif path[0] == "super":
        base, rest = here, path
        while rest and rest[0] == "super":
            if not base:
                return None
            base, rest = base[:-1], rest[1:]
        if rest and rest[0] == "self":
            rest = rest[1:]
    else:
        return None
    for seg in rest:
        if base + (seg,) in crate.modules:
            base = base + (seg,)
        else:
            break
    return base


def lift(a: tuple[str, ...], b: tuple[str, ...]):
    """The edge between the siblings under a's and b's closest common
    ancestor, or None when one contains the other."""
    k = 0
    while k < len(a) and k < len(b) and a[k] == b[k]:
        k += 1
    if k == len(a) or k == len(b):
        return None
    return a[:k], a[k], b[k]


def find_cycle(nodes: set[str], edges: dict[str, dict[str, tuple[str, int]]]) -> list[str]:
    """One simple cycle through the strongly connected `nodes`."""
    start = min(nodes)
    prev = {start: None}
    queue = [start]
    while queue:
        x = queue.pop(0)
        for y in sorted(edges.get(x, {})):
            if y not in nodes:
                continue
            if y == start:
                path = [x]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                path.reverse()
                return path + [start]
            if y not in prev:
                prev[y] = x
                queue.append(y)
    return [start, start]


def sccs(nodes: list[str], edges: dict[str, dict[str, tuple[str, int]]]) -> list[set[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[set[str]] = []
    counter = [0]

    def visit(v: str):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, {})):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            out.append(comp)

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def read_allow(path: str | None) -> tuple[dict[str, str], list[str]]:
    allow: dict[str, str] = {}
    errors: list[str] = []
    if not path or not os.path.exists(path):
        return allow, errors
    with open(path, encoding="utf-8") as f:
        for no, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            if len(parts) < 2 or not parts[1].strip():
                errors.append(
                    f"{path}:{no}: allow-list entry `{parts[0]}` has no reason: write `PATH  REASON` (why the file is one data table)"
                )
                continue
            allow[parts[0]] = parts[1].strip()
    return allow, errors


def check(root: str, allow: dict[str, str], max_file=MAX_FILE_LINES, max_fn=MAX_FN_LINES):
    """All violations under `root`, plus notes (stale allow-list entries)."""
    violations: list[Violation] = []
    notes: list[str] = []
    seen_files: set[str] = set()
    for crate in discover(root):
        infos: dict[tuple[str, ...], FileInfo] = {}
        files = dict(crate.modules)
        # Files of `#[cfg(test)] mod NAME;` are test code: not measured.
        test_mods: set[tuple[str, ...]] = set()
        for mod, rel in sorted(files.items()):
            with open(os.path.join(root, rel), encoding="utf-8") as f:
                infos[mod] = analyse(f.read())
            for child in infos[mod].test_children:
                test_mods.add(mod + (child,))
        extra = {tuple(["<bin>", b]): b for b in bin_files(root, crate)}
        for key, rel in extra.items():
            with open(os.path.join(root, rel), encoding="utf-8") as f:
                infos[key] = analyse(f.read())
            files[key] = rel

        def is_test(mod):
            return any(mod[: len(t)] == t for t in test_mods)

        for mod, rel in sorted(files.items()):
            if is_test(mod):
                continue
            info = infos[mod]
            seen_files.add(rel)
            if info.code_lines > max_file:
                if rel in allow:
                    pass
                else:
                    violations.append(
                        Violation(
                            f"file {rel}",
                            info.code_lines,
                            f"{rel}:1: {info.code_lines} lines of code outside test modules (limit {max_file}). "
                            f"Fix: split it by concern into a folder module ({os.path.basename(rel)[:-3]}/mod.rs and one file per "
                            f"concern), move its tests to `#[cfg(test)] mod tests;` in a file of their own; a file that is one data "
                            f"table may be listed with a reason in scripts/shape_allow.txt.",
                        )
                    )
            elif rel in allow:
                notes.append(
                    f"{rel}: listed in the allow-list but has {info.code_lines} lines of code (limit {max_file}): remove its entry"
                )
            for fn in info.fns:
                if fn.code_lines > max_fn:
                    violations.append(
                        Violation(
                            f"fn {rel} {fn.name}",
                            fn.code_lines,
                            f"{rel}:{fn.line}: fn `{fn.name}` has {fn.code_lines} lines of code (limit {max_fn}). "
                            f"Fix: extract its steps into named functions (one per stage or per match arm group), "
                            f"or a table of handlers.",
                        )
                    )

        # Module graph, lifted to siblings.
        graph: dict[tuple[str, ...], dict[str, dict[str, tuple[str, int]]]] = {}
        for mod, info in infos.items():
            if mod[:1] == ("<bin>",) or is_test(mod):
                continue
            for r in info.refs:
                target = resolve(crate, mod, r.path)
                if target is None or is_test(target):
                    continue
                lifted = lift(mod, target)
                if lifted is None:
                    continue
                parent, a, b = lifted
                graph.setdefault(parent, {}).setdefault(a, {}).setdefault(
                    b, (files[mod], r.line)
                )
        for parent, edges in sorted(graph.items()):
            nodes = sorted(set(edges) | {b for e in edges.values() for b in e})
            for comp in sccs(nodes, edges):
                if len(comp) < 2:
                    continue
                cyc = find_cycle(comp, edges)
                where = crate.name + ("::" + "::".join(parent) if parent else "")
                lines = []
                for x, y in zip(cyc, cyc[1:]):
                    f, ln = edges[x][y]
                    lines.append(f"    {f}:{ln}: {x} uses {y}")
                first_file, first_line = edges[cyc[0]][cyc[1]]
                violations.append(
                    Violation(
                        f"circle {where}",
                        frozenset(comp),
                        f"{first_file}:{first_line}: module circle in {where}: {' -> '.join(cyc)}"
                        + (f" (all of {{{', '.join(sorted(comp))}}} are entangled)" if len(comp) > len(cyc) - 1 else "")
                        + "\n"
                        + "\n".join(lines)
                        + "\n    Fix: move what the modules share into a module of its own that none of them"
                        " imports back (types, options, codes), or pass it in as a parameter, so the"
                        " dependencies point one way.",
                    )
                )
    for rel in sorted(allow):
        if rel not in seen_files:
            notes.append(f"{rel}: listed in the allow-list but not a source file here: remove its entry")
    return violations, notes


# ---------------------------------------------------------------- baseline


def read_baseline(path: str) -> list[tuple[str, object, int]]:
    out = []
    with open(path, encoding="utf-8") as f:
        for no, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("circle "):
                m = re.match(r"(circle \S+) \{([^}]*)\}$", line)
                if not m:
                    raise SystemExit(f"{path}:{no}: cannot read `{line}`: write `circle CRATE {{A,B}}`")
                out.append((m.group(1), frozenset(m.group(2).split(",")), no))
            else:
                key, _, measure = line.rpartition(" ")
                if not key or not measure.isdigit():
                    raise SystemExit(
                        f"{path}:{no}: cannot read `{line}`: write `file PATH LINES` or `fn PATH NAME LINES`"
                    )
                out.append((key, int(measure), no))
    return out


def covered(v: Violation, base: list[tuple[str, object, int]]) -> tuple[bool, str | None]:
    """Whether a baseline entry covers `v`, and why not if one matched its key."""
    why = None
    for key, measure, no in base:
        if key != v.key:
            continue
        if isinstance(v.measure, frozenset):
            if v.measure <= measure:
                return True, None
            why = f"baseline line {no} lists {{{','.join(sorted(measure))}}}; the circle grew"
        else:
            if v.measure <= measure:
                return True, None
            why = f"baseline line {no} allows {measure}; it grew to {v.measure}"
    return False, why


def main(argv=None) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root", default=os.path.dirname(here))
    p.add_argument("--allow", default=None, help="allow-list (default: ROOT/scripts/shape_allow.txt)")
    p.add_argument("--baseline", default=None, help="known violations that pass (temporary)")
    p.add_argument("--quiet-known", action="store_true", help="do not print violations the baseline covers")
    p.add_argument("--write-baseline", default=None, help="write today's violations to this file")
    p.add_argument("--max-file-lines", type=int, default=MAX_FILE_LINES)
    p.add_argument("--max-fn-lines", type=int, default=MAX_FN_LINES)
    a = p.parse_args(argv)
    allow_path = a.allow or os.path.join(a.root, "scripts", "shape_allow.txt")
    allow, errors = read_allow(allow_path)
    violations, notes = check(a.root, allow, a.max_file_lines, a.max_fn_lines)
    if a.write_baseline:
        with open(a.write_baseline, "w", encoding="utf-8") as f:
            f.write(
                "# Known shape violations (scripts/shape_check.py --baseline): may only shrink.\n"
                "# Remove a line when its split lands; empty this file when issue 12 is done.\n"
            )
            for v in sorted(violations, key=lambda v: v.key):
                f.write(v.baseline_line() + "\n")
        print(f"wrote {len(violations)} entries to {a.write_baseline}")
        return 0
    base = read_baseline(a.baseline) if a.baseline else []
    new = 0
    used = set()
    for v in violations:
        ok, why = covered(v, base)
        used.update(no for key, _m, no in base if key == v.key)
        if ok:
            if not a.quiet_known:
                print("known (baseline): " + v.text)
        else:
            new += 1
            print("error: " + v.text + (f"\n    ({why})" if why else ""))
    for e in errors:
        new += 1
        print("error: " + e)
    for no_key in base:
        if no_key[2] not in used:
            print(f"note: baseline line {no_key[2]} (`{no_key[0]}`) matches nothing any more: remove it")
    for n in notes:
        print("note: " + n)
    print(
        f"shape check: {len(violations)} violation(s), {len(violations) - (new - len(errors))} known in the baseline, "
        f"{new} new (limits: {a.max_file_lines} lines of code per file, {a.max_fn_lines} per function, no module circle)"
    )
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main())
