#!/usr/bin/env python3
"""Layout guardrails that CI checks: every Rust source file under 700 lines, and no import
cycle between the modules of any crate.

A module is a source file (`src/api/alerts.rs` is `api::alerts`, `src/api/mod.rs` is `api`).
An edge a -> b is a path in a's code that names an item of b: `crate::b::...`, `super::...`,
`self::child::...`, or a child module named directly (`use peers::Peers`). `mod x;`
declarations and re-exports (`pub use`, a module's facade) are not edges. Exits 1 naming each problem.
"""
import re
import sys
from pathlib import Path

MAX_LINES = 700
ROOT = Path(__file__).resolve().parent.parent


def module_of(src: Path, f: Path) -> tuple:
    parts = list(f.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def strip_comments(text: str) -> str:
    # Unit tests (an inline `#[cfg(test)] mod tests` at the end of a file) may use anything.
    text = re.split(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", text)[0]
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//", 1)[0] for line in text.splitlines())


PATH = re.compile(r"\b((?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+|[a-z_][a-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)+)")
USE_GROUP = re.compile(r"\buse\s+([^;]+);", re.S)


def expand_use(tree: str):
    """`a::{b, c::{d, e}}` -> a::b, a::c::d, a::c::e (enough for module resolution)."""
    tree = re.sub(r"\s+as\s+\w+", "", tree)
    tree = re.sub(r"\s+", "", tree)
    out = []

    def walk(prefix, t):
        if "{" not in t:
            for piece in t.split(","):
                if piece:
                    out.append(prefix + piece)
            return
        i = t.index("{")
        head, body = t[:i], t[i + 1 : t.rindex("}")]
        depth, cur, items = 0, "", []
        for ch in body:
            if ch == "," and depth == 0:
                items.append(cur)
                cur = ""
                continue
            depth += ch == "{"
            depth -= ch == "}"
            cur += ch
        items.append(cur)
        for it in items:
            if it:
                walk(prefix + head, it)

    walk("", tree)
    return out


def resolve(path: str, here: tuple, modules: set):
    segs = path.split("::")
    if segs[0] == "crate":
        base, rest = (), segs[1:]
    elif segs[0] in ("super", "self"):
        base = here
        rest = segs
        while rest and rest[0] in ("super", "self"):
            if rest[0] == "super":
                base = base[:-1]
            rest = rest[1:]
    elif here + (segs[0],) in modules:
        base, rest = here, segs
    else:
        return None  # another crate, std, or a local item
    best = base
    for i in range(1, len(rest) + 1):
        cand = base + tuple(rest[:i])
        if cand in modules:
            best = cand
        else:
            break
    return best


def check_crate(crate: Path, problems: list):
    src = crate / "src"
    files = sorted(src.rglob("*.rs"))
    modules = {module_of(src, f) for f in files}
    edges = {m: set() for m in modules}
    for f in files:
        here = module_of(src, f)
        text = strip_comments(f.read_text())
        paths = []
        for m in USE_GROUP.finditer(text):
            if re.search(r"\bpub(\([^)]*\))?\s*$", text[: m.start()]):
                continue  # a re-export (a module's facade) is not a dependency of its code
            paths += expand_use(m.group(1))
        body = USE_GROUP.sub("", text)
        paths += PATH.findall(body)
        for p in paths:
            to = resolve(p, here, modules)
            if to is not None and to != here and to != ():
                edges[here].add(to)
    # Tarjan's strongly connected components.
    index, low, stack, on, sccs, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(comp)

    sys.setrecursionlimit(10000)
    for v in sorted(modules):
        if v not in index:
            visit(v)
    name = lambda m: "::".join(m) or "crate"
    for comp in sccs:
        members = sorted(comp)
        detail = "; ".join(
            f"{name(a)} -> {name(b)}" for a in members for b in sorted(edges[a]) if b in comp
        )
        problems.append(f"{crate.name}: import cycle between {', '.join(map(name, members))} ({detail})")
    for f in files:
        lines = len(f.read_text().splitlines())
        if lines >= MAX_LINES:
            problems.append(f"{f.relative_to(ROOT)}: {lines} lines (the bar is under {MAX_LINES})")


def main():
    problems = []
    crates = sorted(p for p in (ROOT / "crates").iterdir() if (p / "src").is_dir())
    for c in crates:
        check_crate(c, problems)
    for p in problems:
        print(f"check_layout: {p}")
    if problems:
        sys.exit(1)
    print(f"check_layout: {len(crates)} crates, no import cycle, every source file under {MAX_LINES} lines")


if __name__ == "__main__":
    main()
