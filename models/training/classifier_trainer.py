"""One classifier run as the training environment drives it (trainer.py): on a copy of an autoencoder's encoder,
in two stages (or joint training) then self-training (classifier_stages.py), or as the ladder network
(ladder_training.py)."""

from dataclasses import asdict

from models.compute.ways import FLOAT32, Way
from models.config.classifier import ClassifierConfig
from models.networks.encoder import copy_autoencoder, decoder_view, encoder_view
from models.training.classifier_stages import ClassifierData, train_classifier, way_timer
from models.training.costs import classifier_cost
from models.training.ladder_training import train_ladder
from models.training.trainer import Trainer

LADDER_BFLOAT16 = Way("bfloat16")  # the ladder's linear maps in bfloat16, its statistics, noise and costs in float32
SHAPE_FIELDS = ("fc_units", "batch_size", "augment", "optimizer")  # with the encoder: what a step costs


class ClassifierTrainer(Trainer):
    """A classifier trained in `environment` on the encoder of `autoencoder` (loaded from `source`, of the shape
    `encoder` describes) with `data`, from `seed`; `callbacks_for(stage)` gives each stage's Keras callbacks;
    `after_stage_1(classifier)` may return values for the log row once stage 1 ends; `counts`: the validation and
    test images, which the run's cost counts."""

    def __init__(self, environment, autoencoder, source: str, encoder: dict, data: ClassifierData, *, seed: int,
                 callbacks_for=lambda stage: (), after_stage_1=None, counts: tuple[int, int] = (0, 0)):
        super().__init__(environment)
        self.autoencoder = autoencoder
        self.source = source
        self.encoder = dict(encoder)
        self.data = data
        self.seed = seed
        self.callbacks_for = callbacks_for
        self.after_stage_1 = after_stage_1
        self.counts = counts

    def shape(self, config: ClassifierConfig) -> dict:
        return {"program": "classifier", "images": "x".join(map(str, self.data.train[0].shape[1:])),
                **self.encoder, **{k: v for k, v in asdict(config).items() if k in SHAPE_FIELDS},
                "joint": config.joint is not None}

    def steps(self, config: ClassifierConfig) -> int:
        split = len(self.data.images) if self.data.images is not None else len(self.data.train[1])
        return classifier_cost(config, len(self.data.train[1]), split, *self.counts, self.data.classes).steps

    def candidates(self, config: ClassifierConfig):
        return way_timer(lambda way: self.parts(config, way)[0], config, self.data.train, seed=self.seed,
                         classes=self.data.classes)

    def fixed_way(self, config: ClassifierConfig):
        """The ladder's own way: without XLA (benchmarks/ladder_speed.py: its conv step slower with XLA on a CPU),
        in bfloat16 where `--precision bfloat16` asks for it, else in float32 (the precision every arm of a table
        computes in is the one the table's command names)."""
        if config.ladder is None:
            return None
        return LADDER_BFLOAT16 if self.environment.precision == "bfloat16" else FLOAT32

    def parts(self, config: ClassifierConfig, way):
        """The encoder and decoder of a new copy of the autoencoder, with its weights or random ones
        (`config.init`), computing in the way's precision."""
        copy = copy_autoencoder(self.autoencoder, init=config.init, seed=self.seed, policy=way.policy)
        return encoder_view(copy, self.source), decoder_view(copy, self.source)

    def fit(self, config: ClassifierConfig, way, candidates):
        encoder, decoder = self.parts(config, way)
        if config.ladder is not None:
            return train_ladder(encoder, config, self.data, seed=self.seed, callbacks=self.callbacks_for("ladder"),
                                way=way)
        return train_classifier(encoder, config, self.data, seed=self.seed, way=way, decoder=decoder,
                                after_stage_1=self.after_stage_1, callbacks_for=self.callbacks_for)
