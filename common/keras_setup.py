"""Import Keras (TensorFlow backend) with TensorFlow's start-up noise kept off the user's screen.

Import this module only where a network is needed: it takes seconds. Importing it chooses the TensorFlow backend
and TensorFlow's log level where the environment has not (they must be set before TensorFlow starts), and holds
back what TensorFlow prints while it starts (replayed if it fails); nothing else. The programs call `keep_quiet`
when they start, to keep TensorFlow's and Keras' later notes off the screen too.
"""

import contextlib
import logging
import os
import sys
import tempfile
import warnings
from contextlib import contextmanager

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@contextmanager
def _stderr_captured():
    """Send file descriptor 2 to a temporary file; replay it if the block fails."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            sys.stderr.write(sink.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


with _stderr_captured():
    import keras
    import tensorflow as tf

    tf.config.list_physical_devices()  # the device scan prints its own notes: keep them captured too
    tf.constant(0)

KERAS_NOTES = (  # Keras' warnings that say nothing a user of the programs can act on, kept off the screen by message
    r".*HDF5 file.*legacy.*",  # saving .h5, the format the assignment asks for
    r"The structure of `inputs` doesn't match the expected structure",  # a named input called with a tensor
    r"__array__ implementation doesn't accept a copy keyword",  # NumPy 2 on TensorFlow's tensors, inside Keras
)


def keep_quiet() -> None:
    """For the rest of the process: TensorFlow's and absl's logs at errors only, and Keras' notes that say nothing
    a user of the programs can act on (KERAS_NOTES) not shown."""
    logging.getLogger("absl").setLevel(logging.ERROR)
    tf.get_logger().setLevel(logging.ERROR)
    with contextlib.suppress(ImportError):  # absl comes with TensorFlow; without it there is nothing to quieten
        from absl import logging as absl_logging  # absl: optional, TensorFlow brings it

        absl_logging.set_verbosity(absl_logging.ERROR)
    for note in KERAS_NOTES:
        warnings.filterwarnings("ignore", message=note)


layers = keras.layers  # imported from here, so that nothing imports Keras before the settings above

__all__ = ["keep_quiet", "keras", "layers", "tf"]
