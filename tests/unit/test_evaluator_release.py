"""The Evaluator lets go of the models TFMA loaded (issue 17): Beam's ``Shared`` keeps the last object it
handed out alive, and a SavedModel first collected at interpreter exit prints "Exception ignored"."""

from __future__ import annotations

import weakref

import pytest

pytestmark = pytest.mark.slow  # imports TFX's Evaluator executor (~20 s)


def test_the_last_shared_model_is_released() -> None:
    from apache_beam.utils import shared

    from components.evaluator import release_shared_models

    class Model:
        pass

    model = shared.Shared().acquire(Model)
    ref = weakref.ref(model)
    del model
    assert ref() is not None  # Beam's keep-alive slot holds it
    release_shared_models()
    assert ref() is None
