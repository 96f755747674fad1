"""The mirrored architecture, training on real images, Ctrl-C during training, saving and loading."""

import numpy as np
import pytest

from common.errors import UserError
from common.keras_setup import keras
from models.config.autoencoder import AutoencoderConfig
from models.networks.autoencoder import build_autoencoder
from models.training.autoencoder_training import new_autoencoder, train_autoencoder
from models.training.persistence import load_model, read_metadata, save_model, sidecar_path


def _of(model, kind):
    return [layer for layer in model.layers if isinstance(layer, kind)]


def test_encoder_doubles_filters_and_the_decoder_mirrors_it():
    model = build_autoencoder(AutoencoderConfig(layers=4, filter_size=5, filters=8))
    encoder = [model.get_layer(f"encoder_conv_{i}") for i in range(1, 5)]
    decoder = [model.get_layer(f"decoder_conv_{i}") for i in range(1, 5)]
    assert [c.filters for c in encoder] == [8, 16, 32, 64]
    assert [c.filters for c in decoder] == [64, 32, 16, 8]
    assert all(c.kernel_size == (5, 5) and c.padding == "same" for c in encoder + decoder)
    assert len(_of(model, keras.layers.BatchNormalization)) == 8
    assert model.get_layer("code").output.shape[1:] == (7, 7, 64)
    assert model.output_shape == (None, 28, 28, 1)
    assert model.get_layer("reconstruction").activation.__name__ == "sigmoid"


def test_pooling_after_the_first_two_blocks_and_upsampling_after_the_last_two():
    model = build_autoencoder(AutoencoderConfig(layers=3, filters=4))
    names = [layer.name for layer in model.layers]
    assert [n for n in names if "pool" in n] == ["encoder_pool_1", "encoder_pool_2"]
    assert [n for n in names if "upsample" in n] == ["decoder_upsample_2", "decoder_upsample_3"]
    assert names.index("encoder_pool_2") < names.index("encoder_conv_3") < names.index("code")


def test_compiled_with_mse_and_rmsprop():
    model = new_autoencoder(AutoencoderConfig(layers=2, filters=4))
    assert isinstance(model.loss, keras.losses.MeanSquaredError)
    assert isinstance(model.optimizer, keras.optimizers.RMSprop)


def test_one_epoch_lowers_the_loss_and_is_repeatable(mnist_first):
    config = AutoencoderConfig(layers=2, filters=4, epochs=2, batch_size=32)
    first = train_autoencoder(config, mnist_first[0][0], mnist_first[1][0], seed=7)
    again = train_autoencoder(config, mnist_first[0][0], mnist_first[1][0], seed=7)
    assert first.epochs_done == 2 and not first.interrupted
    assert first.history["loss"][1] < first.history["loss"][0]
    assert np.allclose(first.history["val_loss"], again.history["val_loss"], rtol=1e-4)
    assert first.model.predict(mnist_first[0][0][:3], verbose=0).shape == (3, 28, 28, 1)


class _CtrlCAtEpoch(keras.callbacks.Callback):
    """Raise KeyboardInterrupt in the middle of an epoch, as Ctrl-C would."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._epoch == self.epoch and batch == 2:
            raise KeyboardInterrupt

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch


def test_ctrl_c_keeps_the_epochs_already_finished(mnist_first):
    config = AutoencoderConfig(layers=2, filters=4, epochs=5, batch_size=32)
    result = train_autoencoder(config, mnist_first[0][0], mnist_first[1][0], seed=1, callbacks=[_CtrlCAtEpoch(2)])
    assert result.interrupted and result.epochs_done == 2
    assert len(result.history["val_loss"]) == 2


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_saved_model_loads_with_keras_and_gives_the_same_output(tmp_path, mnist_first, suffix):
    model = build_autoencoder(AutoencoderConfig(layers=2, filters=4))
    path = tmp_path / f"ae{suffix}"
    save_model(model, path, {"hyperparameters": {"layers": 2}})
    again = keras.models.load_model(path, compile=False)
    images = mnist_first[0][0][:4]
    assert np.allclose(model.predict(images, verbose=0), again.predict(images, verbose=0), atol=1e-6)
    assert read_metadata(path)["hyperparameters"]["layers"] == 2
    assert sidecar_path(path).name == f"ae{suffix}.json"


def test_save_rejects_other_suffixes(tmp_path):
    with pytest.raises(UserError, match="must end in .h5 or .keras"):
        save_model(build_autoencoder(AutoencoderConfig(layers=2, filters=4)), tmp_path / "ae.pt", {})


def test_loading_something_that_is_not_a_model(tmp_path):
    (tmp_path / "fake.h5").write_text("not a model")
    with pytest.raises(UserError, match="fake.h5: not a Keras model file"):
        load_model(tmp_path / "fake.h5")
    with pytest.raises(UserError, match="no such model file"):
        load_model(tmp_path / "missing.h5")
