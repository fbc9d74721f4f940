import os
import sys
from pathlib import Path

# TF 2.16 defaults to Keras 3, which cannot load what TFX 1.16 saves; set before any TF import.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
