"""caviar: the Python SDK of the caviar hyperparameter tuning service.

    import caviar
    client = caviar.Client("127.0.0.1:50051")
    study = client.create_study("study.yaml", load_if_exists=True)
    while (trial := study.ask()) is not None:
        with trial:
            for epoch in range(10):
                if trial.report(epoch, dev_loss=train(trial.params)):
                    break
            trial.tell(evaluate())
    print(study.best(3))

Studies whose trials are run this way are "external" (no command or trainer
in the spec); caviar-worker never takes their trials.
"""

from caviar._errors import CaviarError, LeaseLost, SpecError
from caviar.client import Client, Study
from caviar.trial import Trial
from caviar.worker import run_worker

__all__ = ["Client", "Study", "Trial", "run_worker", "CaviarError", "LeaseLost", "SpecError"]
__version__ = "0.1.0"
