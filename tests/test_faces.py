"""The lazy faces (``cube``, ``cube.topics``): one table of names, and the stub beside it says
the same to type checkers."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import cube
import cube.topics
from cube._public import lazy_face

LAZY_FACES = [cube, cube.topics]


def stub_names(face) -> tuple[dict[str, str], list[str]]:
    """What the face's ``__init__.pyi`` imports (name -> module) and lists in ``__all__``."""
    tree = ast.parse(Path(face.__file__).with_suffix(".pyi").read_text(encoding="utf-8"))
    imported: dict[str, str] = {}
    listed: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                imported[alias.asname or alias.name] = node.module
        elif isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "__all__":
            listed = ast.literal_eval(node.value)
    return imported, listed


@pytest.mark.parametrize("face", LAZY_FACES, ids=lambda face: face.__name__)
def test_the_stub_names_what_the_face_exports_from_where_it_lives(face):
    imported, listed = stub_names(face)
    assert sorted(listed) == sorted(face.__all__), "__init__.pyi's __all__ is not the face's"
    assert sorted(imported) == sorted(face.__all__), "__init__.pyi imports other names"
    for module, names in face._PUBLIC.items():
        home = importlib.util.resolve_name(module, face.__name__)
        for name in names:
            assert imported[name] == home, f"{name}: the stub says {imported[name]}, not {home}"


def test_a_lazy_name_loads_on_use_and_says_its_face():
    assert cube.topics.TopicSettings.__module__ == "cube.topics"  # help() shows the face
    assert cube.topics.reduce is cube.reduce  # taken from another face: keeps its home
    assert cube.reduce.__module__ == "cube"
    assert "TopicSettings" in vars(cube.topics)  # kept once loaded
    assert {"fit", "evaluate", "reduce"} <= set(dir(cube.topics))
    assert {"embed", "topics", "get_config"} <= set(dir(cube))
    with pytest.raises(AttributeError, match=r"module 'cube\.topics' has no attribute 'fitt'"):
        cube.topics.fitt  # noqa: B018


def test_a_name_listed_under_two_modules_is_refused():
    with pytest.raises(ValueError, match=r"'fit' is listed under \._model and \._other"):
        lazy_face({"__name__": "face"}, {"._model": ("fit",), "._other": ("fit",)})


@pytest.mark.slow  # imports BERTopic, scikit-learn and plotly in a fresh interpreter
def test_every_name_of_every_lazy_face_loads():
    code = (
        "import cube, cube.topics\n"
        "for face in (cube, cube.topics):\n"
        "    for name in face.__all__:\n"
        "        getattr(face, name)\n"
        "print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr[-3000:]
