"""Which arithmetic a network's layers compute in: copies of a model in another dtype policy, with its weights."""

from common.keras_setup import keras


def in_policy(policy: str):
    """A `keras.models.clone_model` clone function: each layer rebuilt from its config to compute in `policy`,
    nested models layer by layer."""
    def clone(layer):
        if isinstance(layer, keras.Model):
            return keras.models.clone_model(layer, clone_function=clone)
        return layer.__class__.from_config({**layer.get_config(), "dtype": policy})

    return clone


def in_float32(model):
    """`model` itself when every layer computes in float32, else a float32 copy with the same weights: what is
    saved, so a model file computes the same wherever it is loaded."""
    if all(layer.dtype_policy.name == "float32" for layer in _all_layers(model)):
        return model
    copy = keras.models.clone_model(model, clone_function=in_policy("float32"))
    copy.set_weights(model.get_weights())
    return copy


def _all_layers(model) -> list:
    """Every layer of `model`, those of nested models included."""
    found = []
    for layer in model.layers:
        found.append(layer)
        if hasattr(layer, "layers"):
            found += _all_layers(layer)
    return found
