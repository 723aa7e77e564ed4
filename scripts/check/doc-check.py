#!/usr/bin/python3
"""Check what the docs say of the series against the series itself.

    doc-check.py TREE PATCHDIR FILE...

TREE holds the series as commits on its base tag (build/linux, or the
gates' fresh tree), in the order of PATCHDIR/series. In each FILE:

  - a patch number ("patch 13", "patches 5-15") must be one the series has;
  - a number paired with a subject (a README-style table row
    "| 13 | core | subject |", 'patch 13 ("subject")', '"subject" (patch 13)')
    must be that patch's subject, and part where the row names one;
  - a part and its range ("core (5-15)", "Hardening, patches 16-21") must be
    the part's range in PATCHDIR/series, and a patch named with its part
    ("patch 16, hardening") must be in it;
  - a case count of a selftest program ("sbi_system_suspend_test: 20 cases",
    "the hardening test 7/7", "4 cases at patch 19, 7 from patch 21 on")
    must be the number of TEST()/TEST_F() cases of that program at that
    patch: the one the count names, else the patch of the table row or
    numbered item it is in, else the core's last patch for "core's", else
    the whole series.

Each finding is printed as FILE:LINE: what; the exit status is 1 if there
is any.
"""
import re
import subprocess
import sys

SELFTESTS = "tools/testing/selftests/kvm/riscv/"
PROGRAM = re.compile(r"\b(sbi_system_suspend_[a-z_]+|ABI test|hardening test)\b")
ALIASES = {"ABI test": "sbi_system_suspend_test",
           "hardening test": "sbi_system_suspend_hardening_test"}
PARTS = ("fixes", "core", "hardening")
QUOTE = r'["\u201c]([^"\u201d\n]+)["\u201d]'


def git(tree, *args):
    return subprocess.run(["git", "-C", tree, *args], check=True,
                          capture_output=True, text=True).stdout


def read_series(patchdir):
    parts, part = [], None
    with open(f"{patchdir}/series") as f:
        for line in f:
            line = line.strip()
            if line.startswith("# "):
                part = line[2:]
            elif line:
                parts.append(part)
    return parts


class Series:
    def __init__(self, tree, patchdir):
        self.tree = tree
        self.commits = git(tree, "rev-list", "--reverse", "base..HEAD").split()
        self.subjects = [git(tree, "log", "-1", "--format=%s", c).strip()
                         for c in self.commits]
        self.parts = read_series(patchdir)
        if len(self.parts) != len(self.commits):
            sys.exit(f"doc-check: {patchdir}/series has {len(self.parts)} "
                     f"patches, {tree} {len(self.commits)} commits")
        self.ranges = {}
        for n, part in enumerate(self.parts, 1):
            first, _ = self.ranges.get(part, (n, n))
            self.ranges[part] = (first, n)
        self.counts = {}

    def cases(self, program, patch):
        """TEST()/TEST_F() cases of PROGRAM at PATCH (None: not there)."""
        key = (program, patch)
        if key not in self.counts:
            src = subprocess.run(
                ["git", "-C", self.tree, "show",
                 f"{self.commits[patch - 1]}:{SELFTESTS}{program}.c"],
                capture_output=True, text=True)
            self.counts[key] = (len(re.findall(r"^TEST(?:_F)?\(", src.stdout, re.M))
                                if src.returncode == 0 else None)
        return self.counts[key]


def is_subject(text):
    """Whether TEXT reads as a kernel subject: "subsystem: [...: ]summary"."""
    return re.match(r"[\w/.-]+: \S", text.strip()) is not None


