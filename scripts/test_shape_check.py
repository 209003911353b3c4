"""Tests of scripts/shape_check.py on small fixture trees (python3 -m unittest
scripts/test_shape_check.py, run by .ci/run)."""

import contextlib
import io
import os
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shape_check  # noqa: E402


def fn_of(name: str, body_lines: int) -> str:
    body = "".join(f"    let x{i} = {i};\n" for i in range(body_lines))
    return f"pub fn {name}() {{\n{body}}}\n"


class Tree:
    """A throwaway repository root with crates/NAME/src files."""

    def __init__(self):
        self._dir = tempfile.TemporaryDirectory()
        self.root = self._dir.name

    def write(self, rel: str, text: str):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(text))
        return path

    def run(self, *args) -> tuple[int, str]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = shape_check.main(["--root", self.root, *args])
        return code, out.getvalue()

    def close(self):
        self._dir.cleanup()


class ShapeCheck(unittest.TestCase):
    def setUp(self):
        self.t = Tree()
        self.t.write("crates/good/src/lib.rs", "mod a;\nmod b;\npub use a::A;\n")
        self.t.write("crates/good/src/a.rs", "use crate::b::B;\npub struct A(B);\n")
        self.t.write("crates/good/src/b.rs", "pub struct B;\n")

    def tearDown(self):
        self.t.close()

    def test_clean_tree_passes(self):
        code, out = self.t.run()
        self.assertEqual(code, 0, out)
        self.assertIn("0 violation(s)", out)

    def test_circle_is_reported_with_each_edge(self):
        self.t.write("crates/c/src/lib.rs", "mod sqlite;\nmod copy;\nmod append;\n")
        self.t.write("crates/c/src/sqlite.rs", "use crate::append::now;\npub fn f() { crate::copy::plan(); }\n")
        self.t.write("crates/c/src/copy.rs", "use crate::{types::*, append::{self, now}};\npub fn plan() {}\n")
        self.t.write("crates/c/src/append.rs", "use super::sqlite::Options;\npub fn now() {}\n")
        self.t.write("crates/c/src/types.rs", "pub struct T;\n")
        code, out = self.t.run()
        self.assertEqual(code, 1, out)
        self.assertIn("module circle in c: append -> sqlite -> append", out)
        self.assertIn("all of {append, copy, sqlite}", out)
        self.assertIn("crates/c/src/append.rs:1: append uses sqlite", out)
        self.assertIn("crates/c/src/sqlite.rs:1: sqlite uses append", out)
        self.assertIn("Fix: move what the modules share", out)

    def test_parent_child_references_are_no_circle_but_cousins_are(self):
        self.t.write("crates/p/src/lib.rs", "mod pg;\nmod codes;\n")
        self.t.write("crates/p/src/pg/mod.rs", "mod records;\nuse records::x;\npub struct Store;\n")
        self.t.write("crates/p/src/pg/records.rs", "use super::Store;\nuse crate::codes::c;\npub fn x() {}\n")
        self.t.write("crates/p/src/codes.rs", "pub fn c() {}\n#[cfg(test)]\nmod tests { use crate::pg::Store; }\n")
        code, out = self.t.run()
        self.assertEqual(code, 0, out)
        # codes -> pg::records lifts to codes -> pg, with pg -> codes: a circle.
        self.t.write("crates/p/src/codes.rs", "pub fn c() { let _ = crate::pg::records::x; }\n")
        code, out = self.t.run()
        self.assertEqual(code, 1, out)
        self.assertIn("module circle in p: codes -> pg -> codes", out)

    def test_long_function_is_reported_not_its_comments(self):
        text = "/// doc\n" + fn_of("short", 140) + "\n// a comment\n\n" + fn_of("long", 150)
        self.t.write("crates/good/src/b.rs", "pub struct B;\n" + text)
        code, out = self.t.run()
        self.assertEqual(code, 1, out)
        # `long`: signature, 150 body lines, closing brace.
        self.assertIn("crates/good/src/b.rs:148: fn `long` has 152 lines of code (limit 150)", out)
        self.assertNotIn("`short`", out)

    def test_long_file_counts_code_outside_tests_only(self):
        code_part = "".join(f"pub const C{i}: u32 = {i};\n\n// note\n" for i in range(790))
        tests = "#[cfg(test)]\nmod tests {\n" + "".join(f"    const T{i}: u8 = 0;\n" for i in range(500)) + "}\n"
        self.t.write("crates/good/src/b.rs", "pub struct B;\n" + code_part + tests)
        code, out = self.t.run()
        self.assertEqual(code, 0, out)
        extra = "".join(f"pub const D{i}: u32 = {i};\n" for i in range(10))
        self.t.write("crates/good/src/b.rs", "pub struct B;\n" + code_part + extra + tests)
        code, out = self.t.run()
        self.assertEqual(code, 1, out)
        self.assertIn("crates/good/src/b.rs:1: 801 lines of code outside test modules (limit 800)", out)

    def test_test_module_in_its_own_file_is_not_measured(self):
        self.t.write("crates/good/src/b.rs", "pub struct B;\n#[cfg(test)]\nmod tests;\n")
        self.t.write("crates/good/src/b/tests.rs", "use crate::a::A;\n" + fn_of("huge", 900))
        code, out = self.t.run()
        self.assertEqual(code, 0, out)

    def test_allow_listed_table_passes_and_needs_a_reason(self):
        table = "pub const TABLE: &[(&str, u32)] = &[\n" + "".join(f'    ("k{i}", {i}),\n' for i in range(900)) + "];\n"
        self.t.write("crates/good/src/vocab.rs", table)
        code, out = self.t.run()
        self.assertEqual(code, 1, out)
        self.assertIn("crates/good/src/vocab.rs:1: 902 lines of code", out)
        allow = self.t.write("allow.txt", "crates/good/src/vocab.rs  one table of the closed vocabulary\n")
        code, out = self.t.run("--allow", allow)
        self.assertEqual(code, 0, out)
        allow = self.t.write("allow.txt", "crates/good/src/vocab.rs\n")
        code, out = self.t.run("--allow", allow)
        self.assertEqual(code, 1, out)
        self.assertIn("has no reason", out)

    def test_baseline_passes_known_violations_and_only_shrinks(self):
        self.t.write("crates/good/src/b.rs", "pub struct B;\n" + fn_of("long", 160))
        base = os.path.join(self.t.root, "baseline.txt")
        code, out = self.t.run("--write-baseline", base)
        self.assertEqual(code, 0, out)
        with open(base, encoding="utf-8") as f:
            self.assertIn("fn crates/good/src/b.rs long 162\n", f.read())
        code, out = self.t.run("--baseline", base)
        self.assertEqual(code, 0, out)
        self.assertIn("known (baseline): crates/good/src/b.rs:2: fn `long`", out)
        # Growing past the entry fails; shrinking passes.
        self.t.write("crates/good/src/b.rs", "pub struct B;\n" + fn_of("long", 161))
        code, out = self.t.run("--baseline", base)
        self.assertEqual(code, 1, out)
        self.assertIn("allows 162; it grew to 163", out)
        self.t.write("crates/good/src/b.rs", "pub struct B;\n" + fn_of("long", 10))
        code, out = self.t.run("--baseline", base)
        self.assertEqual(code, 0, out)
        self.assertIn("matches nothing any more: remove it", out)

    def test_baseline_circle_may_lose_members_not_gain_them(self):
        self.t.write("crates/c/src/lib.rs", "mod a;\nmod b;\nmod d;\n")
        self.t.write("crates/c/src/a.rs", "use crate::b::B;\n")
        self.t.write("crates/c/src/b.rs", "use crate::a::A;\n")
        self.t.write("crates/c/src/d.rs", "pub struct D;\n")
        base = self.t.write("baseline.txt", "circle c {a,b,x}\n")
        code, out = self.t.run("--baseline", base)
        self.assertEqual(code, 0, out)
        self.t.write("crates/c/src/d.rs", "use crate::a::A;\n")
        self.t.write("crates/c/src/b.rs", "use crate::{a::A, d::D};\n")
        code, out = self.t.run("--baseline", base)
        self.assertEqual(code, 1, out)
        self.assertIn("the circle grew", out)

    def test_lexer_is_not_fooled_by_strings_chars_and_comments(self):
        src = textwrap.dedent(
            r'''
            pub fn f<'a>(s: &'a str) -> char {
                let _ = "use crate::x; { not a brace";
                let _ = r#"fn g() { "# ;
                let _ = b'"';
                let _ = '\\';
                /* fn h() { /* nested */ } */
                '{'
            }
            '''
        )
        info = shape_check.analyse(src)
        self.assertEqual([(f.name, f.code_lines) for f in info.fns], [("f", 7)])
        self.assertEqual(info.refs, [])
        self.assertEqual(info.code_lines, 7)


if __name__ == "__main__":
    unittest.main()
