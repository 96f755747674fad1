"""TensorBoard logs of a run: its scalars per epoch, stage by stage, and its hyperparameters for the HParams
plugin. Open them with `tensorboard --logdir runs/tensorboard`."""

from pathlib import Path

from tensorboard.plugins.hparams import api as hparams

from common.keras_setup import keras, tf

_written = set()  # run ids whose hyperparameters are written


class HParamsRecord(keras.callbacks.Callback):
    """Write a run's hyperparameters once, when its first stage starts, for TensorBoard's HParams plugin."""

    def __init__(self, log_dir, run_id: str, hyperparameters: dict):
        super().__init__()
        self.log_dir = Path(log_dir)
        self.run_id = run_id
        self.hyperparameters = hyperparameters

    def on_train_begin(self, logs=None):
        if self.run_id in _written:
            return  # written by the run's first stage
        _written.add(self.run_id)
        writer = tf.summary.create_file_writer(str(self.log_dir))
        with writer.as_default():
            hparams.hparams(self.hyperparameters, trial_id=self.run_id)
        writer.close()


def tensorboard_callbacks(folder, run_id: str, hyperparameters: dict, stage: str = "") -> list:
    """Keras callbacks writing the run's TensorBoard logs under `folder/run_id` (`/stage` for a stage of a run)."""
    run_dir = Path(folder) / run_id
    stage_dir = run_dir / stage.replace(" ", "-").replace(",", "") if stage else run_dir
    return [HParamsRecord(run_dir, run_id, hyperparameters),
            keras.callbacks.TensorBoard(log_dir=str(stage_dir), write_graph=False, update_freq="epoch")]
