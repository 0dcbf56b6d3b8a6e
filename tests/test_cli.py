"""The CLI, run in-process through main(argv)."""

import json

import pytest

from autometa import __version__
from autometa.cli import main


def test_version_and_help(capsys):
    assert main(["--version"]) == 0 and __version__ in capsys.readouterr().out
    assert main(["suggest", "--space"]) == 2 and "expected one argument" in capsys.readouterr().err
    assert main([]) == 0
    assert "metafeatures" in capsys.readouterr().out


def test_metafeatures_json_on_a_corpus_file(corpus_path, capsys):
    assert main(["metafeatures", str(corpus_path / "iris.tsv.gz"), "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["dataset"]["name"] == "iris" and payload["dataset"]["rows"] == 150
    assert payload["metafeatures"]["nr_class"] == 3


def test_metafeatures_table_on_a_csv(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n" + "\n".join(f"{i},{i % 3},{i % 2}" for i in range(30)))
    assert main(["metafeatures", str(path), "--target", "y", "--groups", "general"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Dataset('d', 30 x 2") and "nr_inst" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["metafeatures", "missing.csv", "--target", "y"], "No such file"),
        (["metafeatures", "data.xlsx", "--target", "y"], "Unknown file type"),
        (["corpus", "groups"], "No corpus given"),
    ],
)
def test_errors_are_one_line_and_nonzero(argv, message, capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("AUTOMETA_CORPUS", raising=False)
    (tmp_path / "data.xlsx").write_text("x")
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("autometa: error:") and message in err and "\n" not in err


def test_wrong_target_names_the_columns(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    assert main(["metafeatures", str(path), "--target", "label"]) == 2
    assert "Available columns: ['a', 'b']" in capsys.readouterr().err


def test_corpus_groups_and_table(corpus_path, capsys, tmp_path):
    assert main(["corpus", "groups", "--corpus", str(corpus_path), "--format", "json"]) == 0
    groups = json.loads(capsys.readouterr().out)
    assert any({"pima", "diabetes"} <= set(members) for members in groups.values())


def test_every_option_shows_its_choices_and_default():
    import argparse

    from autometa.cli import build_parser

    def walk(parser, path=()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from walk(sub, (*path, name))
            elif action.option_strings and action.help is not argparse.SUPPRESS:
                if not isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
                    yield path, action

    missing = []
    for path, action in walk(build_parser()):
        text = action.help or ""
        if action.default not in (None, False) and "default" not in text:
            missing.append(f"{' '.join(path)} {action.option_strings[0]}: no default in its help")
        if (
            action.choices is not None
            and action.metavar is not None
            and not all(str(c) in text for c in action.choices)
        ):
            missing.append(f"{' '.join(path)} {action.option_strings[0]}: choices hidden by its metavar")
    assert not missing, "\n".join(missing)
