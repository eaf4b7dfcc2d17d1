"""Every ```python block of README.md runs, in order, in one namespace, so the README cannot
rot. Blocks marked ```python no-run (none at present) would be skipped."""
import os
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= 4


def test_readme_python_blocks_run(capsys):
    namespace: dict = {"__name__": "__readme__"}
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        for number, block in enumerate(BLOCKS, start=1):
            code = compile(block, f"README.md python block {number}", "exec")
            exec(code, namespace)  # noqa: S102 - running our own documentation
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "7.0" in out and "[7.]" in out  # the seed's two examples


def test_readme_setup_fit_command_runs(capsys):
    """The Set-up section's main job (after `pip install . &&`) runs through the CLI."""
    from mleopt.cli import main

    command = re.search(r"pip install \. && (mleopt fit [^\n`]*)", README)
    assert command, "README's Set-up must show `pip install . && mleopt fit ...`"
    argv = command.group(1).split()[1:]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Logit Regression Results" in out and "PID" in out


def test_readme_test_command_is_the_ci_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install -e ".[test]" && pytest' in README
    assert 'pip install -e ".[test]"' in ci and "pytest" in ci
