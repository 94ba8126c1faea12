"""The docs agree with the one `make bench` run they cite (docs/bench-output.txt).

A figure quoted from the bench sits between `<!-- bench -->` markers (docs/performance.md's
generated block) or `<!-- bench figures -->` and `<!-- /bench figures -->` (anywhere in README.md
or docs/). Every number inside must be one the bench output holds: a figure edited by hand, or
left over from an earlier run, fails here. The README stays short enough to read (250 lines).
"""
import pathlib
import re
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "docs" / "bench-output.txt"
SPANS = re.compile(r"<!-- bench -->(.*?)<!-- bench -->|<!-- bench figures -->(.*?)<!-- /bench figures -->", re.S)
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def numbers(text):
    """Every number of `text`, thousands separators dropped ("18,220" is 18220)."""
    return {n.replace(",", "").rstrip(".") for n in NUMBER.findall(text)}


def cited_spans():
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for match in SPANS.finditer(path.read_text(encoding="utf-8")):
            yield path.relative_to(ROOT), match.group(1) or match.group(2) or ""


class DocFigures(unittest.TestCase):
    def test_every_cited_figure_is_in_the_bench_output(self):
        held = numbers(OUTPUT.read_text(encoding="utf-8"))
        spans = list(cited_spans())
        self.assertTrue(any(path.name == "performance.md" for path, _ in spans), "no bench block")
        for path, span in spans:
            # The figure's own context: markers hold prose too, whose small counts ("4 instances")
            # the output holds as well.
            stray = sorted(numbers(span) - held)
            self.assertEqual(stray, [], f"{path}: figures not in {OUTPUT.name}: {stray}")

    def test_a_missed_goal_is_marked(self):
        block = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8").split("<!-- bench -->")[1]
        for row in block.splitlines():
            cells = [c.strip() for c in row.strip("|").split("|")]
            if len(cells) != 4 or not cells[1].startswith("≤"):
                continue
            goal = float(re.search(r"[\d.]+", cells[1]).group(0))
            figures = [float(f) for f in re.findall(r"([\d.]+) (?:ms|MB)", cells[2].split(" zipped")[0])]
            worst = max(figures or [float(re.match(r"[\d.]+", cells[2]).group(0))])
            self.assertEqual(cells[3], "yes" if worst <= goal else "**missed**", row)

    def test_the_readme_is_short(self):
        lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
        self.assertLessEqual(lines, 250)


if __name__ == "__main__":
    unittest.main()
