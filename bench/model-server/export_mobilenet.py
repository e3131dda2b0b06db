"""Exports MobileNetV2 (random weights, seeded, nothing downloaded) for the model-server benchmark.

Usage: python export_mobilenet.py VERSION_DIR

Uses Keras' own `model.export` (signature serving_default: images float [-1,224,224,3] ->
output_0 float [-1,1000]).

Why Keras' own export and not tf.saved_model.save of a tf.Module wrapping the model: with Keras 3
the latter writes a SavedModel that Python's object-based loader runs but graph-mode loaders
(TensorFlow's C++ LoadSavedModel, used by TF Serving and by us; also tf.compat.v1's loader) do not:
"Could not find variable block_N_expand_BN/moving_mean". Checked 2026-11-22 with TF 2.21.
"""


import os
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: export_mobilenet.py VERSION_DIR")
    out = os.path.abspath(sys.argv[1])
    shutil.rmtree(out, ignore_errors=True)
    tf.keras.utils.set_random_seed(7)
    net = tf.keras.applications.MobileNetV2(weights=None)
    net.export(out, input_signature=[tf.TensorSpec([None, 224, 224, 3], tf.float32, name="images")], verbose=False)
    print(f"[export] mobilenet exported to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
