"""One autoencoder run as the training environment drives it (trainer.py)."""

from dataclasses import asdict

from models.config.autoencoder import AutoencoderConfig
from models.training.autoencoder_training import train_autoencoder, way_timer
from models.training.costs import autoencoder_cost
from models.training.trainer import Trainer

SHAPE_FIELDS = ("layers", "filter_size", "filters", "batch_size", "optimizer", "block_order")  # a step's cost


class AutoencoderTrainer(Trainer):
    """An autoencoder trained in `environment` on `train_x`, validated on `val_x`, from `seed`'s weights and batch
    order, with `callbacks` (Keras')."""

    def __init__(self, environment, train_x, val_x, *, seed: int, callbacks=()):
        super().__init__(environment)
        self.train_x = train_x
        self.val_x = val_x
        self.seed = seed
        self.callbacks = list(callbacks)

    def shape(self, config: AutoencoderConfig) -> dict:
        return {"program": "autoencoder", "images": "x".join(map(str, self.train_x.shape[1:])),
                **{k: v for k, v in asdict(config).items() if k in SHAPE_FIELDS}}

    def steps(self, config: AutoencoderConfig) -> int:
        return autoencoder_cost(config, len(self.train_x), self.train_x.shape[-1]).steps

    def candidates(self, config: AutoencoderConfig):
        return way_timer(config, self.train_x, seed=self.seed)

    def fit(self, config: AutoencoderConfig, way, candidates):
        model = candidates.model_for(way) if candidates is not None else None
        return train_autoencoder(config, self.train_x, self.val_x, seed=self.seed, callbacks=self.callbacks,
                                 way=way, model=model)
