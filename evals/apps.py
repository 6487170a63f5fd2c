from django.apps import AppConfig


class EvalsConfig(AppConfig):
    name = "evals"
    verbose_name = "Evals"

    def ready(self) -> None:
        from django.conf import settings

        from config.celery import periodic

        # Built-in scorers register on import.
        from evals import scorers  # noqa: F401

        periodic("evals-sweep", "evals.experiments_sweep", every_s=settings.EVALS_SWEEP_EVERY_S)
        periodic("evals-live-scores", "evals.live_scores_sweep", every_s=settings.EVALS_LIVE_SWEEP_EVERY_S)
