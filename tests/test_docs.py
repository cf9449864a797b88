"""Every relative link in the README and the deliverables points at a file that exists."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ["README.md", "livrables/README.md", "livrables/mediators_guide.md", "livrables/guide_mediateurs.md", "livrables/scaling.md"]
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")  # [text](target "title"), ![alt](target)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")


def relative_links(text: str) -> list[str]:
    text = INLINE_CODE.sub("", FENCE.sub("", text))
    targets = [t for t in LINK.findall(text) if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.I)]  # http:, mailto: ...
    return [t.split("#", 1)[0] for t in targets if t.split("#", 1)[0]]


def test_link_finder_reads_what_markdown_links():
    text = "see [a](x.md), ![b](img/p.png \"t\"), [c](https://e.org), [d](#top), [e](y.md#part)\n```\n[f](no.md)\n```\n`[g](no2.md)`"
    assert relative_links(text) == ["x.md", "img/p.png", "y.md"]


@pytest.mark.parametrize("doc", DOCS)
def test_relative_links_resolve(doc):
    path = ROOT / doc
    assert path.is_file(), f"{doc} is missing"
    links = relative_links(path.read_text(encoding="utf-8"))
    missing = [t for t in links if not (path.parent / t).exists()]
    assert not missing, f"{doc} links to files that do not exist: {missing}"


def test_the_deliverables_index_links_every_deliverable():
    links = set(relative_links((ROOT / "livrables/README.md").read_text(encoding="utf-8")))
    for target in ("../data/README.md", "legal.md", "comparison_report.md", "mediators_guide.md", "guide_mediateurs.md", "architecture.md", "scaling.md"):
        assert target in links, f"livrables/README.md does not link {target}"


# ---- the mediators' guide's commands exist, with the options it uses ----------------------------

GUIDE = ROOT / "livrables/mediators_guide.md"
COMMAND = re.compile(r"python -m ([\w.]+)((?: +(?:\"[^\"]*\"|[^\s#`|]+))*)")
SUBCOMMANDS = {  # module -> how many leading words name the command before its options
    "data": 1, "ariane": 1, "ariane.deploy": 1, "eval": 0,
    "finetune": 1,  # runs | promote | push; anything else is training
}


def guide_commands() -> list[tuple[str, list[str]]]:
    import shlex

    found = []
    for module, rest in COMMAND.findall(GUIDE.read_text(encoding="utf-8")):
        found.append((module, shlex.split(rest)))
    return found


def help_text(module: str, words: list[str], capsys) -> str:
    import importlib

    main = importlib.import_module(f"{module}.__main__" if module != "data" else "data.cli").main
    with pytest.raises(SystemExit) as exit_:
        main([*words, "--help"])
    assert exit_.value.code in (0, None), f"python -m {module} {' '.join(words)} --help failed"
    return capsys.readouterr().out


def test_the_guide_uses_commands_and_options_that_exist(capsys):
    from finetune.config import load_config

    commands = guide_commands()
    assert len(commands) >= 20
    for module, args in commands:
        assert module in SUBCOMMANDS, f"the guide runs `python -m {module}`, which is not a known entry point"
        n = SUBCOMMANDS[module]
        if module == "ariane" and args[:1] == ["feedback"]:
            n = 2
        if module == "finetune" and args[:1] not in (["runs"], ["promote"], ["push"]):
            assert not args or args[0].startswith("--"), f"`python -m finetune {args[0]}` is not a finetune command"
            n = 0
        words = [a for a in args[:n] if not a.startswith("-")]
        text = help_text(module, words, capsys)
        options = [a.split("=", 1)[0] for a in args[n:] if a.startswith("--")]
        if module == "finetune" and n == 0:  # training: --config, then config keys (--train.epochs ...)
            keys = [a for a in args if a.startswith("--") and a != "--config"]
            load_config(None, [x for k in keys for x in (k, args[args.index(k) + 1])])
            options = ["--config"] if "--config" in args else []
        for option in options:
            assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text), f"`python -m {module} {' '.join(words)}` has no option {option}"
