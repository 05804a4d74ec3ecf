"""README's flag tables against `wsgihost --help`: both come from server/core/config.c's
options table (--help directly, README by hand), so a flag added, renamed or given another
default shows up here until README says the same."""

import re
import subprocess

from conftest import REPO, binary, child_env

# gunicorn's flags that wsgihost only warns about or refuses: README's "Moving from gunicorn"
# table lists them, not the flag tables.
GUNICORN_ONLY = re.compile(r"^(refused|gunicorn's; ignored)")


def help_flags():
    """{flag: (help text, default or None)} from --help."""
    out = subprocess.run([binary(), "--help"], capture_output=True, text=True, timeout=30,
                         env=child_env(), check=True).stdout
    flags = {}
    for line in out.splitlines():
        m = re.match(r"^  (\S.*?)\s{2,}(.*)$", line)
        if not m or not m.group(1).startswith("-"):
            continue
        names = re.findall(r"--([\w-]+)", m.group(1))
        text = m.group(2)
        default = re.search(r"\[default: (.*)\]$", text)
        flags[names[-1]] = (text, default.group(1) if default else None)
    return flags


def readme_rows():
    """{flag: row cells} for every flag table row outside "Moving from gunicorn"."""
    rows, section = {}, ""
    for line in (REPO / "README.md").read_text().splitlines():
        if line.startswith("## "):
            section = line
        if "Moving from gunicorn" in section or not line.startswith("| `-"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        names = re.findall(r"`(?:-\w, )?--([\w-]+)", cells[0]) or re.findall(r"--([\w-]+)",
                                                                               cells[0])
        rows[names[0]] = cells
    return rows


def test_every_flag_in_help_has_a_readme_row_and_back():
    helped = {name for name, (text, _) in help_flags().items() if not GUNICORN_ONLY.match(text)}
    helped -= {"help", "version"}  # README's Usage says how to get them
    documented = set(readme_rows())
    assert helped - documented == set(), "flags in --help without a README row"
    assert documented - helped == set(), "README rows for flags --help does not have"


def test_readme_defaults_match_help():
    rows, flags = readme_rows(), help_flags()
    wrong = {}
    for name, (_, default) in flags.items():
        cells = rows.get(name)
        if default is None or cells is None or len(cells) < 3:
            continue
        if default.strip("`") not in cells[1].replace("`", ""):
            wrong[name] = (default, cells[1])
    assert not wrong, "README default differs from --help: %r" % wrong
