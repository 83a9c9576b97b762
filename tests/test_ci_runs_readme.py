"""CI runs README's quick-start commands exactly as README writes them."""

import re

from snippets import README, ROOT


def readme_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    quick = text[text.index("## Quick start"):]
    quick = quick[:quick.index("\n## ", 5)]
    return re.findall(r"```bash\n\s*(python3 -m venv \.venv &&[^\n]*)\n\s*```", quick)


def test_ci_runs_both_quick_start_commands_verbatim():
    commands = readme_commands()
    assert len(commands) == 2 and "unafraid mnist" in commands[0] and "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    for command in commands:
        assert command.strip() in ci, command
    assert ci.index(commands[0].strip()) < ci.index(commands[1].strip())
