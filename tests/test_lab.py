"""`cube lab`: working copies of the notebooks, `--reset`, and a JupyterLab on localhost."""

from __future__ import annotations

import json
import os
import stat

import pytest

from cube import InputError
from cube.cli import main
from cube.notebook import _lab


def _write_kit(source, names=("01-a.ipynb", "02-b.ipynb", "03-c.ipynb")):
    source.mkdir(parents=True)
    for name in names:
        (source / name).write_text(json.dumps({"cells": [], "original": name}))


@pytest.fixture
def read_only_kit(tmp_path, monkeypatch):
    source = tmp_path / "store" / "notebooks"
    _write_kit(source, ("01-a.ipynb", "02-b.ipynb"))
    for path in source.iterdir():
        path.chmod(stat.S_IRUSR | stat.S_IRGRP)
    source.chmod(stat.S_IRUSR | stat.S_IXUSR)
    monkeypatch.setattr(_lab, "kit_notebooks_dir", lambda: source)
    monkeypatch.setattr(
        os, "access", lambda path, mode: mode != os.W_OK or "store" not in str(path)
    )
    yield source
    source.chmod(stat.S_IRWXU)


@pytest.fixture
def kit(tmp_path, monkeypatch):
    """A writable kit, as in a git checkout; the learner works in tmp_path."""
    source = tmp_path / "checkout" / "notebooks"
    _write_kit(source)
    monkeypatch.setattr(_lab, "kit_notebooks_dir", lambda: source)
    monkeypatch.chdir(tmp_path)
    return source


def test_read_only_notebooks_are_copied_once(read_only_kit, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root, copied = _lab.prepare_workdir()
    assert root == _lab.DEFAULT_WORKDIR
    assert [p.name for p in copied] == ["01-a.ipynb", "02-b.ipynb"]
    edited = root / "01-a.ipynb"
    edited.write_text("my edits")  # the copy is writable
    root_again, copied_again = _lab.prepare_workdir()
    assert root_again == root and copied_again == []
    assert edited.read_text() == "my edits"


def test_a_writable_checkout_gets_working_copies_too(kit):
    originals = {p.name: p.read_bytes() for p in kit.iterdir()}
    root, copied = _lab.prepare_workdir()
    assert root == _lab.DEFAULT_WORKDIR and root.resolve() != kit.resolve()
    assert sorted(p.name for p in copied) == sorted(originals)
    (root / "02-b.ipynb").write_text("saved by a learner")
    assert _lab.prepare_workdir()[1] == []  # a learner's copy is never overwritten
    assert (root / "02-b.ipynb").read_text() == "saved by a learner"
    assert {p.name: p.read_bytes() for p in kit.iterdir()} == originals
    with pytest.raises(InputError, match="course's own notebooks"):
        _lab.prepare_workdir(kit)


def test_the_real_kit_is_never_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root, copied = _lab.prepare_workdir()
    assert root.resolve() == (tmp_path / "cube-notebooks").resolve()
    assert {p.name for p in copied} >= {p.name for p in _lab.kit_notebooks_dir().glob("0*.ipynb")}


@pytest.mark.parametrize("name", ["03", "3", "03-c", "03-c.ipynb", "03-"])
def test_find_notebook_by_number_or_name(kit, name):
    assert _lab.find_notebook(name) == kit / "03-c.ipynb"


def test_reset_restores_one_notebook_and_keeps_the_learners(kit, capsys):
    root, _ = _lab.prepare_workdir()
    (root / "03-c.ipynb").write_text("my answers")
    (root / "01-a.ipynb").write_text("untouched by a reset of 03")

    assert main(["lab", "--reset", "03"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "reset cube-notebooks/03-c.ipynb to the original" in out
    assert "03-c.before-reset.ipynb" in out
    assert (root / "03-c.ipynb").read_bytes() == (kit / "03-c.ipynb").read_bytes()
    assert (root / "03-c.before-reset.ipynb").read_text() == "my answers"
    assert (root / "01-a.ipynb").read_text() == "untouched by a reset of 03"

    assert main(["lab", "--reset", "3"]) == 0  # already the original: nothing changes
    assert "already the original" in capsys.readouterr().out
    assert (root / "03-c.before-reset.ipynb").read_text() == "my answers"


def test_reset_into_a_named_folder_copies_a_missing_notebook(kit, tmp_path, capsys):
    assert main(["lab", str(tmp_path / "mine"), "--reset", "02-b"]) == 0
    assert "copied the original 02-b.ipynb into" in capsys.readouterr().out
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["02-b.ipynb"]


def test_reset_of_an_unknown_notebook_lists_them(kit, capsys):
    assert main(["lab", "--reset", "09"]) == 2
    err = capsys.readouterr().err
    assert err == "cube: error: no notebook '09'; the notebooks are: 01-a, 02-b, 03-c\n"
    assert not _lab.DEFAULT_WORKDIR.exists()


def test_reset_of_an_ambiguous_name_says_which(kit, capsys):
    (kit / "03-d.ipynb").write_text("{}")
    assert main(["lab", "--reset", "03"]) == 2
    assert "could mean several notebooks: 03-c, 03-d" in capsys.readouterr().err


def test_lab_help_ends_with_examples(capsys):
    with pytest.raises(SystemExit):
        main(["lab", "--help"])
    tail = capsys.readouterr().out.split("examples:")[-1]
    assert tail.count("  cube lab") == 3 and "cube lab --reset 03" in tail


def test_lab_listens_on_localhost_with_a_token(tmp_path, monkeypatch):
    command = _lab.lab_command(tmp_path, port=8899, open_browser=False)
    assert "--ServerApp.ip=127.0.0.1" in command and "--ServerApp.port=8899" in command
    assert not [a for a in command if "token" in a.lower() or "password" in a.lower()]
    monkeypatch.setenv("JUPYTER_TOKEN", "")
    assert "JUPYTER_TOKEN" not in _lab.lab_environment()


def _notebook_with_a_solution(path):
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": "**1.** Add one and one."},
        {"cell_type": "code", "metadata": {}, "source": "# your answer here", "outputs": [],
         "execution_count": None},
        {"cell_type": "code", "metadata": {"tags": ["solution"]}, "source": "print('the-solution-' + 'ran')",
         "outputs": [], "execution_count": None},
    ]  # fmt: skip
    for number, cell in enumerate(cells):  # nbformat 4.5 cells have ids
        cell["id"] = f"cell-{number}"
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb))


