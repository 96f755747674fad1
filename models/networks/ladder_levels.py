"""The ladder network on the workbench's own networks: the levels of an autoencoder's encoder (a convolution per
block, pooled where the encoder pools) with the classifier's head on top (its hidden dense layer, then the class
level), and the encoder's trained weights loaded into the ladder's first levels."""

from common.errors import UserError
from common.keras_setup import layers
from models.networks.ladder_encoder import Level

PRE_ACTIVATION = "autoencoder.py --block-order pre-activation"  # how to train an autoencoder the ladder can load


def head_levels(encoder, head: tuple[int, ...], classes: int) -> list[Level]:
    """The ladder's levels above the images: each convolution of `encoder`, then a dense level of each of `head`'s
    units and the class level."""
    found = []
    for layer in encoder.layers:
        if isinstance(layer, layers.Conv2D):
            found.append(Level("conv", int(layer.filters), int(layer.kernel_size[0])))
        elif isinstance(layer, layers.MaxPooling2D) and found:
            found[-1] = Level("conv", found[-1].size, found[-1].kernel, pool=True)
    return [*found, *(Level("dense", units) for units in head), Level("dense", classes)]


def load_encoder(ladder, encoder, source: str = "the autoencoder") -> None:
    """The weights of `encoder`'s blocks into `ladder`'s first levels: each convolution's kernel, and its
    normalisation's shift and moving statistics. UserError for blocks not in the ladder's order (a convolution
    without bias, then batch normalisation with a shift and no scale, then the ReLU)."""
    convs = [layer for layer in encoder.layers if isinstance(layer, layers.Conv2D)]
    norms = [layer for layer in encoder.layers if isinstance(layer, layers.BatchNormalization)]
    if len(convs) != len(norms) or any(c.use_bias or c.activation.__name__ != "linear" for c in convs) or \
            any(n.scale or not n.center for n in norms):
        raise UserError(f"{source}: the ladder needs an encoder whose blocks are a convolution without bias, then "
                        f"batch normalisation without scale, then the ReLU (train one with {PRE_ACTIVATION})")
    for i, (conv, norm) in enumerate(zip(convs, norms)):
        ladder.encoder.linears[i].kernel.assign(conv.kernel)
        ladder.encoder.beta[i].assign(norm.beta)
        mean, variance = ladder.encoder.moving[i]
        mean.assign(norm.moving_mean)
        variance.assign(norm.moving_variance)
