from django.apps import AppConfig


class WorkersConfig(AppConfig):
    name = "workers"
    verbose_name = "Workers"

    def ready(self) -> None:
        from accounts.access import Who, access_holder_register
        from workers.selectors import worker_for_user

        access_holder_register(
            Who.WORKER, lambda user: worker_for_user(user=user), related="worker__pool"
        )
