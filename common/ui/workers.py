"""`--workers N` for a program's sweeps and studies: what each worker process needs to train its runs."""


def workers_for(program, count: int):
    """How a program's plan runs `count` at a time (None for one at a time): its worker factory, arguments and
    GPUs."""
    if count <= 1:
        return None
    from common.study.parallel import Workers

    placement = program.environment.placement()
    factory, args = program.worker_factory()
    return Workers(count, factory, (args,), gpus=placement.replicas if placement.kind != "cpu" else 0)
