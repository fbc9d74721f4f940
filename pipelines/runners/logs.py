"""Keeping the console readable: TensorFlow, TFDV and Beam log to stderr on their own."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Iterator

from components import filesystem as fs

__all__ = ["quiet_libraries", "quiet_tensorflow_startup", "stderr_to"]


def quiet_libraries(verbose: bool = False) -> None:
    """Silence library warnings on the console unless ``verbose``; call before importing TensorFlow."""
    if verbose:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("apache_beam").setLevel(logging.ERROR)


def quiet_tensorflow_startup() -> None:
    """Keep TensorFlow's start-up noise off a server's console; call before TensorFlow is imported.

    Without a GPU, importing TensorFlow logs CUDA-registration errors and notes from C++
    (``TF_CPP_MIN_LOG_LEVEL`` set to 3 hides them; a value the user set is kept), and the
    google libraries it imports warn that the Python version is near its end of life (a
    ``FutureWarning``, ignored unless the user passed ``-W`` or ``PYTHONWARNINGS``). Other
    warnings still show: unlike :func:`quiet_libraries`, this is for a long-running server.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if not sys.warnoptions:
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\.")


@contextlib.contextmanager
def stderr_to(path: str | None) -> Iterator[None]:
    """Send file descriptor 2 (where C++ libraries write) to the local file ``path``; a no-op for None."""
    if path is None:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with fs.open_file(path, "ab") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