def test_learners_get_no_solutions_and_the_solutions_sit_beside(kit):
    _notebook_with_a_solution(kit / "04-d.ipynb")
    root, _ = _lab.prepare_workdir()
    learner = json.loads((root / "04-d.ipynb").read_text())
    assert [c["source"] for c in learner["cells"]] == [
        "**1.** Add one and one.",
        "# your answer here",
    ]
    solutions = json.loads((root / "solutions" / "04-d.ipynb").read_text())
    assert "print('the-solution-' + 'ran')" in [c["source"] for c in solutions["cells"]]
    assert not (root / "solutions" / "01-a.ipynb").exists()  # nothing to show there
    (root / "04-d.ipynb").write_text("my answers")
    assert "reset" in _lab.reset_notebook("04")
    assert json.loads((root / "04-d.ipynb").read_text()) == learner  # the learner's version


@pytest.mark.slow
def test_handouts_hold_no_solution_and_the_instructors_version_runs_them(tmp_path):
    from cube.notebook import render

    source = tmp_path / "05-e.ipynb"
    _notebook_with_a_solution(source)
    (page,), failures = render([source], tmp_path / "out", verbose=False)
    assert not failures and "the-solution-" not in page.read_text()  # neither code nor output
    (instructor,), failures = render([source], tmp_path / "out", verbose=False, solutions=True)
    assert not failures and instructor.name == "05-e.solutions.html"
    assert "the-solution-ran" in instructor.read_text()


def test_lab_answers_the_news_question_for_the_learner(tmp_path, monkeypatch):
    """JupyterLab asks about its news feed in a toast until its `fetchNews` setting is answered;
    the server cube lab starts reads "Never" (and no update checks) as the settings' default,
    read here the way jupyterlab_server reads it, and checked against JupyterLab's own schema."""
    from pathlib import Path

    import jupyterlab
    from jupyterlab_server.settings_utils import _get_overrides

    theirs = str(tmp_path / "their-config")
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", theirs)  # a path the user set is kept, after
    env = _lab.lab_environment()
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep) == [str(_lab.LAB_CONFIG_DIR), theirs]

    monkeypatch.setenv("JUPYTER_CONFIG_PATH", env["JUPYTER_CONFIG_PATH"])
    overrides, error = _get_overrides(str(tmp_path / "app-settings"))
    assert not error
    answered = overrides[_lab.NEWS_SETTINGS_ID]
    assert answered == {"fetchNews": "false", "checkForUpdates": False}

    schemas = Path(jupyterlab.__file__).parent / "schemas"
    plugin, name = _lab.NEWS_SETTINGS_ID.split(":")
    schema = json.loads((schemas / plugin / f"{name}.json").read_text(encoding="utf-8"))
    fetch_news = schema["properties"]["fetchNews"]
    if "oneOf" in fetch_news:  # JupyterLab 4.3 and later name each choice
        never = [c["const"] for c in fetch_news["oneOf"] if c["title"] == "Never"]
    else:  # 4.2 lists the values
        never = [v for v in fetch_news["enum"] if v == "false"]
    assert never == [answered["fetchNews"]]
    assert schema["properties"]["checkForUpdates"]["type"] == "boolean"

    # Without cube's folder on the path the default is "none": JupyterLab asks.
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", theirs)
    assert _lab.NEWS_SETTINGS_ID not in _get_overrides(str(tmp_path / "app-settings"))[0]
    assert schema["properties"]["fetchNews"]["default"] == "none"


def test_reset_finds_an_episode_by_its_number_and_letter(tmp_path, monkeypatch, capsys):
    """Notebooks 2 and 4 are two episodes each (02a, 02b): `--reset 02a` and `2a` find one,
    `02` names both and asks for more."""
    source = tmp_path / "checkout" / "notebooks"
    _write_kit(source, ("01-a.ipynb", "02a-b.ipynb", "02b-c.ipynb", "03-d.ipynb"))
    monkeypatch.setattr(_lab, "kit_notebooks_dir", lambda: source)
    monkeypatch.chdir(tmp_path)
    assert main(["lab", "--reset", "02a"]) == 0
    assert "copied the original 02a-b.ipynb into" in capsys.readouterr().out
    assert main(["lab", "--reset", "2b"]) == 0
    assert "copied the original 02b-c.ipynb into" in capsys.readouterr().out
    assert main(["lab", "--reset", "3"]) == 0
    assert "copied the original 03-d.ipynb into" in capsys.readouterr().out
    assert main(["lab", "--reset", "02"]) == 2
    assert capsys.readouterr().err == (
        "cube: error: '02' could mean several notebooks: 02a-b, 02b-c; give more of its name\n"
    )
