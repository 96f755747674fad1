"""Cutting the encoder out of a loaded autoencoder: by the layer name we give it, or by its mirror point."""

from dataclasses import dataclass

from common.errors import UserError
from common.keras_setup import keras, layers
from models.config.classifier import INITS
from models.networks.autoencoder import CODE_LAYER
from models.networks.precision import in_policy

_CONVS = (layers.Conv2D, layers.Conv2DTranspose)


@dataclass(frozen=True)
class EncoderShape:
    """What the run log records of an encoder."""
    layers: int  # convolutional layers in the encoder
    filter_size: int  # kernel side of its first convolution
    filters: int  # filters of its first convolution


def copy_autoencoder(autoencoder, *, init: str = "pretrained", seed: int | None = None, policy: str | None = None
                     ) -> keras.Model:
    """A copy of `autoencoder` with its weights (`init="pretrained"`) or fresh ones of the same shape, seeded
    (`init="scratch"`), its layers computing in `policy` when one is given: to cut the encoder and the decoder
    from (`encoder_view`, `decoder_view`), which then train without changing `autoencoder`."""
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    if seed is not None:
        keras.utils.set_random_seed(seed)
    copy = keras.models.clone_model(autoencoder, clone_function=None if policy is None else in_policy(policy))
    if init == "pretrained":
        copy.set_weights(autoencoder.get_weights())
    return copy


def encoder_view(autoencoder, source="the model") -> keras.Model:
    """Return the encoder (input to code) of a mirrored convolutional autoencoder, sharing its layers: for
    inspecting it, or for training when cut from a copy (`copy_autoencoder`)."""
    input_shape = tuple(autoencoder.input_shape[1:])
    output_shape = tuple(autoencoder.output_shape[1:])
    if len(input_shape) != 3 or input_shape != output_shape:
        raise UserError(f"{source}: not an autoencoder: it maps {_shape(input_shape)} inputs to "
                        f"{_shape(output_shape)} outputs")
    names = [layer.name for layer in autoencoder.layers]
    end = autoencoder.get_layer(CODE_LAYER) if CODE_LAYER in names else _mirror_point(autoencoder, source)
    return keras.Model(autoencoder.inputs, end.output, name="encoder")


def decoder_view(autoencoder, source="the model") -> keras.Model:
    """Return the decoder (code to reconstruction) of a mirrored convolutional autoencoder, sharing its layers:
    the layers after the encoder's last one, applied in order to an input of the code's shape."""
    end = encoder_view(autoencoder, source).layers[-1]
    chain = autoencoder.layers
    code = keras.Input(shape=tuple(end.output.shape[1:]), name="code_input")
    x = code
    for layer in chain[chain.index(end) + 1:]:
        x = layer(x)
    return keras.Model(code, x, name="decoder")


def check_input(model, image_shape, source="the model", images="the images") -> None:
    """Raise UserError when the model does not take images of this shape: (rows, columns, channels), or (rows,
    columns) for grey ones."""
    expected = tuple(model.input_shape[1:])
    given = (*image_shape[:2], image_shape[2] if len(image_shape) > 2 else 1)
    if expected != given:
        raise UserError(f"{source}: expects inputs of {_shape(expected)} but {images} are {_shape(given)}")


def describe(encoder) -> EncoderShape:
    """Layers, filter size and first-layer filters of an encoder."""
    convs = [layer for layer in encoder.layers if isinstance(layer, _CONVS)]
    return EncoderShape(layers=len(convs), filter_size=int(convs[0].kernel_size[0]), filters=int(convs[0].filters))


def _mirror_point(autoencoder, source):
    """The last layer before the decoder: the first half of the convolutions (the output one aside) is the encoder."""
    chain = autoencoder.layers
    convs = [i for i, layer in enumerate(chain) if isinstance(layer, _CONVS)]
    hidden = convs[:-1]
    if not hidden or len(hidden) % 2:
        raise UserError(f"{source}: cannot find the encoder: expected a mirrored convolutional autoencoder "
                        f"(an even number of convolutions before the output one), found {len(convs)} convolutions")
    end = chain[hidden[len(hidden) // 2] - 1]
    smallest = min(_area(layer.output.shape) for layer in chain if len(layer.output.shape) == 4)
    if _area(end.output.shape) != smallest:
        raise UserError(f"{source}: cannot find the encoder: the layer at the mirror point ({end.name}) "
                        f"is not where the images are smallest")
    return end


def _area(shape) -> int:
    return shape[1] * shape[2]


def _shape(shape) -> str:
    return "x".join(str(d) for d in shape)
