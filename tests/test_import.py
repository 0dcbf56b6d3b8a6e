"""Importing the packages stays light: heavy dependencies load only when a feature needs them."""

import subprocess
import sys

HEAVY = ["torch", "optuna", "lightgbm", "openml", "sklearn", "dask", "flaml", "pymfe"]


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return {name.split(".")[0] for name in out.split()}


def test_import_autometa_is_light():
    assert not _loaded_after("import autometa") & set(HEAVY)


def test_import_metafeatures_is_light():
    assert not _loaded_after("import metafeatures") & set(HEAVY)


def test_public_functions_show_their_parameters():
    import inspect

    import autometa

    assert {"n", "space", "metamodel", "target"} <= set(inspect.signature(autometa.suggest).parameters)
    assert callable(autometa.tune) and "trials" in inspect.signature(autometa.tune).parameters