def check_text(series, text, report):
    """REPORT(pos, message) for each finding in TEXT."""
    total = len(series.commits)

    def number(pos, n):
        n = int(n)
        if not 1 <= n <= total:
            report(pos, f"patch {n}: the series has {total}")
            return None
        return n

    def same_subject(pos, n, subject):
        n = number(pos, n)
        subject = " ".join(subject.split())
        if n and subject != series.subjects[n - 1]:
            report(pos, f"patch {n} is \"{series.subjects[n - 1]}\", not \"{subject}\"")
        return n

    # Across line breaks: a subject may wrap
    flat = text.replace("\n", " ")
    for m in re.finditer(r"\b[Pp]atch (\d+)(?: of the series)?\s*(?:[(,:]?\s*" + QUOTE +
                         r"|\(([^()]+: [^()]+)\))", flat):
        subject = m.group(2) or m.group(3)
        if is_subject(subject):
            same_subject(m.start(), m.group(1), subject)
    for m in re.finditer(QUOTE + r"\s*\(patch (\d+)\b", flat):
        if is_subject(m.group(1)):
            same_subject(m.start(), m.group(2), m.group(1))
    for m in re.finditer(r"\b[Pp]atch (\d+)\b|\b[Pp]atches ((?:\d+(?:-\d+)?(?:, | and | or )?)+)",
                         flat):
        for n in re.findall(r"\d+", m.group(1) or m.group(2)):
            number(m.start(), n)
    for m in re.finditer(r"\b[Pp]atch (\d+)(?:,| \(| is in the)? (fixes|core|hardening)\b", flat):
        n = number(m.start(), m.group(1))
        if n and series.parts[n - 1] != m.group(2):
            report(m.start(), f"patch {n} is in the {series.parts[n - 1]} part, not {m.group(2)}")
    for m in re.finditer(r"\b(fixes|core|hardening)\b,? (?:\(|patches |part \(|part, patches )"
                         r"(\d+)-(\d+)\b", flat, re.I):
        part = m.group(1).lower()
        want = series.ranges.get(part)
        have = (int(m.group(2)), int(m.group(3)))
        if want and have != want:
            report(m.start(), f"the {part} part is patches {want[0]}-{want[1]}, "
                              f"not {have[0]}-{have[1]}")

    # Per line: table rows, numbered items and the case counts in them
    count = re.compile(r"\b(\d+)(?:/\d+)? cases(?:\s+(?:at|from) patch (\d+))?"
                       r"|\b(\d+) (?:at|from) patch (\d+)\b")
    offset = 0
    for line in text.split("\n"):
        def bad(msg, pos=offset):
            report(pos, msg)

        where = None    # the patch a table row or numbered item is about
        row = re.match(r"\|\s*(\d+)\s*\|\s*(?:(fixes|core|hardening)\s*\|\s*)?([^|]+?)\s*\|",
                       line)
        if row and is_subject(row.group(3)):
            where = same_subject(offset, row.group(1), row.group(3))
            if where and row.group(2) and row.group(2) != series.parts[where - 1]:
                bad(f"patch {where} is in the {series.parts[where - 1]} part, "
                    f"not {row.group(2)}")
        item = re.match(r"\s*(\d+)\. ", line)
        if item and int(item.group(1)) <= total:
            where = int(item.group(1))

        programs = [(m.start(), ALIASES.get(m.group(1), m.group(1)))
                    for m in PROGRAM.finditer(line)]
        for m in count.finditer(line):
            before = [p for pos, p in programs if pos < m.start()]
            if not before:
                continue
            program = before[-1]
            n = int(m.group(1) or m.group(3))
            at = m.group(2) or m.group(4)
            if at:
                patch = number(offset, at)
            elif where:
                patch = where
            elif re.search(r"\bcore(?:'s| part's)\b", line[:m.start()]):
                patch = series.ranges["core"][1]
            else:
                patch = total
            if not patch:
                continue
            have = series.cases(program, patch)
            if have is None:
                bad(f"{program} does not exist at patch {patch}")
            elif have != n:
                bad(f"{program} has {have} cases at patch {patch}, not {n}")
        offset += len(line) + 1


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    series = Series(sys.argv[1], sys.argv[2])
    status = 0
    for path in sys.argv[3:]:
        with open(path, errors="replace") as f:
            text = f.read()
        findings = []
        check_text(series, text,
                   lambda pos, msg: findings.append((text.count("\n", 0, pos) + 1, msg)))
        for lineno, msg in sorted(set(findings)):
            print(f"{path}:{lineno}: {msg}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
