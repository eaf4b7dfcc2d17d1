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
